// `ingest-file` as operators run it (a real process) on NDJSON with every kind of line a real file
// has: good ones, a redelivery, the original's "false" strings, blank lines, CRLF, bad JSON, a
// message without time, a line over 1 MiB and a last line without newline.
import { afterAll, beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_MESSAGE_BYTES } from "../../src/outcomes/outcome.mapping";
import { createTestDatabase, emptyIngestTables, type TestDatabase } from "../support/db";
import { type LogLine, type ServiceProcess, spawnRole, spawnService } from "../support/processes";

setDefaultTimeout(60_000);

let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  [db, dir] = await Promise.all([createTestDatabase("ingest_file"), mkdtemp(join(tmpdir(), "helios-ingest-file-"))]);
});

afterAll(async () => {
  await Promise.all([db?.drop(), dir ? rm(dir, { recursive: true, force: true }) : undefined]);
});

beforeEach(() => emptyIngestTables(db));

const outcome = (id: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    bid_request_id: id,
    user_id: "user-1",
    bid_price: 0.75,
    win_status: true,
    win_price: 0.75,
    timestamp: "2025-10-25T12:00:00.123456+00:00",
    ...extra,
  });

const NO_TIME = '{"bid_request_id":"test-1","user_id":"user-123","win_status":true,"win_price":10.5,"bid_price":8.0}';
const BIG = JSON.stringify({ bid_request_id: "big", pad: "x".repeat(MAX_MESSAGE_BYTES + 100_000) });

/** Line by line, numbered as the dead letters must name them. */
const LINES = [
  /* 1 */ `${outcome("req-f1")}\n`,
  /* 2 */ `${outcome("req-f1")}\n`, // a redelivery
  /* 3 */ `${outcome("req-false", { win_status: "false", win_price: 0, enriched: "false" })}\n`,
  /* 4 */ "\n",
  /* 5 */ "   \t\n",
  /* 6 */ `${outcome("req-crlf", { timestamp: "2025-10-26T00:00:00Z" })}\r\n`,
  /* 7 */ "{not json\n",
  /* 8 */ `${NO_TIME}\n`,
  /* 9 */ `${BIG}\n`,
  /* 10 */ outcome("req-last", { win_status: false, win_price: 0 }), // no newline at the end
];

async function fixtureFile(name: string, lines: readonly string[] = LINES): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, lines.join(""));
  return path;
}

async function finished(run: ServiceProcess): Promise<LogLine> {
  const code = await run.exited;
  const summary = run.lines.find((line) => line.message === "File ingest finished");
  if (code !== 0 || !summary) throw new Error(`ingest-file exited ${code}:\n${[...run.lines.map((l) => JSON.stringify(l)), ...run.other].join("\n")}`);
  return summary;
}

const ingest = (path: string, args: string[] = []) => spawnRole("ingest-file", [path, ...args], { DATABASE_URL: db.url });

const counts = (summary: LogLine) => ({
  lines: summary.lines,
  blank_lines: summary.blank_lines,
  read: summary.read,
  stored: summary.stored,
  duplicates: summary.duplicates,
  dead_lettered: summary.dead_lettered,
});

const storedRows = async () => [
  ...(await db.setup`select bid_id, win_status, enriched, win_price::text as win_price, "timestamp" from auction_outcomes order by bid_id`),
];

const deadLetters = async () => [
  ...(await db.setup`select topic, "partition", "offset"::text as "offset", length(payload) as bytes, reason from dead_letters order by "offset"`),
];

