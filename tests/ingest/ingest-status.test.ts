// GET /api/ingest/status/: store rate, dead letters in a period and consumer lag, from PostgreSQL alone.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { recordConsumerLag } from "../../src/ingest/kafka/consumer-lag";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { testApp } from "../support/http";

setDefaultTimeout(30_000);

describe("GET /api/ingest/status/", () => {
  let db: TestDatabase;
  let api: ReturnType<typeof testApp>;

  beforeAll(async () => {
    db = await createTestDatabase("console_ingest");
    api = testApp(db.config, db.sql);
    const outcome = (bid: string, age: string) => db.sql`
      insert into auction_outcomes (bid_id, user_id, win_status, "timestamp", raw_data, created_at)
      values (${bid}, 'u', false, '2025-10-25T00:00:00Z', '{}', now() - ${age}::interval)`;
    for (const [bid, age] of [
      ["a1", "5 seconds"],
      ["a2", "20 seconds"],
      ["a3", "30 seconds"],
      ["b1", "2 minutes"],
      ["b2", "4 minutes"],
      ["c1", "10 minutes"],
      ["c2", "2 days"],
    ] as const) {
      await outcome(bid, age);
    }
    const letter = (offset: number, receivedAt: string) => db.sql`
      insert into dead_letters (topic, "partition", "offset", payload, reason, received_at)
      values ('auction_outcomes', 0, ${offset}, convert_to('{', 'UTF8'), 'invalid JSON', ${receivedAt}::timestamptz)`;
    await db.setup`insert into dead_letters (topic, "partition", "offset", reason, received_at)
                 values ('auction_outcomes', 1, 1, 'empty', now() - interval '1 hour'), ('auction_outcomes', 1, 2, 'empty', now() - interval '23 hours'),
                        ('auction_outcomes', 1, 3, 'empty', now() - interval '25 hours')`;
    await letter(10, "2025-10-25T09:59:59.999999Z");
    await letter(11, "2025-10-25T10:00:00Z");
    await letter(12, "2025-10-25T10:30:00Z");
    await letter(13, "2025-10-25T11:00:00Z");
  });

  afterAll(async () => {
    await db.drop();
  });

  test("counts outcomes stored in the last minute and the last 5 minutes, and their rate per second", async () => {
    const { status, body } = await api.get("/api/ingest/status/");
    expect(status).toBe(200);
    expect(body.messages_stored).toEqual({ last_minute: 3, last_5_minutes: 5 });
    expect(body.messages_per_second).toEqual({ last_minute: 3 / 60, last_5_minutes: 5 / 300 });
    // The first outcome was stored 2 days ago: both windows are covered whole.
    expect(body.seconds_covered).toEqual({ last_minute: 60, last_5_minutes: 300 });
  });

  test("counts dead letters of the last 24 hours by default", async () => {
    const { body } = await api.get("/api/ingest/status/");
    expect(body.dead_letters.count).toBe(2);
    expect(body.dead_letters.to).toBeNull();
    expect(Date.parse(body.measured_at) - Date.parse(body.dead_letters.from)).toBe(86_400_000);
  });

  test("counts dead letters received in [from, to)", async () => {
    const { body } = await api.get("/api/ingest/status/?from=2025-10-25T10:00:00Z&to=2025-10-25T11:00:00Z");
    expect(body.dead_letters).toEqual({ from: "2025-10-25T10:00:00Z", to: "2025-10-25T11:00:00Z", count: 2 });
    expect((await api.get("/api/ingest/status/?from=2025-10-25")).body.dead_letters.count).toBe(7);
  });

  test("shows no lag before a consumer reports, then each partition as last reported", async () => {
    expect((await api.get("/api/ingest/status/")).body.consumer_lag).toEqual({ total: 0, partitions: [] });
    await recordConsumerLag(db.sql, [
      { groupId: "g", topic: "auction_outcomes", partition: 1, committedOffset: null, highWatermark: "7", lag: 7 },
      { groupId: "g", topic: "auction_outcomes", partition: 0, committedOffset: "100", highWatermark: "112", lag: 12 },
    ]);
    const first = (await api.get("/api/ingest/status/")).body.consumer_lag;
    expect(first.total).toBe(19);
    expect(first.partitions.map(({ updated_at: _, ...rest }: { updated_at: string }) => rest)).toEqual([
      { group_id: "g", topic: "auction_outcomes", partition: 0, committed_offset: 100, high_watermark: 112, lag: 12 },
      { group_id: "g", topic: "auction_outcomes", partition: 1, committed_offset: null, high_watermark: 7, lag: 7 },
    ]);
    await recordConsumerLag(db.sql, [{ groupId: "g", topic: "auction_outcomes", partition: 1, committedOffset: "7", highWatermark: "9", lag: 2 }]);
    const second = (await api.get("/api/ingest/status/")).body.consumer_lag;
    expect(second.total).toBe(14);
    expect(second.partitions[1]).toMatchObject({ partition: 1, committed_offset: 7, high_watermark: 9, lag: 2 });
    expect(Date.parse(second.partitions[1].updated_at)).toBeGreaterThanOrEqual(Date.parse(first.partitions[1].updated_at));
    await recordConsumerLag(db.sql, []);
    expect((await api.get("/api/ingest/status/")).body.consumer_lag.total).toBe(14);
  });

  test("refuses from after to, and a date that is not one", async () => {
    const reversed = await api.get("/api/ingest/status/?from=2025-10-26&to=2025-10-25");
    expect(reversed.status).toBe(400);
    expect(Object.keys(reversed.body.errors)).toEqual(["from"]);
    const bad = await api.get("/api/ingest/status/?from=2025-02-30");
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.errors)).toEqual(["from"]);
  });
});

describe("GET /api/ingest/status/ on a database younger than the windows", () => {
  let db: TestDatabase;
  let api: ReturnType<typeof testApp>;

  beforeAll(async () => {
    db = await createTestDatabase("ingest_fresh");
    api = testApp(db.config, db.sql);
    await db.setup`
      insert into auction_outcomes (bid_id, user_id, win_status, "timestamp", raw_data, created_at)
      select 'fresh-' || i, 'u', false, '2025-10-25T00:00:00Z', '{}', now() - make_interval(secs => 20 - i)
      from generate_series(0, 9) as i`;
  });

  afterAll(async () => {
    await db.drop();
  });

  test("divides by the 20 s since the first outcome was stored, not by the whole minute or 5 minutes", async () => {
    const { body } = await api.get("/api/ingest/status/");
    expect(body.messages_stored).toEqual({ last_minute: 10, last_5_minutes: 10 });
    const covered = body.seconds_covered;
    expect(covered.last_minute).toBe(covered.last_5_minutes);
    expect(covered.last_minute).toBeGreaterThanOrEqual(20);
    expect(covered.last_minute).toBeLessThan(30);
    expect(body.messages_per_second).toEqual({ last_minute: 10 / covered.last_minute, last_5_minutes: 10 / covered.last_5_minutes });
  });

  test("an empty database covers the whole windows and reads 0 per second", async () => {
    await db.setup`delete from auction_outcomes`;
    const { body } = await api.get("/api/ingest/status/");
    expect(body.seconds_covered).toEqual({ last_minute: 60, last_5_minutes: 300 });
    expect(body.messages_per_second).toEqual({ last_minute: 0, last_5_minutes: 0 });
  });
});
