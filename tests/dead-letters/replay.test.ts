// `bun run start replay-dead-letters`: stored dead letters through the current mapping and the
// ingest step again, as a real process against a real database. Letters that now pass are stored
// once, letters that still fail keep their dead letter with the new reason, every replay is
// recorded and shown by /api/dead_letters/, a dry run writes nothing.
import { afterAll, beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { parseOutcomeMessage } from "../../src/outcomes/outcome.mapping";
import { createTestDatabase, emptyIngestTables, type TestDatabase } from "../support/db";
import { messageOf, OUTCOMES } from "../support/fixtures";
import { testApp } from "../support/http";
import { spawnRole } from "../support/processes";

setDefaultTimeout(60_000);

let db: TestDatabase;
let api: ReturnType<typeof testApp>;

beforeAll(async () => {
  db = await createTestDatabase("dead_letter_replay");
  api = testApp(db.config, db.sql);
});

afterAll(async () => {
  await db?.drop();
});

beforeEach(async () => {
  // Deleting the letters deletes their replays too (on delete cascade).
  await emptyIngestTables(db);
});

let nextOffset = 100;

interface Letter {
  payload: string | Uint8Array | null;
  reason: string;
  receivedAt?: string;
  sourceTimestamp?: string;
}

/** A dead letter row as ingest would have stored it; returns its id. */
async function insertLetter(letter: Letter): Promise<number> {
  const payload = typeof letter.payload === "string" ? Buffer.from(letter.payload) : letter.payload;
  const [row] = await db.setup<{ id: string }[]>`
    insert into dead_letters (topic, "partition", "offset", message_key, payload, reason, received_at, source_timestamp)
    values ('auction_outcomes', 0, ${nextOffset++}, null, ${payload}, ${letter.reason},
            ${letter.receivedAt ?? "2025-10-27T10:00:00Z"}::timestamptz, ${letter.sourceTimestamp ?? null}::timestamptz)
    returning id`;
  return Number(row!.id);
}

/** A message the current mapping accepts: a fixture outcome with its own bid_id. */
const validMessage = (bidId: string, extra: Record<string, unknown> = {}) => JSON.stringify({ ...messageOf(OUTCOMES[0]!), bid_request_id: bidId, ...extra });
const REFUSED = "database refused the row: value overflows numeric format [SQLSTATE 22003]";
const BAD = '{"bid_request_id":"bad-1","win_price":"ten"}';
/** What the current mapping says of BAD: the reason its dead letter must carry after a replay. */
const BAD_REASON = (() => {
  const parsed = parseOutcomeMessage(Buffer.from(BAD), null);
  if (parsed.ok) throw new Error("BAD must fail the mapping");
  return parsed.reason;
})();

async function replay(...args: string[]) {
  const run = spawnRole("replay-dead-letters", args, { DATABASE_URL: db.url });
  const code = await run.exited;
  return { code, lines: run.lines, other: run.other, summary: run.other.at(-1) ?? "" };
}

async function outcomesOf(bidId: string) {
  return [
    ...(await db.setup<{ bid_id: string; timestamp: string; win_price: string }[]>`
    select bid_id, "timestamp", win_price::text from auction_outcomes where bid_id = ${bidId}`),
  ];
}

async function replaysOf(id: number) {
  return [
    ...(await db.setup<{ result: string; reason: string | null; previous_reason: string }[]>`
    select result, reason, previous_reason from dead_letter_replays where dead_letter_id = ${id} order by id`),
  ];
}

async function tableState() {
  const [row] = await db.setup<{ outcomes: string; letters: string; replays: string; reasons: string | null }[]>`
    select (select count(*) from auction_outcomes) as outcomes, (select count(*) from dead_letters) as letters,
           (select count(*) from dead_letter_replays) as replays,
           (select string_agg(id || ':' || reason, '|' order by id) from dead_letters) as reasons`;
  return row;
}

describe("replay-dead-letters", () => {
  test("stores a letter the database refused once the cause is fixed, and keeps the letter with its replay recorded", async () => {
    const id = await insertLetter({ payload: validMessage("fixed-1"), reason: REFUSED });
    const { code, summary, lines } = await replay();
    expect(code).toBe(0);
    expect(summary).toMatch(/^Replayed 1 dead letters: 1 stored, 0 already stored \(duplicates\), 0 still failing, kept with the new reason; \d+\.\d s\.$/);
    expect(lines.find((line) => line.message === "Replay progress")).toMatchObject({ total: 1, done: 1, stored: 1, failed: 0 });
    expect(await outcomesOf("fixed-1")).toEqual([{ bid_id: "fixed-1", timestamp: "2025-10-24 23:59:59.999999+00", win_price: "0.1" }]);
    expect(await replaysOf(id)).toEqual([{ result: "stored", reason: null, previous_reason: REFUSED }]);
    // Never deleted, reason unchanged: the record of what happened stays with it.
    const [letter] = await db.setup<{ reason: string }[]>`select reason from dead_letters where id = ${id}`;
    expect(letter!.reason).toBe(REFUSED);
  });

  test("maps a letter with the source's own time, as its first delivery was, when the message has none", async () => {
    const { timestamp: _t, auction_timestamp: _a, ...untimed } = messageOf(OUTCOMES[0]!);
    await insertLetter({
      payload: JSON.stringify({ ...untimed, bid_request_id: "untimed-1" }),
      reason: "an old mapping bug",
      sourceTimestamp: "2025-10-20T10:00:00.123Z",
    });
    expect((await replay()).code).toBe(0);
    expect((await outcomesOf("untimed-1")).map((row) => row.timestamp)).toEqual(["2025-10-20 10:00:00.123+00"]);
  });

  test("keeps a letter that still fails, with the mapping's new reason, and records the reason it had", async () => {
    const id = await insertLetter({ payload: BAD, reason: "the reason of an older release" });
    const { code, summary } = await replay();
    expect(code).toBe(0);
    expect(summary).toStartWith("Replayed 1 dead letters: 0 stored, 0 already stored (duplicates), 1 still failing");
    expect(await replaysOf(id)).toEqual([{ result: "failed", reason: BAD_REASON, previous_reason: "the reason of an older release" }]);
    const letters = await db.setup<{ id: string; reason: string }[]>`select id, reason from dead_letters`;
    expect([...letters]).toEqual([{ id: String(id), reason: BAD_REASON }]);
    expect(await outcomesOf("bad-1")).toEqual([]);
  });

  test("replaying twice stores once: a resolved letter is not replayed again, a failing one is", async () => {
    const fixed = await insertLetter({ payload: validMessage("twice-1"), reason: REFUSED });
    const failing = await insertLetter({ payload: BAD, reason: "old" });
    expect((await replay()).summary).toStartWith("Replayed 2 dead letters: 1 stored, 0 already stored (duplicates), 1 still failing");
    const second = await replay();
    expect(second.summary).toStartWith(
      "Replayed 1 dead letters: 0 stored, 0 already stored (duplicates), 1 still failing, kept with the new reason; 1 resolved by an earlier replay, not replayed;",
    );
    expect(await outcomesOf("twice-1")).toHaveLength(1);
    expect((await replaysOf(fixed)).map((r) => r.result)).toEqual(["stored"]);
    expect(await replaysOf(failing)).toEqual([
      { result: "failed", reason: BAD_REASON, previous_reason: "old" },
      { result: "failed", reason: BAD_REASON, previous_reason: BAD_REASON },
    ]);
  });

  test("stores a message dead-lettered twice (a redelivery) once: the second is a duplicate", async () => {
    const first = await insertLetter({ payload: validMessage("redelivered-1"), reason: REFUSED });
    const second = await insertLetter({ payload: validMessage("redelivered-1"), reason: REFUSED });
    // And one whose outcome was stored meanwhile by the consumer.
    await db.setup`
      insert into auction_outcomes (bid_id, user_id, win_status, win_price, bid_price, currency, enriched, "timestamp", raw_data)
      values ('meanwhile-1', 'u', false, 0, 1, 'USD', false, '2025-10-24T23:59:59.999999Z', '{}')`;
    const meanwhile = await insertLetter({ payload: validMessage("meanwhile-1"), reason: REFUSED });
    expect((await replay()).summary).toStartWith("Replayed 3 dead letters: 1 stored, 2 already stored (duplicates), 0 still failing");
    expect(await outcomesOf("redelivered-1")).toHaveLength(1);
    expect(await outcomesOf("meanwhile-1")).toHaveLength(1);
    expect([...(await replaysOf(first)), ...(await replaysOf(second)), ...(await replaysOf(meanwhile))].map((r) => r.result)).toEqual([
      "stored",
      "duplicate",
      "duplicate",
    ]);
  });

  test("--dry-run reports each letter and what would happen, and writes nothing", async () => {
    const fixed = await insertLetter({ payload: validMessage("dry-1"), reason: REFUSED });
    const failing = await insertLetter({ payload: BAD, reason: "old" });
    const before = await tableState();
    const { code, other, summary } = await replay("--dry-run");
    expect(code).toBe(0);
    expect(other.slice(0, -1)).toEqual([
      `dead letter ${fixed} (auction_outcomes / 0 / ${nextOffset - 2}) would be stored (bid_id dry-1)`,
      `dead letter ${failing} (auction_outcomes / 0 / ${nextOffset - 1}) would still fail: ${BAD_REASON}`,
    ]);
    expect(summary).toMatch(
      /^Dry run, nothing written: of 2 dead letters 1 would be stored, 0 already stored \(duplicates\), 1 would still fail; \d+\.\d s\.$/,
    );
    expect(await tableState()).toEqual(before);
  });

  test("--id picks those letters only, and may be repeated", async () => {
    const a = await insertLetter({ payload: validMessage("id-a"), reason: REFUSED });
    const b = await insertLetter({ payload: validMessage("id-b"), reason: REFUSED });
    const c = await insertLetter({ payload: validMessage("id-c"), reason: REFUSED });
    expect((await replay("--id", String(a), `--id=${c}`)).summary).toStartWith("Replayed 2 dead letters: 2 stored");
    expect([(await replaysOf(a)).length, (await replaysOf(b)).length, (await replaysOf(c)).length]).toEqual([1, 0, 1]);
    expect(await outcomesOf("id-b")).toEqual([]);
  });

  test("--reason-contains matches part of the reason, in any case", async () => {
    const refused = await insertLetter({ payload: validMessage("reason-a"), reason: REFUSED });
    const other = await insertLetter({ payload: validMessage("reason-b"), reason: "win_price is not a number" });
    expect((await replay("--reason-contains", "DATABASE REFUSED")).summary).toStartWith("Replayed 1 dead letters: 1 stored");
    expect([(await replaysOf(refused)).length, (await replaysOf(other)).length]).toEqual([1, 0]);
  });

  test("--since takes the letters received at or after the instant, and combines with the others", async () => {
    const old = await insertLetter({ payload: validMessage("since-a"), reason: REFUSED, receivedAt: "2025-10-01T00:00:00Z" });
    const onTheDot = await insertLetter({ payload: validMessage("since-b"), reason: REFUSED, receivedAt: "2025-10-02T00:00:00Z" });
    const later = await insertLetter({ payload: validMessage("since-c"), reason: "something else", receivedAt: "2025-10-03T00:00:00Z" });
    expect((await replay("--since", "2025-10-02", "--reason-contains", "refused")).summary).toStartWith("Replayed 1 dead letters: 1 stored");
    expect([(await replaysOf(old)).length, (await replaysOf(onTheDot)).length, (await replaysOf(later)).length]).toEqual([0, 1, 0]);
    expect((await replay("--since=2025-10-01T12:00:00%2B00:00".replace("%2B", "+"))).summary).toStartWith("Replayed 1 dead letters: 1 stored");
    expect((await replaysOf(later)).length).toBe(1);
  });

  test("with nothing selected says so and exits 0", async () => {
    const { code, summary } = await replay("--id", "999999");
    expect(code).toBe(0);
    expect(summary).toStartWith("Replayed 0 dead letters: 0 stored");
  });

  for (const [args, message] of [
    [["--id", "abc"], 'Invalid --id "abc": expected a dead letter id, an integer ≥ 1 (repeat --id for several).'],
    [["--id", "0"], 'Invalid --id "0": expected a dead letter id, an integer ≥ 1 (repeat --id for several).'],
    [["--since", "yesterday"], 'Invalid --since "yesterday": expected an ISO-8601 date or date-time, e.g. 2025-10-01 or 2025-10-01T12:00:00Z.'],
    [["--since", "2025-02-30"], 'Invalid --since "2025-02-30": expected an ISO-8601 date or date-time, e.g. 2025-10-01 or 2025-10-01T12:00:00Z.'],
    [["--reason-contains"], "Missing value for --reason-contains: expected text the reason contains (case-insensitive)."],
    [["--dry-run=yes"], '--dry-run takes no value (got "--dry-run=yes").'],
    [["--all"], 'Unknown option "--all": expected --id, --reason-contains, --since, --dry-run.'],
    [["12"], 'Unexpected argument "12": expected --id, --reason-contains, --since, --dry-run.'],
  ] as const) {
    test(`exits 2 for ${args.join(" ")} with a message naming the option, and touches nothing`, async () => {
      await insertLetter({ payload: validMessage("untouched-1"), reason: REFUSED });
      const before = await tableState();
      const { code, other } = await replay(...args);
      expect({ code, other }).toEqual({ code: 2, other: [message] });
      expect(await tableState()).toEqual(before);
    });
  }
});

describe("/api/dead_letters/ after a replay", () => {
  test("shows each letter's replay count and last replay, with its result and reason", async () => {
    const fixed = await insertLetter({ payload: validMessage("api-1"), reason: REFUSED, receivedAt: "2025-10-27T10:00:01Z" });
    const failing = await insertLetter({ payload: BAD, reason: "old", receivedAt: "2025-10-27T10:00:02Z" });
    const never = await insertLetter({ payload: BAD, reason: "not selected", receivedAt: "2025-10-27T10:00:03Z" });
    await replay("--id", String(fixed), "--id", String(failing));
    await replay("--id", String(failing));
    const { status, body } = await api.get("/api/dead_letters/");
    expect(status).toBe(200);
    const byId = Object.fromEntries(body.results.map((r: { id: number }) => [r.id, r]));
    expect(byId[fixed]).toMatchObject({ reason: REFUSED, replay_count: 1, last_replay: { result: "stored", reason: null } });
    expect(byId[failing]).toMatchObject({ reason: BAD_REASON, replay_count: 2, last_replay: { result: "failed", reason: BAD_REASON } });
    expect(byId[never]).toMatchObject({ reason: "not selected", replay_count: 0, last_replay: null });
    expect(byId[fixed].last_replay.replayed_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
  });
});
