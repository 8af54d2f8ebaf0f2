// A database per test file: created fresh, migrated, dropped at the end, so runs never see
// each other's data. The server comes from TEST_DATABASE_URL (default: local trust auth).
import { type Config, loadConfig } from "../../src/config";
import { createSql, type Sql } from "../../src/db/client";
import { applyMigrations } from "../../src/db/migrate";
import { DEFAULT_SERVER_URL, databaseServer, quietLog } from "./postgres";

export { quietLog };

export const SERVER = databaseServer(process.env.TEST_DATABASE_URL ?? DEFAULT_SERVER_URL);
export const SERVER_URL = SERVER.url;
export const urlFor = SERVER.urlFor;

export interface TestDatabase {
  name: string;
  url: string;
  config: Config;
  /** A pool with the app's settings (statement timeout included), as the code under test would have. */
  sql: Sql;
  /** A pool for set-up and checks only: no statement timeout, whatever the machine's speed. */
  setup: Sql;
  drop(): Promise<void>;
}

export function testConfig(url: string, env: Record<string, string> = {}): Config {
  return loadConfig({ DATABASE_URL: url, LOG_LEVEL: "ERROR", ...env });
}

export async function createTestDatabase(label: string, options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `helios_test_${label.replace(/[^a-z0-9]/gi, "_").toLowerCase()}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = SERVER.admin();
  await admin`create database ${admin(name)}`;
  await admin.end();
  const url = urlFor(name);
  const config = testConfig(url);
  const sql = createSql(config.db, { max: 4 });
  const setup = SERVER.connect(name, 2);
  if (options.migrate !== false) await applyMigrations(setup, quietLog);
  return {
    name,
    url,
    config,
    sql,
    setup,
    async drop() {
      await Promise.all([sql.end({ timeout: 5 }), setup.end({ timeout: 5 })]);
      const dropper = SERVER.admin();
      await SERVER.drop(dropper, name);
      await dropper.end();
    },
  };
}

/** Empties the outcomes and dead letters between tests; delete, not truncate, so the rollups follow. */
export async function emptyIngestTables(db: TestDatabase): Promise<void> {
  await db.setup`delete from auction_outcomes`;
  await db.setup`delete from dead_letters`;
}