describe("ingest-file", () => {
  test("stores each good line once and dead-letters each bad one under the file's path and its line number", async () => {
    const path = await fixtureFile("mixed.ndjson");
    const summary = await finished(ingest(path, ["--batch-size", "3"]));
    expect(counts(summary)).toEqual({ lines: 10, blank_lines: 2, read: 8, stored: 4, duplicates: 1, dead_lettered: 3 });
    expect(summary.file).toBe(path);
    expect(typeof summary.seconds).toBe("number");
    expect(await storedRows()).toEqual([
      { bid_id: "req-crlf", win_status: true, enriched: false, win_price: "0.75", timestamp: "2025-10-26 00:00:00+00" },
      { bid_id: "req-f1", win_status: true, enriched: false, win_price: "0.75", timestamp: "2025-10-25 12:00:00.123456+00" },
      { bid_id: "req-false", win_status: false, enriched: false, win_price: "0", timestamp: "2025-10-25 12:00:00.123456+00" },
      { bid_id: "req-last", win_status: false, enriched: false, win_price: "0", timestamp: "2025-10-25 12:00:00.123456+00" },
    ]);
    const topic = `ingest-file:${path}`;
    expect(await deadLetters()).toEqual([
      { topic, partition: 0, offset: "7", bytes: 9, reason: "value is not valid JSON (JSON Parse error: Expected '}')" },
      {
        topic,
        partition: 0,
        offset: "8",
        bytes: NO_TIME.length,
        reason: "no auction time: expected timestamp or auction_timestamp (ISO-8601), and the source gives the message no time of its own",
      },
      {
        topic,
        partition: 0,
        offset: "9",
        bytes: MAX_MESSAGE_BYTES,
        reason: `value is ${BIG.length} bytes, over the 1 MiB limit (${MAX_MESSAGE_BYTES} bytes); the dead letter keeps its first ${MAX_MESSAGE_BYTES} bytes`,
      },
    ]);
  });

  test("stores nothing new and records no bad line twice when the same file is ingested again", async () => {
    const path = await fixtureFile("twice.ndjson");
    await finished(ingest(path));
    const before = { rows: await storedRows(), letters: await deadLetters() };
    expect(counts(await finished(ingest(path)))).toEqual({ lines: 10, blank_lines: 2, read: 8, stored: 0, duplicates: 5, dead_lettered: 3 });
    expect({ rows: await storedRows(), letters: await deadLetters() }).toEqual(before);
  });

  test("reads standard input for -, naming it stdin with the run's start time in its dead letters", async () => {
    const path = await fixtureFile("stdin.ndjson", [`${outcome("req-in")}\n`, "oops\n"]);
    const run = spawnService(["sh", "-c", `exec bun run src/main.ts ingest-file - < '${path}'`], { env: { DATABASE_URL: db.url, LOG_LEVEL: "INFO" } });
    expect(counts(await finished(run))).toEqual({ lines: 2, blank_lines: 0, read: 2, stored: 1, duplicates: 0, dead_lettered: 1 });
    const [letter] = await deadLetters();
    expect(letter).toMatchObject({ offset: "2", topic: expect.stringMatching(/^ingest-file:stdin@\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) });
  });

  test("writes JSON progress lines with rows done, rate, percent and ETA when stderr is not a terminal", async () => {
    const lines = Array.from({ length: 6_000 }, (_, i) => `${outcome(`req-p${i}`)}\n`);
    const run = ingest(await fixtureFile("progress.ndjson", lines), ["--batch-size", "50", "--progress-interval", "100"]);
    expect(counts(await finished(run))).toEqual({ lines: 6_000, blank_lines: 0, read: 6_000, stored: 6_000, duplicates: 0, dead_lettered: 0 });
    const progress = run.lines.filter((line) => line.message === "File ingest progress");
    expect(progress.length).toBeGreaterThan(0);
    expect(Object.keys(progress[0]!)).toEqual(expect.arrayContaining(["file", "rows_done", "rate_rows_per_s", "percent", "eta_s"]));
    expect(progress.map((line) => line.rows_done as number)).toEqual([...progress.map((line) => line.rows_done as number)].sort((a, b) => a - b));
  });
});

describe("ingest-file refuses", () => {
  test("a path that is not there with exit 1 and a line naming it", async () => {
    const missing = join(dir, "nope.ndjson");
    const run = ingest(missing);
    expect(await run.exited).toBe(1);
    expect(run.lines.find((line) => line.level === "ERROR")?.message).toStartWith(`Cannot read ${missing}: `);
  });

  test("a database that cannot be reached with exit 1 at once, instead of retrying the first batch", async () => {
    const path = await fixtureFile("unreachable.ndjson", [`${outcome("req-u")}\n`]);
    const run = spawnRole("ingest-file", [path], { DATABASE_URL: `${db.url}_missing` });
    expect(await run.exitedWithin(15_000)).toBe(1);
    expect(run.lines.find((line) => line.level === "ERROR")).toMatchObject({
      message: "File ingest failed; running it again stores only what is missing",
      error: expect.stringContaining("does not exist"),
    });
  });

  test.each([
    [[], "Missing the file to ingest: expected a path to an NDJSON file, or - for standard input."],
    [
      ["a.ndjson", "b.ndjson"],
      'Unexpected argument "b.ndjson": expected at most 1 NDJSON file (a path, or - for standard input) and the options --batch-size, --progress-interval.',
    ],
    [["a.ndjson", "--topic", "x"], 'Unknown option "--topic": expected --batch-size, --progress-interval.'],
  ])("usage %j with exit 2 and a line saying what is accepted", async (args, message) => {
    const run = spawnRole("ingest-file", args as string[], { DATABASE_URL: db.url });
    expect(await run.exited).toBe(2);
    expect(run.other).toEqual([message]);
  });
});
