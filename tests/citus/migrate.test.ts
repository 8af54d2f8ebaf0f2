// migrate against a real Citus coordinator with two workers (scripts/citus-local.sh): the schema
// comes out distributed with every unique key on its distribution column, a populated
// single-node-shaped database is distributed in place with nothing lost, and the writer stays
// exactly once. Skipped, with the reason printed, where no Citus coordinator answers.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyMigrations, MIGRATIONS_DIR } from "../../src/db/migrate";
import { writeBatch } from "../../src/ingest/batch-writer";
import { PartitionKeeper } from "../../src/storage/partitions";
import { batchOf, outcomeAt } from "../support/batches";
import { citusSkipReason, createCitusDatabase, distributionOf, hourlyRollups, makeCoordinator } from "../support/citus";
import { quietLog, type TestDatabase } from "../support/db";
import { insertOutcomes, OUTCOMES } from "../support/fixtures";

setDefaultTimeout(120_000);

/** Every stored outcome, rollup row and dead letter, to compare before and after distribution. */
const everythingIn = async (db: TestDatabase) => ({
  outcomes: await db.setup`select id::text, bid_id, "timestamp"::text, win_price::text from auction_outcomes order by id`,
  rollups: await hourlyRollups(db.setup),
  daily: await db.setup`select day::text, site_domain, currency, win_status, enriched, outcomes::text from outcome_rollup_daily_site order by 1, 2, 3, 4, 5`,
  letters: await db.setup`select id::text, "offset"::text, reason from dead_letters order by id`,
});

describe.skipIf(citusSkipReason !== undefined)("migrate on a Citus coordinator", () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createCitusDatabase("migrate");
  }, 120_000);
  afterAll(async () => {
    await db?.drop();
  }, 120_000);

  test("distributes the outcomes by bid_id and dead letters by Kafka partition, and makes the rollups and the bookkeeping reference tables", async () => {
    const tables = [
      "auction_outcomes",
      "auction_outcomes_default",
      "outcome_rollup_hourly",
      "outcome_rollup_daily_site",
      "dead_letters",
      "consumer_lag",
      "storage_settings",
      "outcome_partitions",
      "storage_events",
      "schema_migrations",
    ];
    const shapes = Object.fromEntries(await Promise.all(tables.map(async (table) => [table, await distributionOf(db.setup, table)])));
    expect(shapes).toEqual({
      auction_outcomes: { method: "h", column: "bid_id" },
      auction_outcomes_default: { method: "h", column: "bid_id" },
      outcome_rollup_hourly: { method: "n", column: null },
      outcome_rollup_daily_site: { method: "n", column: null },
      dead_letters: { method: "h", column: "partition" },
      consumer_lag: { method: "n", column: null },
      storage_settings: { method: "n", column: null },
      outcome_partitions: { method: "n", column: null },
      storage_events: { method: "n", column: null },
      schema_migrations: null,
    });
    const [colocated] = await db.setup<{ groups: string }[]>`
      select count(distinct colocationid)::text as groups from pg_dist_partition
       where logicalrelid in ('auction_outcomes'::regclass, 'auction_outcomes_default'::regclass)`;
    expect(colocated!.groups).toBe("1");
  });

  test("every unique key and primary key of a distributed table includes its distribution column", async () => {
    const offending = await db.setup<{ table_name: string; key: string }[]>`
      select c.conrelid::regclass::text as table_name, c.conname as key
        from pg_constraint c join pg_dist_partition d on d.logicalrelid = c.conrelid
       where c.contype in ('p', 'u') and d.partmethod = 'h'
         and not (d.partkey is not null and column_to_column_name(d.logicalrelid, d.partkey) = any (
              select a.attname from pg_attribute a where a.attrelid = c.conrelid and a.attnum = any (c.conkey)))`;
    expect([...offending]).toEqual([]);
  });

  test("a batch redelivered in a second batch, and a bid_id twice within one, is stored once and counted once in the rollups", async () => {
    const partitions = new PartitionKeeper();
    const messages = [
      outcomeAt("c-1", "2025-11-03T10:00:00Z"),
      outcomeAt("c-2", "2025-11-03T10:30:00Z", { win_price: "2.50" }),
      outcomeAt("c-3", "2025-11-04T00:00:01Z", { win_status: false, win_price: "0" }),
    ];
    const first = await writeBatch(db.sql, batchOf(messages), partitions);
    expect(first).toMatchObject({ inserted: 3, duplicates: 0, deadLettered: 0 });
    const again = await writeBatch(db.sql, batchOf([...messages, messages[0], outcomeAt("c-4", "2025-11-03T11:00:00Z")], { firstOffset: 10 }), partitions);
    expect(again).toMatchObject({ inserted: 1, duplicates: 4, deadLettered: 0 });
    // tableoid names the shard a row is in (the partition's name, "_", the shard id).
    const rows = await db.setup<{ bid_id: string; shard: string }[]>`
      select bid_id, tableoid::regclass::text as shard from auction_outcomes order by bid_id`;
    const stored = rows.map((row) => ({ bid_id: row.bid_id, partition: row.shard.replace(/_\d+$/, "") }));
    expect(stored).toEqual([
      { bid_id: "c-1", partition: "auction_outcomes_20251103" },
      { bid_id: "c-2", partition: "auction_outcomes_20251103" },
      { bid_id: "c-3", partition: "auction_outcomes_20251104" },
      { bid_id: "c-4", partition: "auction_outcomes_20251103" },
    ]);
    expect([...(await hourlyRollups(db.setup))]).toEqual([
      { bucket: "2025-11-03 10:00:00+00", outcomes: "2", win: "3.75" },
      { bucket: "2025-11-03 11:00:00+00", outcomes: "1", win: "1.25" },
      { bucket: "2025-11-04 00:00:00+00", outcomes: "1", win: "0" },
    ]);
    // The partitions made on demand are distributed and co-located with the table.
    expect(await distributionOf(db.setup, "auction_outcomes_20251103")).toEqual({ method: "h", column: "bid_id" });
  });

  test("a bad message redelivered is one dead letter, on the shard of its Kafka partition", async () => {
    const first = await writeBatch(db.sql, batchOf(["{not json"], { firstOffset: 500 }));
    const again = await writeBatch(db.sql, batchOf(["{not json"], { firstOffset: 500 }));
    expect([first.deadLettered, again.deadLettered]).toEqual([1, 1]);
    const [row] = await db.setup<{ n: string }[]>`select count(*)::text as n from dead_letters where "offset" = 500`;
    expect(row!.n).toBe("1");
  });

  test("migrating again finds nothing to do", async () => {
    expect(await applyMigrations(db.setup, quietLog)).toEqual([]);
  });
});

