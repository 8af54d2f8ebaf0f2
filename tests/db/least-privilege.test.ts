// The least-privilege setup of docs/operations.md, run exactly as written (scripts/db-roles.sql, then
// `migrate` as the migrator, then scripts/db-grants.sql): the migrator migrates, the consumer's
// role stores a batch (rollups maintained through the SECURITY DEFINER trigger of migration 004)
// and its lag, the api role serves every route — and each role is refused everything else.
// Roles are cluster-wide: each run uses its own names and drops them at the end.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { createSql, type Sql } from "../../src/db/client";
import { applyMigrations, readMigrationFiles } from "../../src/db/migrate";
import { type PendingRow, writeBatch } from "../../src/ingest/batch-writer";
import { recordConsumerLag } from "../../src/ingest/kafka/consumer-lag";
import { readImportProgress, recordImportProgress } from "../../src/ingest/original/import-progress.repository";
import { parseOutcomeMessage } from "../../src/outcomes/outcome.mapping";
import { runMaintenancePass } from "../../src/storage/maintain";
import { createTestDatabase, quietLog, SERVER_URL, type TestDatabase, testConfig, urlFor } from "../support/db";
import { messageOf, OUTCOMES } from "../support/fixtures";
import { testApp } from "../support/http";
import { ROOT } from "../support/project";

setDefaultTimeout(60_000);

const SUFFIX = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const ROLE = { migrator: `helios_migrator_${SUFFIX}`, api: `helios_api_${SUFFIX}`, consumer: `helios_consumer_${SUFFIX}` };

let db: TestDatabase;
const pools: Sql[] = [];

/** A script of scripts/ with this run's role names. */
async function script(name: string): Promise<string> {
  const text = await Bun.file(join(ROOT, "scripts", name)).text();
  return text.replace(/\bhelios_(migrator|api|consumer)\b/g, (_, role: keyof typeof ROLE) => ROLE[role]);
}

function urlAs(role: string): string {
  const url = new URL(urlFor(db.name));
  url.username = role;
  url.password = "";
  return url.toString();
}

function poolAs(role: string, statementTimeoutMs?: number): Sql {
  const sql = createSql(testConfig(urlAs(role)).db, { max: 2, statementTimeoutMs });
  pools.push(sql);
  return sql;
}

/** The SQLSTATE a statement fails with, or "ok". */
async function outcomeOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return "ok";
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

const encoder = new TextEncoder();
function pending(index: number, offset: number): PendingRow {
  const payload = encoder.encode(JSON.stringify(messageOf(OUTCOMES[index]!)));
  const parsed = parseOutcomeMessage(payload, "2025-11-01T00:00:00Z");
  if (!parsed.ok) throw new Error(parsed.reason);
  return { row: parsed.row, source: { topic: "auction_outcomes", partition: 0, offset: String(offset), key: null, payload, timestamp: null } };
}

beforeAll(async () => {
  db = await createTestDatabase("privilege", { migrate: false });
  await db.sql.unsafe(await script("db-roles.sql"));
});

afterAll(async () => {
  await Promise.all(pools.map((sql) => sql.end({ timeout: 1 })));
  await db.drop();
  const admin = createSql(testConfig(SERVER_URL).db, { max: 1 });
  for (const role of Object.values(ROLE)) await admin`drop role if exists ${admin(role)}`;
  await admin.end({ timeout: 1 });
});

