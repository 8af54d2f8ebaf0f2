// Maintenance and retention: partitions made ahead, expired partitions dropped whole while the
// rollups keep their figures, the list counting only what it can page through, outcomes too old
// for the window dead-lettered, rollups past their own retention deleted, passes that overlap.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { loadConfig } from "../../src/config";
import { fixedPool } from "../../src/db/pool";
import { writeBatch } from "../../src/ingest/batch-writer";
import { createIngestCounters, createIngestStep } from "../../src/ingest/ingest-step";
import { periodsAhead, runMaintenancePass } from "../../src/storage/maintain";
import { batchOf, outcomeAt, sourcesOf } from "../support/batches";
import { createTestDatabase, quietLog, type TestDatabase, testConfig } from "../support/db";
import { testApp } from "../support/http";
import { spawnRole } from "../support/processes";

setDefaultTimeout(60_000);

const DAY = 86_400_000;
/** A fixed "now" for the passes: 2025-06-20T12:00:00Z. */
const NOW = Date.UTC(2025, 5, 20, 12);
const storage = (env: Record<string, string>) => loadConfig(env).storage;

describe("partitions ahead", () => {
  test("are the current period and PARTITIONS_AHEAD more, for every interval", () => {
    expect(periodsAhead("day", 3, NOW)).toEqual([
      "2025-06-20T00:00:00.000Z",
      "2025-06-21T00:00:00.000Z",
      "2025-06-22T00:00:00.000Z",
      "2025-06-23T00:00:00.000Z",
    ]);
    expect(periodsAhead("hour", 1, NOW)).toEqual(["2025-06-20T12:00:00.000Z", "2025-06-20T13:00:00.000Z"]);
    // 2025-06-20 is a Friday: ISO weeks start on Monday.
    expect(periodsAhead("week", 1, NOW)).toEqual(["2025-06-16T00:00:00.000Z", "2025-06-23T00:00:00.000Z"]);
    expect(periodsAhead("month", 2, Date.UTC(2025, 11, 31, 23))).toEqual(["2025-12-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z"]);
  });
});