describe.skipIf(citusSkipReason !== undefined)("upgrading a populated single-node database on a Citus coordinator", () => {
  let db: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    // The schema as a single-node server has it (every migration before 016), populated, and
    // only then the citus extension and the workers: what an operator moving to Citus has.
    db = await createCitusDatabase("upgrade", { citus: false });
    dir = await mkdtemp(join(tmpdir(), "helios-citus-upgrade-"));
    for (const name of await readdir(MIGRATIONS_DIR)) if (name < "016") await cp(join(MIGRATIONS_DIR, name), join(dir, name));
  }, 120_000);
  afterAll(async () => {
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 120_000);

  test("distributes the stored outcomes, rollups and dead letters in place, every row and id kept", async () => {
    await applyMigrations(db.setup, quietLog, { dir });
    const stored = await insertOutcomes(db.setup, OUTCOMES);
    await writeBatch(db.sql, batchOf(["{not json", "[]"], { firstOffset: 7 }));
    const before = await everythingIn(db);
    expect(before.outcomes.length).toBe(stored.length);

    await makeCoordinator(db.setup);
    const applied = await applyMigrations(db.setup, quietLog);
    expect(applied[0]).toBe("016_citus_distribute.sql");

    expect(await distributionOf(db.setup, "auction_outcomes")).toEqual({ method: "h", column: "bid_id" });
    const after = await everythingIn(db);
    expect(after).toEqual(before);
    // The coordinator kept no copy of the rows it moved to the workers.
    const [local] = await db.setup<{ bytes: string }[]>`select pg_relation_size('auction_outcomes_default')::text as bytes`;
    expect(local!.bytes).toBe("0");

    // New ids continue after the last one stored, and the writer dedups against the moved rows.
    const redelivered = OUTCOMES[0]!;
    const result = await writeBatch(
      db.sql,
      batchOf([outcomeAt(redelivered.bid_id, redelivered.timestamp), outcomeAt("after-upgrade", "2025-10-25T12:00:00Z")]),
    );
    expect(result).toMatchObject({ inserted: 1, duplicates: 1 });
    const [next] = await db.setup<{ id: string }[]>`select id::text from auction_outcomes where bid_id = 'after-upgrade'`;
    expect(Number(next!.id)).toBeGreaterThan(Math.max(...stored.map((row) => row.id)));
  });
});
