// Aggregate answers kept in the API's memory: served again while nothing changed, dropped by the
// notification of a committed change (migration 006 → change feed), bypassed while the feed is deaf.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { type ChangeFeed, startChangeFeed } from "../../src/db/change-feed";
import { createTestDatabase, quietLog, type TestDatabase, testConfig } from "../support/db";
import { insertGeneratedOutcomes, insertOutcomes } from "../support/fixtures";
import { testApp } from "../support/http";
import { parseMetrics, total } from "../support/metrics";

setDefaultTimeout(30_000);

let db: TestDatabase;
let feed: ChangeFeed;
let api: ReturnType<typeof testApp>;

beforeAll(async () => {
  db = await createTestDatabase("aggregate_cache");
  await insertOutcomes(db.setup);
  feed = startChangeFeed(db.config.db, quietLog);
  await feed.ready();
  api = testApp(db.config, db.sql, quietLog, feed);
});

afterAll(async () => {
  await feed.close();
  await db.drop();
});

async function lookups(app = api): Promise<Record<"hit" | "miss" | "bypass", number>> {
  const samples = parseMetrics((await app.get("/metrics")).text);
  const of = (outcome: string) => total(samples, "aggregate_cache_lookups_total", { outcome }) ?? 0;
  return { hit: of("hit"), miss: of("miss"), bypass: of("bypass") };
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

/** Runs `change` and waits until the feed heard exactly `notifications` more (a marker insert closes the count). */
async function notificationsFrom(change: () => Promise<unknown>): Promise<number> {
  const before = feed.version;
  await change();
  // Notifications arrive in commit order: once the marker's is in, the change's would be too.
  await insertGeneratedOutcomes(db.setup, 1, { userId: `marker-${before}` });
  await until(() => feed.version > before, "the marker's notification");
  await Bun.sleep(50);
  return feed.version - before - 1;
}

describe("aggregate answers cached until the data changes", () => {
  test("serves stats again from memory, then exactly the new figures once an insert commits", async () => {
    const start = await lookups();
    const first = await api.get("/api/outcomes/stats/");
    const again = await api.get("/api/outcomes/stats/");
    expect(again.body).toEqual(first.body);
    expect(await lookups()).toEqual({ hit: start.hit + 1, miss: start.miss + 1, bypass: start.bypass });

    const version = feed.version;
    await insertGeneratedOutcomes(db.setup, 5, { userId: "cache-a", wins: 2 });
    await until(() => feed.version > version, "the insert's notification");
    const after = await api.get("/api/outcomes/stats/");
    expect(after.body.total_outcomes).toBe(first.body.total_outcomes + 5);
    expect(after.body.total_wins).toBe(first.body.total_wins + 2);
    expect(after.body.total_revenue).toBe(Number((first.body.total_revenue + 2).toFixed(6)));
    expect((await lookups()).miss).toBe(start.miss + 2);
  });

  test("drops daily stats, list counts, series, top lists and breakdowns on a change too", async () => {
    const paths = [
      "/api/outcomes/daily_stats/",
      "/api/outcomes/?site_domain=generated.example",
      "/api/outcomes/winners/?site_domain=generated.example&cursor=",
      "/api/outcomes/timeseries/?interval=day&from=2025-11-01T00:00:00Z&to=2025-11-02T00:00:00Z",
      "/api/outcomes/top/?by=site_domain",
      "/api/outcomes/breakdown/?by=site_domain&site_domain=generated.example",
      "/api/outcomes/breakdown/?by=site_domain&site_domain=generated.example&from=2025-11-01&to=2025-11-02&compare=previous_period",
    ];
    const before = await Promise.all(paths.map((path) => api.get(path)));
    const cachedAgain = await Promise.all(paths.map((path) => api.get(path)));
    expect(cachedAgain.map((r) => r.body)).toEqual(before.map((r) => r.body));

    const version = feed.version;
    await insertGeneratedOutcomes(db.setup, 3, { userId: "cache-b", wins: 3 });
    await until(() => feed.version > version, "the insert's notification");
    const [daily, list, winners, series, top, breakdown, compared] = await Promise.all(paths.map((path) => api.get(path)));
    const day = (body: { date: string; total: number }[]) => body.find((d) => d.date === "2025-11-01")!;
    expect(day(daily!.body).total).toBe(day(before[0]!.body).total + 3);
    expect(list!.body.count).toBe(before[1]!.body.count + 3);
    expect(winners!.body.count).toBe(before[2]!.body.count + 3);
    expect(series!.body.results[0].outcomes).toBe(before[3]!.body.results[0].outcomes + 3);
    const generated = (body: { results: { key: string; outcomes: number }[] }) => body.results.find((r) => r.key === "generated.example")!.outcomes;
    expect(generated(top!.body)).toBe(generated(before[4]!.body) + 3);
    expect(breakdown!.body.total.outcomes).toBe(before[5]!.body.total.outcomes + 3);
    expect(compared!.body.total.change.outcomes).toBe(before[6]!.body.total.change.outcomes + 3);
  });

  test("hears nothing from an insert of duplicates only or from a rolled-back insert", async () => {
    const version = feed.version;
    await insertGeneratedOutcomes(db.setup, 2, { userId: "cache-dup" });
    await until(() => feed.version > version, "the first insert's notification");
    const duplicates = () => db.sql`
      insert into auction_outcomes (bid_id, user_id, win_status, bid_price, currency, enriched, "timestamp", raw_data)
      select 'cache-dup-' || i, 'cache-dup', false, 1, 'USD', false, now(), '{}'::jsonb from generate_series(1, 2) i
      on conflict do nothing`;
    expect(await notificationsFrom(duplicates)).toBe(0);
    const rolledBack = () =>
      db.sql
        .begin(async (tx) => {
          await tx`insert into auction_outcomes (bid_id, user_id, win_status, bid_price, currency, enriched, "timestamp", raw_data)
               values ('cache-rollback', 'cache-rollback', false, 1, 'USD', false, now(), '{}'::jsonb)`;
          throw new Error("roll back");
        })
        .catch(() => {});
    expect(await notificationsFrom(rolledBack)).toBe(0);
    const update = () => db.sql`update auction_outcomes set currency = currency where user_id = 'cache-dup'`;
    expect(await notificationsFrom(update)).toBe(1);
    const deleteNone = () => db.sql`delete from auction_outcomes where user_id = 'nobody-at-all'`;
    expect(await notificationsFrom(deleteNone)).toBe(0);
  });

  test("answers from the database while the feed's connection is gone, and drops what it kept before", async () => {
    const kept = await api.get("/api/outcomes/stats/");
    await api.get("/api/outcomes/stats/");
    await db.sql`
      select pg_terminate_backend(pid) from pg_stat_activity
      where datname = ${db.name} and application_name = 'helios-analytics-api-listen'`;
    await until(() => !feed.listening, "the feed to notice its connection is gone");
    // Changed while nobody listened: no notification will ever tell of it.
    await insertGeneratedOutcomes(db.setup, 4, { userId: "cache-deaf" });
    const before = await lookups();
    const during = await api.get("/api/outcomes/stats/");
    expect(during.body.total_outcomes).toBe(kept.body.total_outcomes + 4);
    expect((await lookups()).bypass).toBe(before.bypass + 1);

    await until(() => feed.listening, "the feed to listen again");
    const back = await api.get("/api/outcomes/stats/");
    expect(back.body.total_outcomes).toBe(kept.body.total_outcomes + 4);
    const afterReconnect = await lookups();
    expect(afterReconnect.miss).toBe(before.miss + 1);
    await api.get("/api/outcomes/stats/");
    expect((await lookups()).hit).toBe(afterReconnect.hit + 1);
  });

  test("AGGREGATE_CACHE_TTL_MS=0 turns the cache off", async () => {
    const off = testApp(testConfig(db.url, { AGGREGATE_CACHE_TTL_MS: "0" }), db.sql, quietLog, feed);
    await off.get("/api/outcomes/stats/");
    await off.get("/api/outcomes/stats/");
    expect(await lookups(off)).toEqual({ hit: 0, miss: 0, bypass: 2 });
  });
});