describe("least-privilege roles", () => {
  test("the migrator applies every migration and grants the other roles their tables", async () => {
    const migrator = poolAs(ROLE.migrator, 0);
    const files = (await readMigrationFiles()).map((file) => file.name);
    expect(await applyMigrations(migrator, quietLog)).toEqual(files);
    await migrator.unsafe(await script("db-grants.sql"));
    const [owner] = await db.sql<{ owner: string; definer: boolean }[]>`
      select pg_get_userbyid(proowner) as owner, prosecdef as definer from pg_proc where proname = 'outcome_rollups_apply'`;
    expect(owner).toEqual({ owner: ROLE.migrator, definer: true });
  });

  test("every SECURITY DEFINER function pins its search_path to the schema, pg_temp last, and is not executable by PUBLIC", async () => {
    // CREATE OR REPLACE resets a function's SET clauses: a migration that redefines one must pin it again.
    const functions = await db.sql<{ name: string; config: string[] | null; public: boolean }[]>`
      select p.oid::regprocedure::text as name, p.proconfig as config, has_function_privilege('public', p.oid, 'execute') as public
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where p.prosecdef and n.nspname = current_schema() order by 1`;
    expect(functions.length).toBeGreaterThanOrEqual(6);
    for (const fn of functions)
      expect({ name: fn.name, config: fn.config, public: fn.public }).toEqual({ name: fn.name, config: ["search_path=public, pg_temp"], public: false });
  });

  test("the consumer stores a batch, a redelivery and its lag; the rollups follow through the trigger", async () => {
    const consumer = poolAs(ROLE.consumer);
    const batch = {
      rows: [pending(0, 1), pending(1, 2), pending(2, 3)],
      rejections: [
        {
          source: { topic: "auction_outcomes", partition: 0, offset: "4", key: null, payload: encoder.encode("not json"), timestamp: null },
          reason: "not JSON",
        },
      ],
    };
    expect(await writeBatch(consumer, batch)).toMatchObject({ inserted: 3, duplicates: 0, deadLettered: 1 });
    expect(await writeBatch(consumer, batch)).toMatchObject({ inserted: 0, duplicates: 3, deadLettered: 1 });
    const lag = { groupId: "g", topic: "auction_outcomes", partition: 0, committedOffset: "4", highWatermark: "5", lag: 1 };
    await recordConsumerLag(consumer, [lag as never]);
    await recordConsumerLag(consumer, [{ ...lag, committedOffset: "5", lag: 0 } as never]);
    const [rollup] = await db.sql<{ n: string }[]>`select sum(outcomes) as n from outcome_rollup_hourly`;
    expect(rollup!.n).toBe("3");
    const [letters] = await db.sql<{ n: string }[]>`select count(*) as n from dead_letters`;
    expect(letters!.n).toBe("1");
  });

  test("the consumer's role keeps an import's progress, as import-original does under it", async () => {
    const consumer = poolAs(ROLE.consumer);
    const step = { lastId: "200", read: 200, stored: 190, duplicates: 6, deadLettered: 4 };
    await recordImportProgress(consumer, "db:5432/original", "public.outcomes_auctionoutcome", step);
    await recordImportProgress(consumer, "db:5432/original", "public.outcomes_auctionoutcome", { ...step, lastId: "400" });
    expect(await readImportProgress(consumer, "db:5432/original", "public.outcomes_auctionoutcome")).toEqual({ lastId: "400", rowsRead: 400 });
  });

  test("the api role answers every route 200 and /readyz ready", async () => {
    const api = testApp(testConfig(urlAs(ROLE.api)), poolAs(ROLE.api));
    const [first] = await db.sql<{ id: string }[]>`select min(id)::text as id from auction_outcomes`;
    const paths = [...new Set(api.app.routes.filter((route) => route.method === "GET").map((route) => route.path))]
      .filter((path) => !path.includes("*") && !path.includes(":name"))
      .map((path) => path.replace(":id", first!.id));
    expect(paths).toContain("/readyz");
    // A breakdown needs by=; with tz= it also reads pg_timezone_names under this role.
    const query: Record<string, string> = { "/api/outcomes/breakdown/": "?by=site_domain,day&tz=Europe/Berlin" };
    const statuses = Object.fromEntries(await Promise.all(paths.map(async (path) => [path, (await api.get(path + (query[path] ?? ""))).status] as const)));
    expect(statuses).toEqual(Object.fromEntries(paths.map((path) => [path, 200])));
    expect((await api.get("/api/outcomes/stats/")).body.total_outcomes).toBe(3);
  });

  test("the api role may not write, create or make temporary tables", async () => {
    const api = poolAs(ROLE.api);
    const refused = {
      insert: await outcomeOf(
        () => api`insert into auction_outcomes (bid_id, user_id, win_status, "timestamp", raw_data) values ('x', 'u', true, now(), '{}')`,
      ),
      update: await outcomeOf(() => api`update auction_outcomes set win_price = 0`),
      delete: await outcomeOf(() => api`delete from auction_outcomes`),
      truncate: await outcomeOf(() => api`truncate dead_letters`),
      rollup: await outcomeOf(() => api`update outcome_rollup_hourly set outcomes = 0`),
      ledger: await outcomeOf(() => api`delete from schema_migrations`),
      create: await outcomeOf(() => api`create table mine (id int)`),
      temporary: await outcomeOf(() => api`create temporary table mine (id int)`),
    };
    expect(refused).toEqual({
      insert: "42501",
      update: "42501",
      delete: "42501",
      truncate: "42501",
      rollup: "42501",
      ledger: "42501",
      create: "42501",
      temporary: "42501",
    });
  });

  test("the consumer's role may not read outcomes, change or delete them, touch the rollups or the ledger, or create", async () => {
    const consumer = poolAs(ROLE.consumer);
    const refused = {
      read: await outcomeOf(() => consumer`select raw_data from auction_outcomes`),
      update: await outcomeOf(() => consumer`update auction_outcomes set win_price = 0`),
      delete: await outcomeOf(() => consumer`delete from auction_outcomes`),
      readLetters: await outcomeOf(() => consumer`select payload from dead_letters`),
      rollupWrite: await outcomeOf(() => consumer`insert into outcome_rollup_hourly values (now(), 'USD', true, true, 1, 1, 1)`),
      rollupRead: await outcomeOf(() => consumer`select * from outcome_rollup_daily_site`),
      ledger: await outcomeOf(() => consumer`select * from schema_migrations`),
      callTrigger: await outcomeOf(() => consumer`select outcome_rollups_apply()`),
      create: await outcomeOf(() => consumer`create table mine (id int)`),
      temporary: await outcomeOf(() => consumer`create temporary table outcome_rollup_hourly (id int)`),
    };
    expect(refused).toEqual({
      read: "42501",
      update: "42501",
      delete: "42501",
      readLetters: "42501",
      rollupWrite: "42501",
      rollupRead: "42501",
      ledger: "42501",
      callTrigger: "42501",
      create: "42501",
      temporary: "42501",
    });
  });

  test("the consumer's role runs a maintenance pass: partitions made ahead, an expired one dropped, rows it cannot read moved", async () => {
    const consumer = poolAs(ROLE.consumer, 0);
    // A row another tool wrote for a period without a partition, and a partition that will expire.
    await db.setup`insert into auction_outcomes (bid_id, user_id, win_status, "timestamp", raw_data) values ('foreign-1', 'u', true, '2020-03-03T03:00:00Z', '{}')`;
    await db.setup`select helios_ensure_outcome_partition('2020-01-01T00:00:00Z')`;
    const report = await runMaintenancePass(consumer, loadConfig({ RETENTION_DAYS: "1800", PARTITIONS_AHEAD: "1" }).storage, quietLog);
    expect(report.created).toEqual(expect.arrayContaining(["auction_outcomes_20200303"]));
    expect(report.created.length).toBeGreaterThanOrEqual(3);
    expect(report.movedFromDefault).toBe(1);
    expect(report.dropped).toEqual(["auction_outcomes_20200101", "auction_outcomes_20200303"]);
    expect(report.postponed).toEqual([]);
  });
});
