// A database per test file: created fresh, migrated, dropped at the end, so runs never see
// each other's data. The server comes from TEST_DATABASE_URL (default: local trust auth).
import { loadConfig, type Config } from "../../src/config";
import { createSql, type Sql } from "../../src/db/client";
import { applyMigrations } from "../../src/db/migrate";
import { createLogger } from "../../src/log";

export const SERVER_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  name: string;
  url: string;
  config: Config;
  sql: Sql;
  drop(): Promise<void>;
}

export const quietLog = createLogger("ERROR");

export function urlFor(name: string): string {
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export function testConfig(url: string, env: Record<string, string> = {}): Config {
  return loadConfig({ DATABASE_URL: url, LOG_LEVEL: "ERROR", ...env });
}

export async function createTestDatabase(label: string, options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `helios_test_${label.replace(/[^a-z0-9]/gi, "_").toLowerCase()}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = createSql(loadConfig({ DATABASE_URL: SERVER_URL }).db, { max: 1 });
  await admin`create database ${admin(name)}`;
  await admin.end();
  const url = urlFor(name);
  const config = testConfig(url);
  const sql = createSql(config.db, { max: 4 });
  if (options.migrate !== false) await applyMigrations(sql, quietLog);
  return {
    name,
    url,
    config,
    sql,
    async drop() {
      await sql.end({ timeout: 5 });
      const dropper = createSql(loadConfig({ DATABASE_URL: SERVER_URL }).db, { max: 1 });
      await dropper`drop database if exists ${dropper(name)} with (force)`;
      await dropper.end();
    },
  };
}
