// writeBatch against real PostgreSQL: one transaction per batch, duplicates skipped and counted,
// dead letters kept once, poison rows isolated, non-data failures left to the caller.
import { afterAll, beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createSql } from "../../src/db/client";
import { type MessageSource, type PendingRow, type Rejection, writeBatch } from "../../src/ingest/batch-writer";
import { type OutcomeInsert, parseOutcomeMessage } from "../../src/outcomes/outcome.mapping";
import { createTestDatabase, emptyIngestTables, type TestDatabase } from "../support/db";

setDefaultTimeout(30_000);

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase("batch_writer");
}, 30_000);

beforeEach(() => emptyIngestTables(db), 30_000);

afterAll(async () => {
  await db.drop();
}, 30_000);

const encoder = new TextEncoder();

function source(offset: number, payload: string | null = null, key: string | null = null): MessageSource {
  return {
    topic: "outcomes-test",
    partition: 2,
    offset: String(offset),
    key: key === null ? null : encoder.encode(key),
    payload: payload === null ? null : encoder.encode(payload),
    timestamp: "2025-10-25T12:00:00.000Z",
  };
}

function pending(offset: number, message: Record<string, unknown>): PendingRow {
  const text = JSON.stringify(message);
  const parsed = parseOutcomeMessage(encoder.encode(text), "2025-11-01T00:00:00Z");
  if (!parsed.ok) throw new Error(parsed.reason);
  return { row: parsed.row, source: source(offset, text, String(message.bid_request_id)) };
}

const message = (id: string, extra: Record<string, unknown> = {}) => ({
  bid_request_id: id,
  user_id: "user-1",
  bid_price: 0.8,
  win_price: 0.8,
  win_status: true,
  timestamp: "2025-10-25T12:00:00.123456+00:00",
  auction_timestamp: "2025-10-25T12:00:00.173Z",
  user_interests: ["sports"],
  ...extra,
});

async function count(table: "auction_outcomes" | "dead_letters"): Promise<number> {
  const [row] = await db.sql<{ count: string }[]>`select count(*) as count from ${db.sql(table)}`;
  return Number(row!.count);
}

