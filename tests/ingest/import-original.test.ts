// `import-original` as operators run it (a real process) from a table made with the original's DDL
// in a second database: every bug of the original corrected through raw_data, duplicates stored
// once, rows without a usable message kept as dead letters naming their id, re-runs and a kill -9
// followed by a resume giving exactly the same set.
import { afterAll, beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { createOriginalDatabase, generateOriginalRows, insertOriginalRows, type OriginalFixture } from "../support/original-service";
import { type LogLine, type ServiceProcess, spawnRole } from "../support/processes";
import { waitFor } from "../support/wait";

setDefaultTimeout(60_000);

let ours: TestDatabase;
let original: TestDatabase;

beforeAll(async () => {
  [ours, original] = await Promise.all([createTestDatabase("import_ours"), createOriginalDatabase("import_original")]);
});

afterAll(async () => {
  await Promise.all([ours?.drop(), original?.drop()]);
});

beforeEach(async () => {
  await ours.setup`delete from auction_outcomes`;
  await ours.setup`delete from dead_letters`;
  await ours.setup`delete from import_progress`;
  // Ids from 1 again in every test: the generated tables' counts follow from their ids.
  await original.setup`truncate outcomes_auctionoutcome restart identity`;
});

const importRun = (args: string[] = [], sourceUrl = original.url): ServiceProcess =>
  spawnRole("import-original", ["--source-url", sourceUrl, "--progress-interval", "100", ...args], { DATABASE_URL: ours.url });

async function finished(run: ServiceProcess): Promise<LogLine> {
  const code = await run.exited;
  const summary = run.lines.find((line) => line.message === "Import from the original finished");
  if (code !== 0 || !summary) throw new Error(`import exited ${code}:\n${[...run.lines.map((l) => JSON.stringify(l)), ...run.other].join("\n")}`);
  return summary;
}

const counts = (summary: LogLine) => ({
  read: summary.read,
  stored: summary.stored,
  duplicates: summary.duplicates,
  dead_lettered: summary.dead_lettered,
});

const TOPIC = () => `import-original:${new URL(original.url).host}/${original.name}/public.outcomes_auctionoutcome`;

// Each row carries one of the original's bugs in its columns; raw_data holds the message as received.
const FIXTURES: OriginalFixture[] = [
  // bool("false") was true: both flags stored as true.
  {
    id: 1,
    bid_id: "req-false",
    win_status: true,
    win_price: "0",
    bid_price: "0.80",
    enriched: true,
    timestamp: "2026-01-05T09:00:00Z",
    raw_data: JSON.stringify({
      bid_request_id: "req-false",
      user_id: "user-1",
      bid_price: 0.8,
      currency: "USD",
      timestamp: "2025-10-25T12:00:00.123456+00:00",
      enriched: "false",
      win_status: "false",
      win_price: 0,
      auction_timestamp: "2025-10-25T12:00:00.173Z",
    }),
  },
  // The insert time (a day and more later) stored as the auction time.
  {
    id: 2,
    bid_id: "req-won",
    win_status: true,
    win_price: "0.75",
    bid_price: "0.75",
    enriched: true,
    timestamp: "2026-01-05T09:00:01Z",
    raw_data: JSON.stringify({
      bid_request_id: "req-won",
      user_id: "user-2",
      site_domain: "news.example.com",
      bid_price: 0.75,
      win_status: true,
      win_price: 0.75,
      timestamp: "2025-10-24T23:59:59.999999+00:00",
      enriched: true,
      user_interests: ["sports"],
    }),
  },
  // An unparsable price stored as 0.00: today's mapping refuses to guess.
  {
    id: 3,
    bid_id: "req-price",
    win_status: true,
    win_price: "0",
    bid_price: "0",
    enriched: false,
    timestamp: "2026-01-05T09:00:02Z",
    raw_data: JSON.stringify({ bid_request_id: "req-price", bid_price: "N/A", win_status: true, win_price: "N/A", timestamp: "2025-10-25T12:00:01+00:00" }),
  },
  // A redelivery the original stored twice, at two insert times.
  ...[4, 5].map((id) => ({
    id,
    bid_id: "req-dup",
    win_status: false,
    win_price: "0",
    bid_price: "1.10",
    enriched: false,
    timestamp: `2026-01-05T09:00:0${id}Z`,
    raw_data: JSON.stringify({
      bid_request_id: "req-dup",
      user_id: "user-3",
      bid_price: "1.10",
      win_status: false,
      win_price: 0,
      timestamp: "2025-10-25T08:00:00Z",
    }),
  })),
  // No message kept: an empty object and JSON null.
  { id: 6, bid_id: "req-empty", win_status: false, win_price: "0", bid_price: "0", enriched: false, timestamp: "2026-01-05T09:00:06Z", raw_data: "{}" },
  { id: 7, bid_id: "req-null", win_status: false, win_price: "0", bid_price: "0", enriched: false, timestamp: "2026-01-05T09:00:07Z", raw_data: "null" },
  // Not an outcome at all.
  { id: 8, bid_id: "unknown", win_status: false, win_price: "0", bid_price: "0", enriched: false, timestamp: "2026-01-05T09:00:08Z", raw_data: '"garbage"' },
  {
    id: 9,
    bid_id: "unknown",
    win_status: false,
    win_price: "0",
    bid_price: "0",
    enriched: false,
    timestamp: "2026-01-05T09:00:09Z",
    raw_data: '{"user_id":"u-9"}',
  },
  // A minimal hand-made message without any time, and its redelivery inserted 0.5 s later.
  ...[10, 11].map((id) => ({
    id,
    bid_id: "test-1",
    win_status: true,
    win_price: "10.50",
    bid_price: "8.00",
    enriched: false,
    timestamp: id === 10 ? "2026-01-05T09:00:09.5Z" : "2026-01-05T09:00:10Z",
    raw_data: '{"bid_request_id":"test-1","user_id":"user-123","win_status":true,"win_price":10.5,"bid_price":8.0}',
  })),
];

const storedRows = async () => [
  ...(await ours.setup`
  select bid_id, user_id, site_domain, win_status, enriched, win_price::text as win_price, bid_price::text as bid_price,
         "timestamp", auction_timestamp, user_interests
  from auction_outcomes order by bid_id`),
];

const deadLetters = async () => [
  ...(await ours.setup`
  select topic, "partition", "offset"::text as "offset", convert_from(message_key, 'UTF8') as key,
         convert_from(payload, 'UTF8') as payload, reason
  from dead_letters order by "offset"`),
];

describe("import-original", () => {
  test("derives every row from raw_data, so the original's bugs do not come along, and dead-letters what it cannot read by original id", async () => {
    await insertOriginalRows(original.setup, FIXTURES);
    const summary = await finished(importRun(["--batch-size", "3"]));
    expect(counts(summary)).toEqual({ read: 11, stored: 4, duplicates: 2, dead_lettered: 5 });
    expect(summary.last_id).toBe("11");
    expect(typeof summary.seconds).toBe("number");
    expect(await storedRows()).toEqual([
      {
        bid_id: "req-dup",
        user_id: "user-3",
        site_domain: null,
        win_status: false,
        enriched: false,
        win_price: "0",
        bid_price: "1.10",
        timestamp: "2025-10-25 08:00:00+00",
        auction_timestamp: null,
        user_interests: [],
      },
      // "false" is false; the message's own time, not the insert time.
      {
        bid_id: "req-false",
        user_id: "user-1",
        site_domain: null,
        win_status: false,
        enriched: false,
        win_price: "0",
        bid_price: "0.8",
        timestamp: "2025-10-25 12:00:00.123456+00",
        auction_timestamp: "2025-10-25 12:00:00.173+00",
        user_interests: [],
      },
      {
        bid_id: "req-won",
        user_id: "user-2",
        site_domain: "news.example.com",
        win_status: true,
        enriched: true,
        win_price: "0.75",
        bid_price: "0.75",
        timestamp: "2025-10-24 23:59:59.999999+00",
        auction_timestamp: null,
        user_interests: ["sports"],
      },
      // No time in the message: the original's stored timestamp, the same on every run.
      {
        bid_id: "test-1",
        user_id: "user-123",
        site_domain: null,
        win_status: true,
        enriched: false,
        win_price: "10.5",
        bid_price: "8",
        timestamp: "2026-01-05 09:00:09.5+00",
        auction_timestamp: null,
        user_interests: [],
      },
    ]);
    const topic = TOPIC();
    // raw_data as jsonb gives it back: keys reordered, spaces added, values intact.
    const JSON_OF_ROW_3 =
      '{"bid_price": "N/A", "timestamp": "2025-10-25T12:00:01+00:00", "win_price": "N/A", "win_status": true, "bid_request_id": "req-price"}';
    expect(await deadLetters()).toEqual([
      { topic, partition: 0, offset: "3", key: "req-price", payload: JSON_OF_ROW_3, reason: 'win_price is not a number: got "N/A"' },
      {
        topic,
        partition: 0,
        offset: "6",
        key: "req-empty",
        payload: null,
        reason:
          'original row id 6 (bid_id "req-empty") has no raw_data: the message as received is missing, and its other columns carry the original\'s bugs, so no outcome is rebuilt from them',
      },
      {
        topic,
        partition: 0,
        offset: "7",
        key: "req-null",
        payload: null,
        reason:
          'original row id 7 (bid_id "req-null") has no raw_data: the message as received is missing, and its other columns carry the original\'s bugs, so no outcome is rebuilt from them',
      },
      { topic, partition: 0, offset: "8", key: "unknown", payload: '"garbage"', reason: "value is JSON but not an object (got a string)" },
      {
        topic,
        partition: 0,
        offset: "9",
        key: "unknown",
        payload: '{"user_id": "u-9"}',
        reason: "no bid id: expected a non-empty string in bid_request_id or bid_id",
      },
    ]);
  });

  test("stores nothing new when run again, and nothing new either when started over from the first id", async () => {
    await insertOriginalRows(original.setup, FIXTURES);
    await finished(importRun());
    const before = { rows: await storedRows(), letters: await deadLetters() };
    expect(counts(await finished(importRun()))).toEqual({ read: 0, stored: 0, duplicates: 0, dead_lettered: 0 });
    await ours.setup`delete from import_progress`;
    expect(counts(await finished(importRun()))).toEqual({ read: 11, stored: 0, duplicates: 6, dead_lettered: 5 });
    expect({ rows: await storedRows(), letters: await deadLetters() }).toEqual(before);
    const [progress] = await ours.setup`select source, source_table, last_id::text as last_id from import_progress`;
    expect(progress).toEqual({ source: `${new URL(original.url).host}/${original.name}`, source_table: "public.outcomes_auctionoutcome", last_id: "11" });
  });

  test("imports only the rows added to the original since the last run", async () => {
    await insertOriginalRows(original.setup, FIXTURES.slice(0, 2));
    expect(counts(await finished(importRun()))).toEqual({ read: 2, stored: 2, duplicates: 0, dead_lettered: 0 });
    await insertOriginalRows(original.setup, FIXTURES.slice(2));
    expect(counts(await finished(importRun()))).toEqual({ read: 9, stored: 2, duplicates: 2, dead_lettered: 5 });
  });

  test("resumes after a kill -9 where it stopped and ends with exactly the original's distinct outcomes", async () => {
    await generateOriginalRows(original.setup, 30_000, 27_000);
    const first = importRun(["--batch-size", "100"]);
    const progressLine = await first.waitForLine("a progress line", (line) => line.message === "Import progress", 30_000);
    expect(Object.keys(progressLine)).toEqual(expect.arrayContaining(["rows_done", "rate_rows_per_s", "eta_s", "percent"]));
    await waitFor("3,000 rows committed", async () => {
      const [row] = await ours.setup`select last_id from import_progress`;
      return row && Number(row.last_id) >= 3_000 ? true : undefined;
    });
    first.proc.kill(9);
    expect(await first.exited).toBe(137);
    const [stoppedAt] = await ours.setup`select last_id::text as last_id from import_progress`;
    expect(Number(stoppedAt!.last_id)).toBeLessThan(30_000);
    expect(first.lines.some((line) => line.message === "Import from the original finished")).toBe(false);

    const resumed = await finished(importRun(["--batch-size", "1000"]));
    expect(Number(resumed.resumed_after_id)).toBeGreaterThanOrEqual(Number(stoppedAt!.last_id));
    expect(resumed.last_id).toBe("30000");
    const [stored] = await ours.setup`select count(*)::int as rows, count(distinct bid_id)::int as bids from auction_outcomes`;
    const [expected] = await original.setup`
      select count(distinct raw_data->>'bid_request_id')::int as bids from outcomes_auctionoutcome where raw_data ? 'bid_request_id'`;
    expect(stored).toEqual({ rows: expected!.bids, bids: expected!.bids });
    // 27,000 bid ids, less the 27 whose every row is one of the rows without a bid id.
    expect(expected!.bids).toBe(26_973);
    const missing = await original.setup`
      select count(distinct raw_data->>'bid_request_id')::int as n from outcomes_auctionoutcome
      where raw_data->>'bid_request_id' <> all(${(await ours.setup`select bid_id from auction_outcomes`).map((row) => row.bid_id as string)}::text[])`;
    expect(missing[0]!.n).toBe(0);
    const [letters] = await ours.setup`select count(*)::int as n, min("offset")::int as first, max("offset")::int as last from dead_letters`;
    expect(letters).toEqual({ n: 30, first: 1000, last: 30_000 });
  });

  test("stops after the batch in hand on SIGTERM with exit 143 and a summary saying how to resume", async () => {
    await generateOriginalRows(original.setup, 30_000, 30_000);
    const run = importRun(["--batch-size", "100"]);
    await waitFor("1,000 rows committed", async () => {
      const [row] = await ours.setup`select last_id from import_progress`;
      return row && Number(row.last_id) >= 1_000 ? true : undefined;
    });
    run.proc.kill("SIGTERM");
    expect(await run.exitedWithin(15_000)).toBe(143);
    const stopped = run.lines.find((line) => line.message === "Import from the original stopped; run the same command again to resume");
    const [progress] = await ours.setup`select last_id::text as last_id, rows_read::int as rows_read from import_progress`;
    // Ids 1…last are done, every 1,000th of them without a bid id: the summary, the progress and
    // the tables say the same.
    const last = Number(progress!.last_id);
    const bad = Math.floor(last / 1_000);
    expect(stopped).toMatchObject({ last_id: progress!.last_id, read: last, stored: last - bad, duplicates: 0, dead_lettered: bad });
    expect(progress!.rows_read).toBe(last);
    const [stored] = await ours.setup`select count(*)::int as n from auction_outcomes`;
    const [letters] = await ours.setup`select count(*)::int as n from dead_letters`;
    expect({ stored: stored!.n, letters: letters!.n }).toEqual({ stored: last - bad, letters: bad });
  });

  test("never writes the source URL's password in any line", async () => {
    await insertOriginalRows(original.setup, FIXTURES.slice(0, 1));
    const url = new URL(original.url);
    url.password = "s3cret-pass-42"; // the test server trusts local connections: any password works
    const run = importRun([], url.toString());
    await finished(run);
    const output = [...run.lines.map((line) => JSON.stringify(line)), ...run.other].join("\n");
    expect(output).toContain("Import from the original finished");
    expect(output).not.toContain("s3cret-pass-42");
  });
});

describe("import-original refuses", () => {
  test("a source table that lacks the original's columns, naming the missing ones", async () => {
    await original.setup`create table if not exists not_the_original (id bigint primary key, bid_id text)`;
    const run = importRun(["--table", "not_the_original"]);
    expect(await run.exited).toBe(1);
    const error = run.lines.find((line) => line.level === "ERROR");
    expect(error?.message).toBe(
      `Table public.not_the_original in ${new URL(original.url).host}/${original.name} is not the original's outcomes table: missing columns timestamp, raw_data (the import reads id, timestamp, raw_data, bid_id).`,
    );
  });

  test("a table that does not exist, naming it and the flag", async () => {
    const run = importRun(["--table", "no_such_table"]);
    expect(await run.exited).toBe(1);
    expect(run.lines.find((line) => line.level === "ERROR")?.message).toBe(
      `Table no_such_table not found in ${new URL(original.url).host}/${original.name}: pass --table with the original's table (default outcomes_auctionoutcome).`,
    );
  });

  test("our database that cannot be reached with exit 1 at once, naming the error", async () => {
    const run = spawnRole("import-original", ["--source-url", original.url], { DATABASE_URL: `${ours.url}_missing` });
    expect(await run.exitedWithin(15_000)).toBe(1);
    expect(run.lines.find((line) => line.level === "ERROR")).toMatchObject({
      message: "Import from the original failed; run the same command again to resume",
      error: expect.stringContaining("does not exist"),
    });
  });

  test.each([
    [[], "Missing --source-url: expected the original's database as postgres://user[:password]@host[:port]/database."],
    [["--source-url", "mysql://h/db"], "Invalid --source-url: expected a postgres:// or postgresql:// URL (got mysql://…)."],
    [["--source-url", "not a url"], "Invalid --source-url: expected postgres://user[:password]@host[:port]/database (got something that is not a URL)."],
    [["--source-url", "postgres://h:5432/"], "Invalid --source-url: expected postgres://user[:password]@host[:port]/database with a host and a database name."],
    [["--source-url", "postgres://h/db", "--since", "x"], 'Unknown option "--since": expected --source-url, --table, --batch-size, --progress-interval.'],
    [["--source-url", "postgres://h/db", "--batch-size", "0"], 'Invalid --batch-size "0": expected rows per transaction, 1 to 10000 (default 2000).'],
  ])("usage %j with exit 2 and a line saying what is accepted", async (args, message) => {
    const run = spawnRole("import-original", args as string[], { DATABASE_URL: ours.url });
    expect(await run.exited).toBe(2);
    expect(run.other).toEqual([message]);
  });
});
