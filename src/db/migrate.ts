// Migration runner: plain SQL files from migrations/, applied in name order, each in its own
// transaction, under an advisory lock so replicas starting together cannot collide, and
// recorded with a checksum so an applied file edited afterwards is refused.
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { DatabaseConfig } from "../config";
import type { Logger } from "../log";
import { createSql, databaseName, type Sql } from "./client";

// Any constant works; it only has to be the same for every replica of this service.
const MIGRATION_LOCK_KEY = 727_274_001;

// From source, migrations/ sits two levels above src/db/. In the `bun build --compile`
// executable (scripts/build-binary.sh) every module's import.meta.dir is the virtual root
// /$bunfs/root, and `--asset=migrations` embeds the folder there under its own name, so the
// image ships the exact files the checksums were taken from and nothing can drift beside it.
// import.meta.dirname is Bun's import.meta.dir under its Node-compatible name, which Deno has too.
const HERE = import.meta.dirname!;
const COMPILED = HERE.startsWith("/$bunfs/") || HERE.includes("~BUN");
export const MIGRATIONS_DIR = COMPILED ? join(HERE, "migrations") : join(HERE, "../../migrations");

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationStatus {
  applied: { name: string; appliedAt: string }[];
  pending: string[];
}

export class MigrationError extends Error {}

export function checksumOf(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export async function readMigrationFiles(dir = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith(".sql")).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir, name), "utf8");
      return { name, sql, checksum: checksumOf(sql) };
    }),
  );
}

async function ensureLedger(sql: Sql): Promise<void> {
  await sql`
    create table if not exists schema_migrations (
      name text primary key,
      checksum text not null,
      applied_at timestamptz not null default now()
    )`;
}

export async function appliedChecksums(sql: Sql): Promise<Map<string, { checksum: string; appliedAt: string }>> {
  const exists = await sql<{ present: boolean }[]>`select to_regclass('schema_migrations') is not null as present`;
  if (!exists[0]!.present) return new Map();
  const rows = await sql<{ name: string; checksum: string; applied_at: string }[]>`
    select name, checksum, applied_at from schema_migrations order by name`;
  return new Map(rows.map((row) => [row.name, { checksum: row.checksum, appliedAt: row.applied_at }]));
}

/** Refuses to go on when an applied migration's file changed or disappeared. */
export function verifyApplied(files: MigrationFile[], applied: Map<string, { checksum: string }>): void {
  const byName = new Map(files.map((file) => [file.name, file]));
  for (const [name, record] of applied) {
    const file = byName.get(name);
    if (!file) throw new MigrationError(`Migration ${name} was applied but its file is missing from migrations/.`);
    if (file.checksum !== record.checksum) {
      throw new MigrationError(
        `Migration ${name} was edited after it was applied (checksum ${record.checksum.slice(0, 12)} in the database, ${file.checksum.slice(0, 12)} on disk); add a new migration instead of editing an applied one.`,
      );
    }
  }
}

export async function migrationStatus(sql: Sql, dir = MIGRATIONS_DIR): Promise<MigrationStatus> {
  const files = await readMigrationFiles(dir);
  const applied = await appliedChecksums(sql);
  verifyApplied(files, applied);
  return {
    applied: [...applied].map(([name, record]) => ({ name, appliedAt: record.appliedAt })),
    pending: files.filter((file) => !applied.has(file.name)).map((file) => file.name),
  };
}

export interface MigrationOptions {
  dir?: string;
  /**
   * Session settings the migration files read with current_setting() (for example
   * helios.partition_interval): how a plain SQL file takes a value from the configuration.
   */
  settings?: Record<string, string>;
}

export async function applyMigrations(sql: Sql, log: Logger, options: MigrationOptions = {}): Promise<string[]> {
  const files = await readMigrationFiles(options.dir);
  // reserve() pins one connection: a session advisory lock belongs to the connection holding it.
  const conn = await sql.reserve();
  try {
    for (const [name, value] of Object.entries(options.settings ?? {})) await conn`select set_config(${name}, ${value}, false)`;
    await conn`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      await ensureLedger(conn as unknown as Sql);
      const applied = await appliedChecksums(conn as unknown as Sql);
      verifyApplied(files, applied);
      const done: string[] = [];
      for (const file of files.filter((f) => !applied.has(f.name))) {
        const started = performance.now();
        await conn.unsafe("begin");
        try {
          // A migration file is trusted project code and may hold many statements.
          await conn.unsafe(file.sql);
          await conn`insert into schema_migrations (name, checksum) values (${file.name}, ${file.checksum})`;
          await conn.unsafe("commit");
        } catch (error) {
          await conn.unsafe("rollback");
          throw new MigrationError(`Migration ${file.name} failed: ${(error as Error).message}`);
        }
        log.info("Migration applied", { migration: file.name, duration_ms: Math.round(performance.now() - started) });
        done.push(file.name);
      }
      return done;
    } finally {
      await conn`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    }
  } finally {
    conn.release();
  }
}

/** Creates the configured database when it does not exist yet (needs CREATEDB on the role). */
export async function ensureDatabase(db: DatabaseConfig, log: Logger): Promise<void> {
  const name = databaseName(db);
  const admin = createSql(db, { database: "postgres", max: 1 });
  try {
    const found = await admin`select 1 from pg_database where datname = ${name}`;
    if (found.length > 0) return;
    try {
      await admin`create database ${admin(name)}`;
      log.info("Database created", { database: name });
    } catch (error) {
      // Another replica may have created it between our check and our CREATE: PostgreSQL says
      // 42P04 (duplicate_database) or, when both CREATEs race in the catalog, 23505 (unique_violation).
      const code = (error as { code?: string }).code;
      if (code !== "42P04" && code !== "23505") throw error;
    }
  } finally {
    await admin.end({ timeout: 5 });
  }
}
