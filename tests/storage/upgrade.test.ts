// Upgrading a populated database from before partitioning: migrate keeps every row, id, rollup
// figure and dead letter, attaches the old table as one partition without copying it, and the
// service writes on at once: new ids after the old, redeliveries of old outcomes still skipped.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyMigrations, MIGRATIONS_DIR } from "../../src/db/migrate";
import { writeBatch } from "../../src/ingest/batch-writer";
import { batchOf, outcomeAt } from "../support/batches";
import { createTestDatabase, quietLog, type TestDatabase } from "../support/db";
import { testApp } from "../support/http";

setDefaultTimeout(120_000);

let db: TestDatabase;
let before: Awaited<ReturnType<typeof snapshot>>;
const ROWS = 20_000;

/** Everything an upgrade must keep, as text that compares exactly. */
async function snapshot() {
  const [rows] = await db.setup<{ n: string; md5: string; max_id: string }[]>`
    select count(*) as n, md5(string_agg(concat_ws('|', id, bid_id, user_id, site_domain, win_status, win_price, bid_price, currency, enriched,
                                                   "timestamp", auction_timestamp, user_interests, raw_data, created_at, updated_at), ',' order by id)) as md5,
           max(id)::text as max_id
    from auction_outcomes`;
  const [hourly] = await db.setup<{ md5: string }[]>`
    select md5(string_agg(concat_ws('|', bucket, currency, win_status, enriched, outcomes, win_price_sum, bid_price_sum), ',' order by bucket, currency, win_status, enriched)) as md5
    from outcome_rollup_hourly`;
  const [daily] = await db.setup<{ md5: string }[]>`
    select md5(string_agg(concat_ws('|', day, site_domain, currency, win_status, enriched, outcomes, win_price_sum, bid_price_sum), ',' order by day, site_domain, currency, win_status, enriched)) as md5
    from outcome_rollup_daily_site`;
  const [letters] = await db.setup<{ md5: string }[]>`
    select md5(string_agg(concat_ws('|', id, topic, "partition", "offset", message_key, payload, reason, received_at), ',' order by id)) as md5 from dead_letters`;
  return { rows: rows!, hourly: hourly!.md5, daily: daily!.md5, letters: letters!.md5 };
}

beforeAll(async () => {
  db = await createTestDatabase("upgrade", { migrate: false });
  // The schema as it was before partitioning: migrations 001-007 only.
  const dir = mkdtempSync(join(tmpdir(), "helios-migrations-"));
  for (const name of readdirSync(MIGRATIONS_DIR).filter((n) => n < "008")) cpSync(join(MIGRATIONS_DIR, name), join(dir, name));
  await applyMigrations(db.setup, quietLog, { dir });
  rmSync(dir, { recursive: true, force: true });
  // 20,000 outcomes over 40 days as the old writer stored them (its trigger kept the rollups), and dead letters.
  await db.setup`
    insert into auction_outcomes (bid_id, user_id, site_domain, win_status, win_price, bid_price, currency, enriched, "timestamp", auction_timestamp, user_interests, raw_data)
    select 'old-' || i, 'user-' || (i % 97), case when i % 11 = 0 then null else 'site-' || (i % 13) || '.example' end, i % 3 = 0,
           case when i % 3 = 0 then (i % 500) / 100.0 + 0.01 else 0 end, (i % 500) / 100.0 + 0.01, case when i % 17 = 0 then 'EUR' else 'USD' end,
           i % 5 <> 0, '2025-08-01T00:00:00Z'::timestamptz + i * interval '172.8 seconds' + (i % 7) * interval '1 microsecond',
           '2025-08-01T00:00:00Z'::timestamptz + i * interval '172.8 seconds' + interval '50 milliseconds', '["sports"]'::jsonb,
           jsonb_build_object('bid_request_id', 'old-' || i)
    from generate_series(1, ${ROWS}::int) as i`;
  await db.setup`
    insert into dead_letters (topic, "partition", "offset", message_key, payload, reason)
    select 'auction_outcomes', i % 2, i, convert_to('k' || i, 'UTF8'), convert_to('{bad', 'UTF8'), 'value is not valid JSON' from generate_series(1, 50) as i`;
  before = await snapshot();
  expect(Number(before.rows.n)).toBe(ROWS);
  await applyMigrations(db.setup, quietLog);
});

afterAll(async () => {
  await db.drop();
});

describe("migrate on a populated unpartitioned table", () => {
  test("keeps every row and id, every rollup figure and every dead letter exactly", async () => {
    expect(await snapshot()).toEqual(before);
  });

  test("attaches the old table as the partition of everything before the boundary, and keeps a default partition", async () => {
    const partitions = await db.setup<{ name: string; bound: string }[]>`
      select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'auction_outcomes'::regclass order by c.relname`;
    const [boundary] = await db.setup<{ value: string }[]>`select value from storage_settings where name = 'legacy_boundary'`;
    expect([...partitions]).toEqual([
      { name: "auction_outcomes_default", bound: "DEFAULT" },
      { name: "auction_outcomes_legacy", bound: `FOR VALUES FROM (MINVALUE) TO ('${boundary!.value}')` },
    ]);
    // The old table's indexes were adopted, not rebuilt: the same index names under the new parents.
    const adopted = await db.setup<{ n: string }[]>`
      select count(*) as n from pg_inherits i join pg_class c on c.oid = i.inhrelid where c.relname like 'auction_outcomes_legacy_%_idx'`;
    expect(adopted[0]!.n).toBe("9");
  });

  test("goes on writing: new ids after the old ones, a redelivered old outcome skipped, a new day in its own partition", async () => {
    const result = await writeBatch(
      db.sql,
      batchOf([
        outcomeAt("old-5", "2025-08-01T00:14:24.000005Z"), // the same auction time as stored: a redelivery
        outcomeAt("new-1", new Date(Date.now() + 5 * 86_400_000).toISOString()),
      ]),
    );
    expect(result).toMatchObject({ inserted: 1, duplicates: 1 });
    const [row] = await db.setup<
      { id: string; partition: string }[]
    >`select id::text, tableoid::regclass::text as partition from auction_outcomes where bid_id = 'new-1'`;
    expect(BigInt(row!.id)).toBeGreaterThan(BigInt(before.rows.max_id));
    expect(row!.partition).toMatch(/^auction_outcomes_\d{8}$/);
    const { body } = await testApp(db.config, db.sql).get("/api/outcomes/stats/");
    expect(body.total_outcomes).toBe(ROWS + 1);
  });
});
