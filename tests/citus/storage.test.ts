// Time partitions and rollups on a real Citus cluster: partitions made ahead and on demand come
// out distributed and co-located, rows another tool left in the default partition move into their
// own, retention drops whole distributed partitions while the rollups keep their figures, replays
// never count twice, and helios_rebuild_rollups repairs what a hand-written change did to them.
// Skipped, with the reason printed, where no Citus coordinator answers.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { loadConfig } from "../../src/config";
import { writeBatch } from "../../src/ingest/batch-writer";
import { runMaintenancePass } from "../../src/storage/maintain";
import { PartitionKeeper } from "../../src/storage/partitions";
import { batchOf, outcomeAt } from "../support/batches";
import { citusSkipReason, createCitusDatabase, distributionOf, hourlyRollups } from "../support/citus";
import { quietLog, type TestDatabase } from "../support/db";
import { testApp } from "../support/http";

setDefaultTimeout(180_000);

/** A fixed "now" for the passes: 2025-06-20T12:00:00Z. */
const NOW = Date.UTC(2025, 5, 20, 12);
const storage = (env: Record<string, string>) => loadConfig(env).storage;

const partitionNames = async (db: TestDatabase) =>
  (await db.setup<{ name: string }[]>`select name from outcome_partitions order by lower nulls first`).map((row) => row.name);

