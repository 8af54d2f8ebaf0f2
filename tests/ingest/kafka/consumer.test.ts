// The consumer in-process against the real broker and PostgreSQL: mapping end to end,
// redelivery, invalid messages, poison rows, logs and lag.
import { afterAll, beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { sampleOutcome } from "../../../src/ingest/kafka/produce-sample";
import { type OutcomeInsert, parseOutcomeMessage } from "../../../src/outcomes/outcome.mapping";
import { seededRandom } from "../../../src/simulate/generator";
import { isoUtc } from "../../../src/values/timestamps";
import { consumerConfig, type InProcessConsumer, kafkaEnv, startTestConsumer } from "../../support/consumer";
import { createTestDatabase, emptyIngestTables, type TestDatabase } from "../../support/db";
import { testApp } from "../../support/http";
import { closeKafka, committedOffsets, createTopic, endOffsets, produce, type TestMessage, uniqueName, waitForCommittedToEnd } from "../../support/kafka";
import { waitFor } from "../../support/wait";

setDefaultTimeout(30_000);

let db: TestDatabase;
const running: InProcessConsumer[] = [];

beforeAll(async () => {
  db = await createTestDatabase("consumer");
}, 30_000);

beforeEach(() => emptyIngestTables(db), 30_000);

afterAll(async () => {
  await Promise.all(running.splice(0).map((consumer) => consumer.stop().catch(() => {})));
  await closeKafka();
  await db.drop();
}, 30_000);

function outcomes(prefix: string, count: number, seed = 1): Record<string, unknown>[] {
  const random = seededRandom(seed);
  const start = Date.parse("2025-10-25T00:00:00Z");
  return Array.from({ length: count }, (_, i) => sampleOutcome(`${prefix}-${i}`, new Date(start + i * 997_000), random));
}

const asMessage = (outcome: Record<string, unknown>): TestMessage => ({ key: outcome.bid_request_id as string, value: JSON.stringify(outcome) });

async function consume(topic: string, group = uniqueName("group"), options = {}, level: "DEBUG" | "INFO" = "INFO") {
  const consumer = await startTestConsumer(consumerConfig(db.url, kafkaEnv(topic, group)), options, level);
  running.push(consumer);
  return { consumer, group };
}

async function stop(consumer: InProcessConsumer) {
  await consumer.stop();
  running.splice(running.indexOf(consumer), 1);
}

/** UTC timestamps compared as instants written the same way: ISO, Z, no trailing fraction zeros. */
function canonicalUtc(text: string | null): string | null {
  if (text === null) return null;
  return text
    .replace(" ", "T")
    .replace(/(\+00(:00)?|Z)$/, "Z")
    .replace(/\.(\d*?)0*Z$/, (_, digits: string) => (digits ? `.${digits}Z` : "Z"));
}

/** The inserted columns as read back; raw_data as the driver parses jsonb. */
type StoredRow = Omit<OutcomeInsert, "raw_data"> & { raw_data: unknown };

const comparable = (row: OutcomeInsert | StoredRow) => ({
  ...row,
  timestamp: canonicalUtc(row.timestamp.includes(" ") ? isoUtc(row.timestamp) : row.timestamp),
  auction_timestamp: canonicalUtc(row.auction_timestamp),
});

async function storedRows(): Promise<StoredRow[]> {
  return db.sql<StoredRow[]>`
    select bid_id, user_id, site_domain, win_status, win_price::text as win_price, bid_price::text as bid_price,
           currency, enriched, "timestamp", auction_timestamp, user_interests, raw_data
    from auction_outcomes order by bid_id`;
}

async function countRows(): Promise<number> {
  const [row] = await db.sql<{ count: string }[]>`select count(*) as count from auction_outcomes`;
  return Number(row!.count);
}

describe("consumer: valid outcomes", () => {
  test("stores N valid messages from 3 partitions as exactly N rows, field by field as mapped", async () => {
    const topic = await createTopic("valid", 3);
    const sent = outcomes("valid", 600, 7);
    await produce(topic, sent.map(asMessage));
    const { consumer, group } = await consume(topic);
    await waitForCommittedToEnd(group, topic);

    const expected = sent
      .map((outcome) => parseOutcomeMessage(new TextEncoder().encode(JSON.stringify(outcome)), "2000-01-01T00:00:00Z"))
      .map((parsed) => (parsed.ok ? parsed.row : null))
      .sort((a, b) => (a!.bid_id < b!.bid_id ? -1 : 1)) as OutcomeInsert[];
    const rows = await storedRows();
    expect(rows).toHaveLength(600);
    expect(rows.map(comparable)).toEqual(expected.map(comparable));

    // Spread over the partitions, and every offset committed.
    expect(Object.keys(await endOffsets(topic))).toHaveLength(3);
    expect(consumer.handle.stats).toMatchObject({ totalMessages: 600, successCount: 600, duplicateCount: 0, errorCount: 0 });
    expect(new Set(consumer.lines.filter((l) => l.message === "Auction outcomes saved").map((l) => l.partition))).toEqual(new Set([0, 1, 2]));
    await stop(consumer);
  });

  test("serves stats equal to the figures computed from the messages sent", async () => {
    const topic = await createTopic("stats", 2);
    const sent = outcomes("stats", 400, 11);
    await produce(topic, sent.map(asMessage));
    const { consumer, group } = await consume(topic);
    await waitForCommittedToEnd(group, topic);
    await stop(consumer);

    const cents = (price: unknown) => Math.round(Number(price) * 100);
    const wins = sent.filter((o) => o.win_status === true);
    const revenueCents = wins.reduce((sum, o) => sum + cents(o.win_price), 0);
    const bidCents = sent.reduce((sum, o) => sum + cents(o.bid_price), 0);
    const { status, body } = await testApp(db.config, db.sql).get("/api/outcomes/stats/");
    expect(status).toBe(200);
    expect(body).toMatchObject({
      total_outcomes: 400,
      total_wins: wins.length,
      total_losses: 400 - wins.length,
      total_revenue: revenueCents / 100,
      enriched_count: sent.filter((o) => o.enriched === true).length,
      win_rate: Math.round((wins.length * 10000) / 400) / 100,
    });
    expect(body.average_win_price).toBeCloseTo(revenueCents / 100 / wins.length, 10);
    expect(body.average_bid_price).toBeCloseTo(bidCents / 100 / 400, 10);
  });

  test("logs one INFO line per batch, DEBUG lines per saved outcome only at DEBUG, and the lag per partition", async () => {
    const topic = await createTopic("logs", 2);
    const sent = outcomes("logs", 50, 3);
    await produce(topic, sent.map(asMessage));
    const { consumer, group } = await consume(topic, undefined, { lagIntervalMs: 300 }, "DEBUG");
    await waitForCommittedToEnd(group, topic);
    const lag = await waitFor("a lag line showing 0 on both partitions", () => consumer.lines.find((l) => l.message === "Consumer lag" && l.total_lag === 0));
    expect(lag).toMatchObject({ level: "INFO", topic, group, lag: { "0": 0, "1": 0 }, total_lag: 0 });
    await stop(consumer);

    const batches = consumer.lines.filter((l) => l.message === "Auction outcomes saved");
    expect(batches.every((l) => l.level === "INFO" && typeof l.duration_ms === "number" && l.invalid === 0 && l.duplicates === 0)).toBe(true);
    expect(batches.reduce((sum, l) => sum + (l.count as number), 0)).toBe(50);
    for (const line of batches) {
      expect(Object.keys(line).sort()).toEqual(
        ["count", "duplicates", "duration_ms", "first_offset", "invalid", "last_offset", "level", "message", "partition", "timestamp"].sort(),
      );
    }
    const saved = consumer.lines.filter((l) => l.message === "Auction outcome saved");
    expect(saved).toHaveLength(50);
    expect(saved.every((l) => l.level === "DEBUG")).toBe(true);
    const first = sent[0]!;
    expect(saved.find((l) => l.bid_id === first.bid_request_id)).toMatchObject({ win_status: first.win_status, win_price: String(first.win_price) });
    const messages = consumer.lines.map((l) => l.message);
    expect(messages).toContain("Starting auction outcomes consumer");
    expect(messages).toContain("Kafka consumer started");
    expect(messages.indexOf("Starting auction outcomes consumer")).toBeLessThan(messages.indexOf("Kafka consumer started"));
  });

  test("writes no per-message line at INFO", async () => {
    const topic = await createTopic("info", 1);
    await produce(topic, outcomes("info", 20).map(asMessage));
    const { consumer, group } = await consume(topic);
    await waitForCommittedToEnd(group, topic);
    await stop(consumer);
    expect(consumer.lines.filter((l) => l.message === "Auction outcome saved")).toEqual([]);
    expect(consumer.lines.filter((l) => l.level === "DEBUG")).toEqual([]);
  });
});

describe("consumer: redelivery", () => {
  test("stores an outcome sent twice, and once more after a restart, once and counts the duplicates", async () => {
    const topic = await createTopic("redelivery", 3);
    const sent = outcomes("dup", 300, 5).map(asMessage);
    await produce(topic, sent);
    await produce(topic, sent);
    const first = await consume(topic);
    await waitForCommittedToEnd(first.group, topic);
    expect(await countRows()).toBe(300);
    expect(first.consumer.handle.stats).toMatchObject({ totalMessages: 600, successCount: 300, duplicateCount: 300, errorCount: 0 });
    await stop(first.consumer);
    const stopped = first.consumer.lines.find((l) => l.message === "Kafka consumer stopped");
    expect(stopped).toMatchObject({ total_messages: 600, success_count: 300, duplicate_count: 300, error_count: 0 });

    // Restart in the same group: only the new copies are read, all of them duplicates.
    await produce(topic, sent);
    const second = await consume(topic, first.group);
    await waitForCommittedToEnd(first.group, topic);
    expect(second.consumer.handle.stats).toMatchObject({ totalMessages: 300, successCount: 0, duplicateCount: 300 });
    await stop(second.consumer);
    expect(await countRows()).toBe(300);

    // A new group replays the whole topic: still 300 rows, 900 duplicates.
    const replay = await consume(topic);
    await waitForCommittedToEnd(replay.group, topic);
    expect(replay.consumer.handle.stats).toMatchObject({ totalMessages: 900, successCount: 0, duplicateCount: 900 });
    await stop(replay.consumer);
    expect(await countRows()).toBe(300);
  });

  test("stores a message without timestamp or auction_timestamp at its record's timestamp, and a replay of it once", async () => {
    const topic = await createTopic("no-auction-time", 1);
    const recordTime = Date.parse("2025-10-25T06:30:00.250Z");
    const bare = (i: number): TestMessage => ({
      key: `bare-${i}`,
      value: JSON.stringify({ bid_request_id: `bare-${i}`, user_id: "u", win_status: false }),
      timestamp: String(recordTime + i),
    });
    await produce(topic, [bare(0), bare(1), bare(0)]);
    const first = await consume(topic);
    await waitForCommittedToEnd(first.group, topic);
    await stop(first.consumer);
    // Another group replays the topic later: the same instants, so the same rows, all duplicates.
    const replay = await consume(topic);
    await waitForCommittedToEnd(replay.group, topic);
    await stop(replay.consumer);
    expect(replay.consumer.handle.stats).toMatchObject({ totalMessages: 3, successCount: 0, duplicateCount: 3 });
    const rows = await db.sql<{ bid_id: string; timestamp: string }[]>`select bid_id, "timestamp" from auction_outcomes order by bid_id`;
    expect(rows.map((row) => [row.bid_id, row.timestamp])).toEqual([
      ["bare-0", "2025-10-25 06:30:00.25+00"],
      ["bare-1", "2025-10-25 06:30:00.251+00"],
    ]);
  });
});

describe("consumer: invalid messages", () => {
  const big = JSON.stringify({ bid_request_id: "big-1", padding: "x".repeat(1024 * 1024) });
  const invalid: { name: string; message: TestMessage; reason: string | RegExp }[] = [
    { name: "not UTF-8", message: { key: "k-utf8", value: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x7d]) }, reason: "value is not valid UTF-8" },
    { name: "not JSON", message: { key: "k-json", value: '{"bid_request_id": "broken",' }, reason: /^value is not valid JSON \(/ },
    { name: "not an object", message: { key: "k-array", value: '["req-1"]' }, reason: "value is JSON but not an object (got an array)" },
    {
      name: "no bid id",
      message: { key: null, value: '{"user_id":"u-1","win_price":1}' },
      reason: "no bid id: expected a non-empty string in bid_request_id or bid_id",
    },
    {
      name: "price not a number",
      message: { key: "bad-price", value: '{"bid_request_id":"bad-price","win_price":"ten"}' },
      reason: 'win_price is not a number: got "ten"',
    },
    {
      name: "boolean not a boolean",
      message: { key: "bad-bool", value: '{"bid_request_id":"bad-bool","win_status":"yes"}' },
      reason: 'win_status is not a boolean: got "yes" (expected true, false, "true" or "false")',
    },
    {
      name: "unparsable timestamp",
      message: { key: "bad-ts", value: '{"bid_request_id":"bad-ts","timestamp":"25/10/2025 12:00"}' },
      reason: 'timestamp is not a valid ISO-8601 date-time: got "25/10/2025 12:00"',
    },
    { name: "over 1 MiB", message: { key: "big-1", value: big }, reason: `value is ${Buffer.byteLength(big)} bytes, over the 1 MiB limit (1048576 bytes)` },
    { name: "tombstone", message: { key: "gone", value: null }, reason: "message has no value (a tombstone or an empty record)" },
  ];

  test("stores the valid messages, dead-letters each invalid one with its reason and commits past them", async () => {
    const topic = await createTopic("invalid", 1, { "max.message.bytes": "2097152" });
    const valid = outcomes("mix", 10, 9).map(asMessage);
    // Interleaved, so each invalid message sits between valid ones in the same batch.
    const messages = valid.flatMap((message, i) => (invalid[i] ? [message, invalid[i]!.message] : [message]));
    await produce(topic, messages);
    const { consumer, group } = await consume(topic);
    await waitForCommittedToEnd(group, topic);

    expect(await countRows()).toBe(10);
    const letters = await db.sql<{ offset: string; reason: string; payload: Buffer | null; message_key: Buffer | null; topic: string; partition: number }[]>`
      select "offset", reason, payload, message_key, topic, "partition" from dead_letters order by "offset"`;
    expect(letters).toHaveLength(invalid.length);
    letters.forEach((letter, i) => {
      const { message, reason } = invalid[i]!;
      const offset = messages.indexOf(message);
      expect(letter.offset).toBe(String(offset));
      expect(letter.topic).toBe(topic);
      expect(letter.partition).toBe(0);
      if (typeof reason === "string") expect(letter.reason).toBe(reason);
      else expect(letter.reason).toMatch(reason);
      expect(letter.payload === null ? null : Buffer.from(letter.payload)).toEqual(message.value === null ? null : Buffer.from(message.value));
      expect(letter.message_key === null ? null : Buffer.from(letter.message_key).toString()).toBe(message.key as string | null);
    });
    expect(await committedOffsets(group, topic)).toEqual({ 0: String(messages.length) });
    expect(consumer.handle.stats).toMatchObject({ totalMessages: messages.length, successCount: 10, errorCount: invalid.length });
    const warned = consumer.lines.filter((l) => l.message === "Invalid auction outcome sent to dead letters");
    expect(warned).toHaveLength(invalid.length);
    expect(warned.every((l) => l.level === "WARN")).toBe(true);
    await stop(consumer);

    const page = await testApp(db.config, db.sql).get("/api/dead_letters/?page_size=100");
    expect(page.status).toBe(200);
    expect(page.body.count).toBe(invalid.length);
    const utf8Letter = page.body.results.find((r: any) => r.key === "k-utf8");
    expect(utf8Letter).toMatchObject({
      topic,
      partition: 0,
      payload: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x7d]).toString("base64"),
      payload_encoding: "base64",
      reason: "value is not valid UTF-8",
    });
    expect(page.body.results.find((r: any) => r.key === "bad-price")).toMatchObject({
      payload: '{"bid_request_id":"bad-price","win_price":"ten"}',
      payload_encoding: "utf-8",
      key_encoding: "utf-8",
    });
    expect(page.body.results.find((r: any) => r.key === "gone")).toMatchObject({ payload: null, payload_encoding: null });
  });

  test("keeps one dead letter for a bad message delivered again", async () => {
    const topic = await createTopic("invalid-again", 1);
    await produce(topic, [{ key: "x", value: "not json" }, ...outcomes("again", 3).map(asMessage)]);
    const first = await consume(topic);
    await waitForCommittedToEnd(first.group, topic);
    await stop(first.consumer);
    const replay = await consume(topic); // a new group reads the same offsets again
    await waitForCommittedToEnd(replay.group, topic);
    await stop(replay.consumer);
    expect(replay.consumer.handle.stats).toMatchObject({ errorCount: 1, duplicateCount: 3 });
    const [row] = await db.sql<{ count: string }[]>`select count(*) as count from dead_letters`;
    expect(row!.count).toBe("1");
  });

  test("isolates rows the database refuses despite validation into dead letters, wherever they sit, and ingest goes on", async () => {
    // A rule the mapping does not know (a value too long for an index cannot happen: text fields
    // are capped at 255 characters), so the database refuses these rows with a check violation.
    await db.sql`alter table auction_outcomes add constraint test_refuses_poison check (user_id <> 'poison-user')`;
    try {
      const topic = await createTopic("poison", 2);
      const poisonAt = new Set(["0:0", "0:137", "0:138", "0:199", "1:50"]);
      const first = outcomes("poison", 400, 13).map((outcome, i) => {
        const partition = i % 2;
        const offset = Math.floor(i / 2);
        if (poisonAt.has(`${partition}:${offset}`)) outcome.user_id = "poison-user";
        return { ...asMessage(outcome), partition };
      });
      const poisoned = first.filter((m) => JSON.parse(m.value as string).user_id === "poison-user");
      expect(poisoned).toHaveLength(poisonAt.size);
      // Validation lets them through: only the database knows the rule.
      for (const message of poisoned) expect(parseOutcomeMessage(Buffer.from(message.value as string), new Date().toISOString()).ok).toBe(true);
      await produce(topic, first);
      const { consumer, group } = await consume(topic);
      await waitForCommittedToEnd(group, topic);
      expect(await countRows()).toBe(400 - poisonAt.size);

      // The same consumer keeps going: a later stream with one more poison row is stored too.
      const later = outcomes("poison-later", 60, 17).map((outcome, i) => {
        if (i === 30) outcome.user_id = "poison-user";
        return { ...asMessage(outcome), partition: 1 };
      });
      await produce(topic, later);
      await waitForCommittedToEnd(group, topic);
      await stop(consumer);

      expect(await countRows()).toBe(400 - poisonAt.size + 59);
      const letters = await db.sql<{ partition: number; offset: string; reason: string }[]>`
        select "partition", "offset", reason from dead_letters order by "partition", "offset"::bigint`;
      expect(letters.map((l) => `${l.partition}:${l.offset}`)).toEqual([...poisonAt, "1:230"].sort((a, b) => a.localeCompare(b, "en", { numeric: true })));
      for (const letter of letters) {
        expect(letter.reason).toStartWith("database refused the row: ");
        expect(letter.reason).toContain("test_refuses_poison");
        expect(letter.reason).toEndWith("[SQLSTATE 23514]");
      }
      const [poisonRows] = await db.sql<{ count: string }[]>`select count(*) as count from auction_outcomes where user_id = 'poison-user'`;
      expect(poisonRows!.count).toBe("0");
      // Refused rows are not connection failures: nothing was retried, every batch committed once.
      expect(consumer.handle.stats).toMatchObject({ totalMessages: 460, successCount: 454, duplicateCount: 0, errorCount: 6, dbRetries: 0 });
    } finally {
      await db.sql`alter table auction_outcomes drop constraint test_refuses_poison`;
    }
  });
});