describe("retention", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("retention");
  });
  afterAll(async () => {
    await db.drop();
  });

  test("drops exactly the partitions entirely older than RETENTION_DAYS; stats keep their figures, the list counts what it can page", async () => {
    // One outcome a day from 2025-06-10 to 2025-06-20 (11 days), each a win of 1.00.
    const days = Array.from({ length: 11 }, (_, i) => new Date(Date.UTC(2025, 5, 10 + i, 6)).toISOString());
    await writeBatch(db.sql, batchOf(days.map((at, i) => outcomeAt(`kept-${i}`, at, { win_price: "1.00", bid_price: "1.00" }))));
    const api = testApp(db.config, db.sql);
    const statsBefore = (await api.get("/api/outcomes/stats/")).body;
    const dailyBefore = (await api.get("/api/outcomes/daily_stats/")).body;
    expect(statsBefore.total_outcomes).toBe(11);

    // 5 days: outcomes before 2025-06-15T12:00Z expire; the partitions of 06-10 … 06-14 end by then.
    const report = await runMaintenancePass(db.setup, storage({ RETENTION_DAYS: "5", PARTITIONS_AHEAD: "1" }), quietLog, NOW);
    expect(report.dropped).toEqual([
      "auction_outcomes_20250610",
      "auction_outcomes_20250611",
      "auction_outcomes_20250612",
      "auction_outcomes_20250613",
      "auction_outcomes_20250614",
    ]);
    expect(report.created).toEqual(["auction_outcomes_20250621"]);
    const tables = await db.setup<
      { name: string }[]
    >`select relname as name from pg_class where relname like 'auction_outcomes_2025061%' and relkind = 'r' order by 1`;
    expect(tables.map((t) => t.name)).toEqual([
      "auction_outcomes_20250615",
      "auction_outcomes_20250616",
      "auction_outcomes_20250617",
      "auction_outcomes_20250618",
      "auction_outcomes_20250619",
    ]);

    // Rolled-up figures outlive the rows they came from.
    expect((await api.get("/api/outcomes/stats/")).body).toEqual(statsBefore);
    expect((await api.get("/api/outcomes/daily_stats/")).body).toEqual(dailyBefore);
    // The list pages through the 6 outcomes still kept, and counts exactly those.
    const list = (await api.get("/api/outcomes/?page_size=100")).body;
    expect(list.count).toBe(6);
    expect(list.results.map((r: { bid_id: string }) => r.bid_id).sort()).toEqual(["kept-10", "kept-5", "kept-6", "kept-7", "kept-8", "kept-9"]);
    expect((await api.get("/api/outcomes/?page_size=1&to=2025-06-17")).body.count).toBe(2);
    expect((await api.get("/api/outcomes/?page_size=1&to=2025-06-14")).body.count).toBe(0);
    // ... and says from when.
    expect((await api.get("/api/storage/")).body).toMatchObject({
      partition_interval: "day",
      outcomes_available_from: "2025-06-15T00:00:00Z",
      rollups_available_from: null,
      partitions: { dropped: 5 },
    });
    // A second pass at the same instant finds nothing more to drop.
    const again = await runMaintenancePass(db.setup, storage({ RETENTION_DAYS: "5", PARTITIONS_AHEAD: "1" }), quietLog, NOW);
    expect([again.dropped, again.created]).toEqual([[], []]);
  });

  test("dead-letters an outcome older than the window, saying so, and stores the others", async () => {
    const counters = createIngestCounters();
    const step = createIngestStep({ pool: fixedPool(db.sql), log: quietLog, counters, retentionDays: 5 });
    const now = Date.now();
    const old = new Date(now - 6 * DAY).toISOString();
    const recent = new Date(now - 4 * DAY).toISOString();
    const batch = await step.ingest(sourcesOf([outcomeAt("too-old", old), outcomeAt("recent", recent)], { topic: "retention-test" }), {
      abandoned: () => false,
    });
    expect(batch!.result).toMatchObject({ inserted: 1, deadLettered: 1 });
    expect(counters.tooOldCount).toBe(1);
    const [letter] = await db.setup<{ reason: string }[]>`select reason from dead_letters where topic = 'retention-test'`;
    expect(letter!.reason).toMatch(/^auction time .* is older than the retention window: RETENTION_DAYS=5 keeps outcomes from \d{4}-\d\d-\d\dT[\d:.]+Z on$/);
    expect(letter!.reason).toContain(old.slice(0, 19));
  });

  test("deletes rollup rows older than ROLLUP_RETENTION_DAYS, and says from when rollups are kept", async () => {
    const report = await runMaintenancePass(db.setup, storage({ RETENTION_DAYS: "5", ROLLUP_RETENTION_DAYS: "7", PARTITIONS_AHEAD: "0" }), quietLog, NOW);
    // Rollups of 06-10 … 06-12 (before 2025-06-13T12:00Z, by whole hours and days) go.
    expect(report.rollupRowsDropped).toBeGreaterThan(0);
    const [oldest] = await db.setup<{ day: string }[]>`select min(day)::text as day from outcome_rollup_daily_site`;
    expect(oldest!.day).toBe("2025-06-13");
    const state = (await testApp(db.config, db.sql).get("/api/storage/")).body;
    expect(state.rollups_available_from).toBe("2025-06-13T00:00:00Z");
  });
});

describe("the maintain role", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("maintain_role");
  });
  afterAll(async () => {
    await db.drop();
  });

  test("two passes started at once both exit 0 and make each partition once", async () => {
    const env = { DATABASE_URL: db.url, PARTITIONS_AHEAD: "4", LOG_LEVEL: "INFO" };
    const passes = [spawnRole("maintain", [], env), spawnRole("maintain", [], env)];
    expect(await Promise.all(passes.map((p) => p.exited))).toEqual([0, 0]);
    const created = await db.setup<{ name: string }[]>`select partition_name as name from storage_events where kind = 'created'`;
    expect(created).toHaveLength(5);
    expect(new Set(created.map((row) => row.name)).size).toBe(5);
    const lines = passes
      .flatMap((p) => p.lines)
      .filter((line) => line.message === "Maintenance pass done" || line.message === "Maintenance skipped: another pass is running");
    expect(lines.length).toBe(2);
  });

  test("refuses a PARTITION_INTERVAL other than the one the table was made with, exit 78 naming both", async () => {
    const wrong = spawnRole("maintain", [], { DATABASE_URL: db.url, PARTITION_INTERVAL: "hour" });
    expect(await wrong.exited).toBe(78);
    const line = wrong.lines.find((l) => l.level === "ERROR");
    expect(line?.message).toBe(
      "PARTITION_INTERVAL=hour is not valid for this database: auction_outcomes was partitioned by day when it was first migrated, and the interval is fixed then. Unset PARTITION_INTERVAL or set it to day.",
    );
    const migrate = spawnRole("migrate", [], { DATABASE_URL: db.url, PARTITION_INTERVAL: "week" });
    expect(await migrate.exited).toBe(78);
    expect(migrate.lines.some((l) => l.level === "ERROR" && String(l.message).startsWith("PARTITION_INTERVAL=week is not valid for this database"))).toBe(true);
    expect(testConfig(db.url, { PARTITION_INTERVAL: "day" }).storage.partitionInterval).toBe("day");
  });
});
