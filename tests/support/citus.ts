// A Citus coordinator for the tests of tests/citus/: TEST_CITUS_URL, else the cluster of
// scripts/citus-local.sh on its default port. One probe at load time decides whether the Citus
// tests run; when they cannot, `citusSkipReason` says why and the files skip (a probe of a port
// that does not answer costs one refused connection, well under a second).
//
// A test database on Citus is a database of the same name on the coordinator and on every worker,
// each with the citus extension, and the workers registered with the coordinator in it (Citus keeps
// its node list per database). Migrations then run against the coordinator like anywhere else.
import { createSql, type Sql } from "../../src/db/client";
import { applyMigrations } from "../../src/db/migrate";
import { type TestDatabase, testConfig } from "./db";
import { databaseServer, quietLog } from "./postgres";

export const CITUS_DEFAULT_URL = "postgres://postgres@127.0.0.1:55450/postgres";
const url = process.env.TEST_CITUS_URL ?? CITUS_DEFAULT_URL;
export const CITUS = databaseServer(url);

interface Node {
  host: string;
  port: number;
}

/** The coordinator's own address and its workers, read from the coordinator's `postgres` database. */
async function probe(): Promise<{ reason?: string; workers: Node[]; coordinator?: Node }> {
  const where = url.replace(/\/\/[^@/]*@/, "//");
  const sql = createSql(testConfig(url).db, { max: 1, statementTimeoutMs: 5_000 });
  try {
    const [ext] = await sql<{ available: boolean; created: boolean }[]>`
      select exists (select from pg_available_extensions where name = 'citus') as available,
             exists (select from pg_extension where extname = 'citus') as created`;
    if (!ext!.available) return { reason: `the citus extension is not installed on the PostgreSQL at ${where}`, workers: [] };
    if (!ext!.created)
      return { reason: `${where} has citus installed but not created in its postgres database: not a coordinator made by scripts/citus-local.sh`, workers: [] };
    const nodes = await sql<{ nodename: string; nodeport: number; groupid: number }[]>`
      select nodename, nodeport, groupid from pg_dist_node where isactive and noderole = 'primary' order by nodeport`;
    const workers = nodes.filter((node) => node.groupid !== 0).map((node) => ({ host: node.nodename, port: node.nodeport }));
    const coordinator = nodes.find((node) => node.groupid === 0);
    if (workers.length === 0 || !coordinator)
      return {
        reason: `the coordinator at ${where} has no workers or no coordinator host registered (scripts/citus-local.sh start registers them)`,
        workers: [],
      };
    return { workers, coordinator: { host: coordinator.nodename, port: coordinator.nodeport } };
  } catch (error) {
    const given = process.env.TEST_CITUS_URL ? "TEST_CITUS_URL" : "the default coordinator of scripts/citus-local.sh";
    return {
      reason: `no Citus coordinator answers at ${where} (${given}: ${(error as Error).message}); \`bun run test\` starts one when citus is installed`,
      workers: [],
    };
  } finally {
    await sql.end({ timeout: 1 });
  }
}

const found = await probe();
/** Why the Citus tests skip here, or undefined when a coordinator with workers answers. */
export const citusSkipReason = found.reason;
export const CITUS_WORKERS = found.workers;
if (citusSkipReason) console.log(`Citus tests skipped: ${citusSkipReason}`);

const nodeUrl = (node: Node, database: string) => {
  const target = new URL(url);
  target.hostname = node.host;
  target.port = String(node.port);
  target.pathname = `/${database}`;
  return target.toString();
};

const connectTo = (node: Node, database: string) => createSql(testConfig(nodeUrl(node, database)).db, { max: 1, statementTimeoutMs: 0 });

/**
 * The database on every node, the extension in each, and (unless `citus: false`) the coordinator's
 * copy made a coordinator (`makeCoordinator`) and migrated.
 */
export async function createCitusDatabase(label: string, options: { migrate?: boolean; citus?: boolean; shardCount?: number } = {}): Promise<TestDatabase> {
  const name = `helios_citus_${label.replace(/[^a-z0-9]/gi, "_").toLowerCase()}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const coordinator = found.coordinator!;
  for (const node of [coordinator, ...CITUS_WORKERS]) {
    const admin = connectTo(node, "postgres");
    try {
      await admin`create database ${admin(name)}`;
      // Fewer shards than Citus's default 32 keep each test's DDL quick on two shared cores; the
      // distribution logic is the same at any count (docs/scaling-out.md sizes production's).
      await admin.unsafe(`alter database "${name}" set citus.shard_count = ${options.shardCount ?? 4}`);
    } finally {
      await admin.end({ timeout: 1 });
    }
    if (node === coordinator) continue;
    const db = connectTo(node, name);
    try {
      await db`create extension citus`;
    } finally {
      await db.end({ timeout: 1 });
    }
  }
  const setup = CITUS.connect(name, 2);
  const dbUrl = CITUS.urlFor(name);
  const config = testConfig(dbUrl);
  const sql = createSql(config.db, { max: 4 });
  if (options.citus !== false) {
    await makeCoordinator(setup);
    if (options.migrate !== false) await applyMigrations(setup, quietLog);
  }
  return {
    name,
    url: dbUrl,
    config,
    sql,
    setup,
    async drop() {
      await sql.end({ timeout: 5 });
      // A commit a restarted worker cut short leaves a prepared transaction there, which only this
      // database's coordinator can finish, and which would keep the worker's copy from being dropped.
      if (options.citus !== false) await setup`select recover_prepared_transactions()`.catch(() => {});
      await setup.end({ timeout: 5 });
      for (const worker of CITUS_WORKERS) {
        const db = connectTo(worker, name);
        try {
          for (const { gid } of await db<{ gid: string }[]>`select gid from pg_prepared_xacts where database = current_database()`) {
            await db.unsafe(`rollback prepared '${gid.replace(/'/g, "''")}'`);
          }
        } catch {
          // The database may be gone already; the drop below says so if it matters.
        } finally {
          await db.end({ timeout: 1 });
        }
      }
      for (const node of [coordinator, ...CITUS_WORKERS]) {
        const admin = connectTo(node, "postgres");
        try {
          await admin`drop database if exists ${admin(name)} with (force)`;
        } finally {
          await admin.end({ timeout: 1 });
        }
      }
    },
  };
}

/** What an operator does to make a database a coordinator: the extension, then its own address and the workers. */
export async function makeCoordinator(setup: Sql): Promise<void> {
  const coordinator = found.coordinator!;
  await setup`create extension if not exists citus`;
  await setup`select citus_set_coordinator_host(${coordinator.host}, ${coordinator.port})`;
  for (const worker of CITUS_WORKERS) await setup`select citus_add_node(${worker.host}, ${worker.port})`;
}

/** How a table is distributed: 'h' hash (with its column), 'n' reference, or null when Citus does not know it. */
export async function distributionOf(sql: Sql, table: string): Promise<{ method: string; column: string | null } | null> {
  const [row] = await sql<{ method: string; column: string | null }[]>`
    select partmethod::text as method, column_to_column_name(logicalrelid, partkey) as column
      from pg_dist_partition where logicalrelid = to_regclass(${table})`;
  return row ?? null;
}

/** The hourly rollup summed per bucket, in bucket order: what the Citus tests compare across steps. */
export const hourlyRollups = (sql: Sql) =>
  sql<{ bucket: string; outcomes: string; win: string }[]>`
    select bucket::text, sum(outcomes)::text as outcomes, sum(win_price_sum)::text as win
      from outcome_rollup_hourly group by bucket order by bucket`;