describe.skipIf(citusSkipReason !== undefined)("partitions and retention on distributed tables", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createCitusDatabase("storage");
  }, 120_000);
  afterAll(async () => {
    await db?.drop();
  }, 120_000);

  test("a maintenance pass makes the partitions ahead, distributed and co-located with the table", async () => {
    const report = await runMaintenancePass(db.setup, storage({ PARTITIONS_AHEAD: "2" }), quietLog, NOW);
    expect(report.created).toEqual(["auction_outcomes_20250620", "auction_outcomes_20250621", "auction_outcomes_20250622"]);
    const shapes = await Promise.all(report.created.map((name) => distributionOf(db.setup, name)));
    expect(shapes).toEqual(report.created.map(() => ({ method: "h", column: "bid_id" })));
    const [groups] = await db.setup<{ n: string }[]>`
      select count(distinct colocationid)::text as n from pg_dist_partition
       where logicalrelid::text like 'auction_outcomes%'`;
    expect(groups!.n).toBe("1");
  });

  test("rows another tool wrote for a period without a partition wait in the default partition, then move into their own", async () => {
    await db.setup`
      insert into auction_outcomes (bid_id, user_id, site_domain, win_status, win_price, bid_price, "timestamp", raw_data)
      values ('tool-1', 'u-tool', 'tool.example', true, 3.00, 3.00, '2025-06-12T08:00:00Z', '{}'),
             ('tool-2', 'u-tool', 'tool.example', false, 0, 1.00, '2025-06-12T09:00:00Z', '{}')`;
    const [waiting] = await db.setup<{ n: string }[]>`select count(*)::text as n from auction_outcomes_default`;
    expect(waiting!.n).toBe("2");
    const report = await runMaintenancePass(db.setup, storage({ PARTITIONS_AHEAD: "0" }), quietLog, NOW);
    expect(report).toMatchObject({ created: ["auction_outcomes_20250612"], movedFromDefault: 2 });
    const [left] = await db.setup<{ n: string }[]>`select count(*)::text as n from auction_outcomes_default`;
    const [moved] = await db.setup<{ n: string }[]>`select count(*)::text as n from auction_outcomes_20250612`;
    expect([left!.n, moved!.n]).toEqual(["0", "2"]);
    // Written by plain SQL: no trigger counted them on Citus; the rebuild does.
    expect((await db.setup`select bucket from outcome_rollup_hourly where bucket::date = '2025-06-12'`).length).toBe(0);
    await db.setup`select helios_rebuild_rollups('2025-06-12', '2025-06-12')`;
    expect((await hourlyRollups(db.setup)).filter((row) => row.bucket.startsWith("2025-06-12"))).toEqual([
      { bucket: "2025-06-12 08:00:00+00", outcomes: "1", win: "3.00" },
      { bucket: "2025-06-12 09:00:00+00", outcomes: "1", win: "0" },
    ]);
  });

  test("replaying batches through the writer counts each outcome once in the rollups", async () => {
    const partitions = new PartitionKeeper();
    const messages = Array.from({ length: 40 }, (_, i) =>
      outcomeAt(`replay-${i}`, new Date(Date.UTC(2025, 5, 14, i % 24, i)).toISOString(), { win_price: "0.25", bid_price: "0.50" }),
    );
    for (let round = 0; round < 3; round++) {
      const result = await writeBatch(db.sql, batchOf(messages, { firstOffset: round * 100 }), partitions);
      expect(result).toMatchObject(round === 0 ? { inserted: 40, duplicates: 0 } : { inserted: 0, duplicates: 40 });
    }
    const rows = (await hourlyRollups(db.setup)).filter((row) => row.bucket.startsWith("2025-06-14"));
    expect(rows.reduce((sum, row) => sum + Number(row.outcomes), 0)).toBe(40);
    expect(rows.reduce((sum, row) => sum + Number(row.win), 0)).toBe(10);
    // The rebuild of a day the writer maintained finds the same figures.
    const before = await hourlyRollups(db.setup);
    await db.setup`select helios_rebuild_rollups('2025-06-14', '2025-06-14')`;
    expect(await hourlyRollups(db.setup)).toEqual(before);
  });

  test("a hand-made UPDATE and DELETE leave the rollups stale on Citus until helios_rebuild_rollups redoes the day", async () => {
    await db.setup`update auction_outcomes set win_price = 1.25 where bid_id = 'replay-0'`;
    await db.setup`delete from auction_outcomes where bid_id = 'replay-1'`;
    const day = async () => (await hourlyRollups(db.setup)).filter((row) => row.bucket.startsWith("2025-06-14"));
    expect((await day()).reduce((sum, row) => sum + Number(row.outcomes), 0)).toBe(40);
    await db.setup`select helios_rebuild_rollups('2025-06-14', '2025-06-14')`;
    const rebuilt = await day();
    expect(rebuilt.reduce((sum, row) => sum + Number(row.outcomes), 0)).toBe(39);
    expect(rebuilt.reduce((sum, row) => sum + Number(row.win), 0)).toBe(10.75);
  });

  test("retention drops whole distributed partitions; stats keep their figures and the list counts what it can page", async () => {
    const api = testApp(db.config, db.sql);
    const statsBefore = (await api.get("/api/outcomes/stats/")).body;
    const dailyBefore = (await api.get("/api/outcomes/daily_stats/")).body;
    // 7 days before NOW: every partition ending by 2025-06-13T12:00Z expires (06-12 and older).
    const report = await runMaintenancePass(db.setup, storage({ RETENTION_DAYS: "7", PARTITIONS_AHEAD: "0" }), quietLog, NOW);
    expect(report.dropped).toEqual(["auction_outcomes_20250612"]);
    expect(await partitionNames(db)).not.toContain("auction_outcomes_20250612");
    const [shards] = await db.setup<{ n: string }[]>`
      select count(*)::text as n from pg_dist_shard where logicalrelid::text = 'auction_outcomes_20250612'`;
    expect(shards!.n).toBe("0");
    expect((await api.get("/api/outcomes/stats/")).body).toEqual(statsBefore);
    expect((await api.get("/api/outcomes/daily_stats/")).body).toEqual(dailyBefore);
    const list = (await api.get("/api/outcomes/?page_size=1000")).body;
    expect(list.count).toBe(39);
    expect(list.results.length).toBe(39);
    // A day whose rows retention dropped keeps its rollups: the rebuild refuses it.
    await expect(db.setup`select helios_rebuild_rollups('2025-06-12', '2025-06-12')`).rejects.toThrow(/dropped by retention/);
  });

  test("ROLLUP_RETENTION_DAYS deletes the distributed rollup rows before its cutoff and records from when rollups exist", async () => {
    const [before] = await db.setup<{ n: string }[]>`
      select ((select count(*) from outcome_rollup_hourly where bucket < '2025-06-13') + (select count(*) from outcome_rollup_daily_site where day < '2025-06-13'))::text as n`;
    expect(Number(before!.n)).toBe(4);
    const report = await runMaintenancePass(db.setup, storage({ RETENTION_DAYS: "7", ROLLUP_RETENTION_DAYS: "7", PARTITIONS_AHEAD: "0" }), quietLog, NOW);
    expect(report.rollupRowsDropped).toBe(4);
    const [setting] = await db.setup<{ value: string }[]>`select value::timestamptz::text as value from storage_settings where name = 'rollups_available_from'`;
    expect(setting!.value).toBe("2025-06-13 00:00:00+00");
  });
});