describe("writeBatch", () => {
  test("stores each column as mapped, with raw_data and user_interests as JSON, not strings", async () => {
    const row = pending(0, message("w-1", { site_domain: "news.example", enriched: "true", currency: "eur", nested: { a: [1, "two", null] } }));
    expect(await writeBatch(db.sql, { rows: [row], rejections: [] })).toMatchObject({ inserted: 1, duplicates: 0, deadLettered: 0, insertedBidIds: ["w-1"] });
    const [stored] = await db.sql`
      select bid_id, user_id, site_domain, win_status, win_price::text as win_price, bid_price::text as bid_price, currency, enriched,
             "timestamp", auction_timestamp, user_interests, raw_data,
             jsonb_typeof(raw_data) as raw_type, jsonb_typeof(user_interests) as interests_type
      from auction_outcomes`;
    expect(stored).toEqual({
      bid_id: "w-1",
      user_id: "user-1",
      site_domain: "news.example",
      win_status: true,
      win_price: "0.8",
      bid_price: "0.8",
      currency: "EUR",
      enriched: true,
      timestamp: "2025-10-25 12:00:00.123456+00",
      auction_timestamp: "2025-10-25 12:00:00.173+00",
      user_interests: ["sports"],
      raw_data: JSON.parse(JSON.stringify(message("w-1", { site_domain: "news.example", enriched: "true", currency: "eur", nested: { a: [1, "two", null] } }))),
      raw_type: "object",
      interests_type: "array",
    });
  });

  test("keeps prices exactly, beyond what a float can hold", async () => {
    const row = pending(0, message("w-exact", { win_price: "123456789012.123456789012345", bid_price: "0.000000000000000001" }));
    await writeBatch(db.sql, { rows: [row], rejections: [] });
    const [stored] = await db.sql`select win_price::text as win_price, bid_price::text as bid_price from auction_outcomes`;
    expect(stored).toEqual({ win_price: "123456789012.123456789012345", bid_price: "0.000000000000000001" });
  });

  test("inserts 10,000 rows in one statement, far past the 65,534 bind parameters of one value each", async () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => pending(i, message(`bulk-${i}`)));
    expect(await writeBatch(db.sql, { rows, rejections: [] })).toMatchObject({ inserted: 10_000, duplicates: 0 });
    expect(await count("auction_outcomes")).toBe(10_000);
  });

  test("counts a bid_id already stored, or repeated in the batch, as a duplicate and keeps the first", async () => {
    await writeBatch(db.sql, { rows: [pending(0, message("d-1", { user_id: "first" }))], rejections: [] });
    const result = await writeBatch(db.sql, {
      rows: [
        pending(1, message("d-1", { user_id: "second" })),
        pending(2, message("d-2", { user_id: "first" })),
        pending(3, message("d-2", { user_id: "second" })),
      ],
      rejections: [],
    });
    expect(result).toMatchObject({ inserted: 1, duplicates: 2, deadLettered: 0, insertedBidIds: ["d-2"] });
    expect([...(await db.sql`select bid_id, user_id from auction_outcomes order by bid_id`)]).toEqual([
      { bid_id: "d-1", user_id: "first" },
      { bid_id: "d-2", user_id: "first" },
    ]);
  });

  test("stores dead letters with key and payload bytes as received, once per source position", async () => {
    const payload = new Uint8Array([0x7b, 0xff, 0x00, 0x7d]);
    const rejection: Rejection = { source: { ...source(41), key: encoder.encode("k-1"), payload }, reason: "value is not valid UTF-8" };
    const tombstone: Rejection = { source: source(42), reason: "message has no value (a tombstone or an empty record)" };
    expect(await writeBatch(db.sql, { rows: [pending(40, message("ok-1"))], rejections: [rejection, tombstone] })).toMatchObject({
      inserted: 1,
      deadLettered: 2,
    });
    // The same bad messages delivered again: counted again, stored once.
    expect(await writeBatch(db.sql, { rows: [], rejections: [rejection, tombstone] })).toMatchObject({ inserted: 0, deadLettered: 2 });
    const letters = await db.sql<{ topic: string; partition: number; offset: string; message_key: Buffer | null; payload: Buffer | null; reason: string }[]>`
      select topic, "partition", "offset", message_key, payload, reason from dead_letters order by "offset"`;
    expect(letters.map((l) => ({ ...l, message_key: l.message_key && [...l.message_key], payload: l.payload && [...l.payload] }))).toEqual([
      {
        topic: "outcomes-test",
        partition: 2,
        offset: "41",
        message_key: [...encoder.encode("k-1")],
        payload: [0x7b, 0xff, 0x00, 0x7d],
        reason: "value is not valid UTF-8",
      },
      { topic: "outcomes-test", partition: 2, offset: "42", message_key: null, payload: null, reason: "message has no value (a tombstone or an empty record)" },
    ]);
  });

  test("does nothing, in no transaction, for an empty batch", async () => {
    expect(await writeBatch(db.sql, { rows: [], rejections: [] })).toEqual({ inserted: 0, duplicates: 0, deadLettered: 0, insertedBidIds: [], refused: [] });
  });

  test("isolates the rows the database refuses, dead-letters them with its reason and stores all the others", async () => {
    await db.sql`alter table auction_outcomes add constraint test_no_bad_user check (user_id not like 'bad-%')`;
    try {
      const rows = Array.from({ length: 1_000 }, (_, i) => pending(i, message(`p-${i}`, { user_id: i === 3 || i === 777 ? `bad-${i}` : "good" })));
      const result = await writeBatch(db.sql, { rows, rejections: [{ source: source(5_000, "nope"), reason: "value is not valid JSON" }] });
      expect(result).toMatchObject({ inserted: 998, duplicates: 0, deadLettered: 3 });
      expect(result.refused.map((r) => r.source.offset)).toEqual(["3", "777"]);
      expect(await count("auction_outcomes")).toBe(998);
      const letters = await db.sql<{ offset: string; reason: string; payload: Buffer }[]>`select "offset", reason, payload from dead_letters order by "offset"`;
      expect(letters.map((l) => l.offset)).toEqual(["3", "777", "5000"]);
      expect(letters[0]!.reason).toBe(
        'database refused the row: new row for relation "auction_outcomes_20251025" violates check constraint "test_no_bad_user" (Failing row contains ' +
          letters[0]!.reason.split("(Failing row contains ")[1]!.split(") [SQLSTATE")[0] +
          ") [SQLSTATE 23514]",
      );
      expect(JSON.parse(Buffer.from(letters[1]!.payload).toString()).user_id).toBe("bad-777");
    } finally {
      await db.sql`alter table auction_outcomes drop constraint test_no_bad_user`;
    }
  });

  test("throws and stores nothing when the failure is not the rows' fault, so the caller retries the batch", async () => {
    const impatient = createSql(db.config.db, { max: 1, statementTimeoutMs: 300 });
    try {
      const locked = db.sql.begin(async (tx) => {
        await tx`lock table auction_outcomes in access exclusive mode`;
        await Bun.sleep(1_000);
      });
      await Bun.sleep(100);
      const attempt = writeBatch(impatient, { rows: [pending(0, message("t-1"))], rejections: [{ source: source(1), reason: "x" }] });
      expect(attempt).rejects.toMatchObject({ code: "57014" });
      await attempt.catch(() => {});
      await locked;
      expect(await count("auction_outcomes")).toBe(0);
      expect(await count("dead_letters")).toBe(0);
    } finally {
      await impatient.end({ timeout: 1 });
    }
  });
});

describe("writeBatch row shape", () => {
  test("takes the rows of any source: the mapping's OutcomeInsert plus a source position", () => {
    const insert: OutcomeInsert = pending(0, message("shape")).row;
    expect(Object.keys(insert).sort()).toEqual([
      "auction_timestamp",
      "bid_id",
      "bid_price",
      "currency",
      "enriched",
      "raw_data",
      "site_domain",
      "timestamp",
      "user_id",
      "user_interests",
      "win_price",
      "win_status",
    ]);
  });
});
