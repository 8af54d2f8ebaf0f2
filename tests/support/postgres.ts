// A PostgreSQL server that tests and benchmarks make their own databases on: its URL, a database's
// URL, an admin connection, and creating, migrating and dropping a database. Tests use
// TEST_DATABASE_URL (tests/support/db.ts), benchmarks BENCH_DATABASE_URL (bench/environment.ts).
import { loadConfig } from "../../src/config";
import { createSql, type Sql } from "../../src/db/client";
import { applyMigrations } from "../../src/db/migrate";
import { createLogger } from "../../src/log";

export const quietLog = createLogger("ERROR");

export const DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres";

export interface DatabaseServer {
  url: string;
  /** The URL of one database on this server. */
  urlFor(database: string): string;
  /** One connection to the server's `postgres` database, without a statement timeout. */
  admin(): Sql;
  /** A pool on one database for set-up and checks: no statement timeout (loads and COPYs are long). */
  connect(database: string, max?: number, applicationName?: string): Sql;
  exists(admin: Sql, database: string): Promise<boolean>;
  drop(admin: Sql, database: string): Promise<void>;
  /** Applies every migration to the database. */
  migrate(database: string): Promise<string[]>;
}

export function databaseServer(url: string): DatabaseServer {
  const urlFor = (database: string) => {
    const target = new URL(url);
    target.pathname = `/${database}`;
    return target.toString();
  };
  const connect = (database: string, max = 2, applicationName = "helios-test-setup") =>
    createSql(loadConfig({ DATABASE_URL: urlFor(database) }).db, { max, applicationName, statementTimeoutMs: 0 });
  return {
    url,
    urlFor,
    admin: () => createSql(loadConfig({ DATABASE_URL: url }).db, { max: 1, statementTimeoutMs: 0 }),
    connect,
    exists: async (admin, database) => (await admin`select 1 from pg_database where datname = ${database}`).length > 0,
    drop: async (admin, database) => void (await admin`drop database if exists ${admin(database)} with (force)`),
    async migrate(database) {
      const sql = connect(database, 1);
      try {
        return await applyMigrations(sql, quietLog);
      } finally {
        await sql.end({ timeout: 5 });
      }
    },
  };
}
