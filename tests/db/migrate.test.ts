import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFile, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { createSql } from "../../src/db/client";
import { applyMigrations, checksumOf, MIGRATIONS_DIR, MigrationError, migrationStatus } from "../../src/db/migrate";
import { createTestDatabase, quietLog, SERVER_URL, type TestDatabase, urlFor } from "../support/db";
import { ROOT } from "../support/project";

// Subprocesses start a whole Bun each; a loaded 2-core machine needs more than the 5 s default.
setDefaultTimeout(30_000);

const created: TestDatabase[] = [];
const spawnedDatabases: string[] = [];
const tempDirs: string[] = [];

async function database(label: string, migrate: boolean): Promise<TestDatabase> {
  const db = await createTestDatabase(label, { migrate });
  created.push(db);
  return db;
}

async function tempMigrations(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "helios-migrations-"));
  tempDirs.push(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

async function realMigrationNames(): Promise<string[]> {
  return (await readdir(MIGRATIONS_DIR)).filter((name) => name.endsWith(".sql")).sort();
}

function freshDatabaseName(label: string): string {
  const name = `helios_test_${label}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  spawnedDatabases.push(name);
  return name;
}

async function runMain(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn(["bun", "run", "src/main.ts", ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: "INFO", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, stdout, stderr] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()]);
  return { code, stdout, stderr };
}

async function withServer<T>(work: (sql: ReturnType<typeof createSql>) => Promise<T>): Promise<T> {
  const admin = createSql(loadConfig({ DATABASE_URL: SERVER_URL }).db, { max: 1 });
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

async function withDatabase<T>(name: string, work: (sql: ReturnType<typeof createSql>) => Promise<T>): Promise<T> {
  const sql = createSql(loadConfig({ DATABASE_URL: urlFor(name) }).db, { max: 1 });
  try {
    return await work(sql);
  } finally {
    await sql.end();
  }
}

afterAll(async () => {
  await Promise.all(created.map((db) => db.drop()));
  await withServer(async (admin) => {
    for (const name of spawnedDatabases) await admin`drop database if exists ${admin(name)} with (force)`;
  });
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("a fresh apply of the project's migrations", () => {
  let db: TestDatabase;
  let applied: string[];

  beforeAll(async () => {
    db = await database("migrate_fresh", false);
    applied = await applyMigrations(db.sql, quietLog);
  });

  test("applies every file of migrations/ in name order", async () => {
    expect(applied).toEqual(await realMigrationNames());
  });

  test("records each with its checksum", async () => {
    const rows = await db.sql<{ name: string; checksum: string }[]>`select name, checksum from schema_migrations order by name`;
    const expected = await Promise.all(
      (await realMigrationNames()).map(async (name) => ({ name, checksum: checksumOf(await Bun.file(join(MIGRATIONS_DIR, name)).text()) })),
    );
    expect([...rows]).toEqual(expected);
  });

  test("creates the auction_outcomes table with the original's columns", async () => {
    const columns = await db.sql<
      { column_name: string; data_type: string; is_nullable: string; character_maximum_length: number | null; numeric_scale: number | null }[]
    >`
      select column_name, data_type, is_nullable, character_maximum_length, numeric_scale
      from information_schema.columns where table_name = 'auction_outcomes' order by ordinal_position`;
    expect(columns.map((c) => [c.column_name, c.data_type, c.is_nullable])).toEqual([
      ["id", "bigint", "NO"],
      ["bid_id", "character varying", "NO"],
      ["user_id", "character varying", "NO"],
      ["site_domain", "character varying", "YES"],
      ["win_status", "boolean", "NO"],
      ["win_price", "numeric", "NO"],
      ["bid_price", "numeric", "NO"],
      ["currency", "character varying", "NO"],
      ["enriched", "boolean", "NO"],
      ["timestamp", "timestamp with time zone", "NO"],
      ["auction_timestamp", "timestamp with time zone", "YES"],
      ["user_interests", "jsonb", "NO"],
      ["raw_data", "jsonb", "NO"],
      ["created_at", "timestamp with time zone", "NO"],
      ["updated_at", "timestamp with time zone", "NO"],
    ]);
    const byName = Object.fromEntries(columns.map((c) => [c.column_name, c]));
    expect(byName.bid_id!.character_maximum_length).toBe(255);
    expect(byName.currency!.character_maximum_length).toBe(3);
    // Unconstrained numeric (scale null) keeps every fractional digit; a declared scale must be ≥ 6.
    for (const price of ["win_price", "bid_price"]) {
      const scale = byName[price]!.numeric_scale;
      expect(scale === null || scale >= 6).toBe(true);
    }
  });

  test("creates the schema_migrations ledger", async () => {
    const [row] = await db.sql<{ present: boolean }[]>`select to_regclass('schema_migrations') is not null as present`;
    expect(row!.present).toBe(true);
  });

  test("makes bid_id unique", async () => {
    const insert = () => db.sql`
      insert into auction_outcomes (bid_id, user_id, win_status, "timestamp", raw_data)
      values ('dup-1', 'u', true, now(), '{}'::jsonb)`;
    await insert();
    const error = await insert().then(
      () => null,
      (e: { code?: string }) => e,
    );
    expect(error?.code).toBe("23505");
  });

  test("keeps prices exactly, with more than 6 fractional digits", async () => {
    const [row] = await db.sql<{ win_price: string }[]>`
      insert into auction_outcomes (bid_id, user_id, win_status, win_price, bid_price, "timestamp", raw_data)
      values ('exact-1', 'u', true, 0.1234567891, 0.1234567891, now(), '{}'::jsonb) returning win_price`;
    expect(row!.win_price).toBe("0.1234567891");
  });

  test("maintains updated_at in the database and leaves created_at alone", async () => {
    await db.setup`
      insert into auction_outcomes (bid_id, user_id, win_status, "timestamp", raw_data, created_at, updated_at)
      values ('touch-1', 'u', false, now(), '{}'::jsonb, '2020-01-01T00:00:00Z', '2020-01-01T00:00:00Z')`;
    await db.sql`update auction_outcomes set enriched = true where bid_id = 'touch-1'`;
    const [row] = await db.sql<{ created_at: string; touched: boolean }[]>`
      select created_at, updated_at > '2020-01-02T00:00:00Z' as touched from auction_outcomes where bid_id = 'touch-1'`;
    expect(row).toEqual({ created_at: "2020-01-01 00:00:00+00", touched: true });
  });

  // The partitioned table's indexes (one per partition), and the keys each partition has of its
  // own (a unique index on a partitioned table must include the partition key): here, the
  // default partition's.
  describe("indexes", () => {
    let indexes: { name: string; columns: string[]; unique: boolean }[];

    beforeAll(async () => {
      indexes = await db.sql<{ name: string; columns: string[]; unique: boolean }[]>`
        select i.relname as name, ix.indisunique as unique,
               array(select a.attname from unnest(ix.indkey) with ordinality k(attnum, ord)
                     join pg_attribute a on a.attrelid = ix.indrelid and a.attnum = k.attnum
                     order by k.ord)::text[] as columns
        from pg_index ix
        join pg_class i on i.oid = ix.indexrelid
        join pg_class t on t.oid = ix.indrelid
        where t.relname = 'auction_outcomes'
           or (t.relname = 'auction_outcomes_default' and not exists (select from pg_inherits h where h.inhrelid = ix.indexrelid))
        order by i.relname`;
    });

    test("exist as designed", () => {
      expect(indexes.map(({ name, columns, unique }) => ({ name, columns, unique }))).toEqual(
        expect.arrayContaining([
          { name: "auction_outcomes_default_pkey", columns: ["id"], unique: true },
          { name: "auction_outcomes_default_bid_id_key", columns: ["bid_id"], unique: true },
          { name: "auction_outcomes_timestamp_idx", columns: ["timestamp", "id"], unique: false },
          { name: "auction_outcomes_user_idx", columns: ["user_id", "timestamp", "id"], unique: false },
          { name: "auction_outcomes_site_idx", columns: ["site_domain", "timestamp", "id"], unique: false },
          { name: "auction_outcomes_win_status_idx", columns: ["win_status", "timestamp", "id"], unique: false },
          { name: "auction_outcomes_enriched_idx", columns: ["enriched", "timestamp", "id"], unique: false },
          { name: "auction_outcomes_currency_idx", columns: ["currency", "timestamp", "id"], unique: false },
          { name: "auction_outcomes_win_price_idx", columns: ["win_price", "id"], unique: false },
          { name: "auction_outcomes_bid_price_idx", columns: ["bid_price", "id"], unique: false },
          { name: "auction_outcomes_created_at_idx", columns: ["created_at", "id"], unique: false },
        ]),
      );
    });

    test.each(["user_id", "site_domain", "win_status", "enriched", "currency", "timestamp", "win_price"])(
      "serve the %s filter from an index that leads with it",
      (column) => {
        expect(indexes.some((index) => index.columns[0] === column)).toBe(true);
      },
    );

    test.each(["timestamp", "win_price", "bid_price", "created_at", "id"])("serve the %s ordering with its id tie-breaker from one index", (field) => {
      const wanted = field === "id" ? ["id"] : [field, "id"];
      expect(indexes.some((index) => wanted.every((column, i) => index.columns[i] === column))).toBe(true);
    });

    test("include no index that another index's prefix already serves", () => {
      const redundant = indexes.filter(
        (index) =>
          !index.unique &&
          indexes.some(
            (other) => other !== index && other.columns.length >= index.columns.length && index.columns.every((column, i) => other.columns[i] === column),
          ),
      );
      expect(redundant.map((index) => index.name)).toEqual([]);
    });

    test("include no single-column index besides the primary key and the bid_id key", () => {
      expect(
        indexes
          .filter((index) => index.columns.length === 1)
          .map((index) => index.name)
          .sort(),
      ).toEqual(["auction_outcomes_default_bid_id_key", "auction_outcomes_default_pkey"]);
    });
  });

  test("re-applying is a no-op", async () => {
    const before = await db.sql`select name, checksum, applied_at from schema_migrations order by name`;
    expect(await applyMigrations(db.sql, quietLog)).toEqual([]);
    const after = await db.sql`select name, checksum, applied_at from schema_migrations order by name`;
    expect(after).toEqual(before);
  });

  test("reports nothing pending afterwards", async () => {
    const status = await migrationStatus(db.sql);
    expect(status.pending).toEqual([]);
    expect(status.applied.map((m) => m.name)).toEqual(await realMigrationNames());
  });
});

describe("the runner on its own migration files", () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await database("migrate_temp", false);
  });

  test("applies a first set, then only what is new", async () => {
    const dir = await tempMigrations({
      "001_first.sql": "create table first_table (id int);\n",
      "002_second.sql": "create table second_table (id int);\ninsert into second_table values (1), (2);\n",
    });
    expect(await applyMigrations(db.sql, quietLog, { dir })).toEqual(["001_first.sql", "002_second.sql"]);
    await writeFile(join(dir, "003_third.sql"), "alter table first_table add column name text;\n");
    expect(await migrationStatus(db.sql, dir)).toMatchObject({ pending: ["003_third.sql"] });
    expect(await applyMigrations(db.sql, quietLog, { dir })).toEqual(["003_third.sql"]);
    expect(await applyMigrations(db.sql, quietLog, { dir })).toEqual([]);
    const [count] = await db.sql<{ n: string }[]>`select count(*) as n from second_table`;
    expect(count!.n).toBe("2");
  });

  test("refuses an applied file that was edited, naming it, and applies nothing after it", async () => {
    const original = "create table edited_table (id int);\n";
    const dir = await tempMigrations({ "001_first.sql": "create table first_table (id int);\n", "010_edited.sql": original });
    await db.sql`delete from schema_migrations`;
    await db.sql`drop table if exists first_table, second_table, edited_table`;
    await applyMigrations(db.sql, quietLog, { dir });
    const edited = `${original}-- a comment added later\n`;
    await writeFile(join(dir, "010_edited.sql"), edited);
    await writeFile(join(dir, "011_new.sql"), "create table new_table (id int);\n");
    const error = await applyMigrations(db.sql, quietLog, { dir }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toBe(
      `Migration 010_edited.sql was edited after it was applied (checksum ${checksumOf(original).slice(0, 12)} in the database, ${checksumOf(edited).slice(0, 12)} on disk); add a new migration instead of editing an applied one.`,
    );
    const [row] = await db.sql<{ present: boolean }[]>`select to_regclass('new_table') is not null as present`;
    expect(row!.present).toBe(false);
    await expect(migrationStatus(db.sql, dir)).rejects.toBeInstanceOf(MigrationError);
  });

  test("refuses when an applied file is missing", async () => {
    const dir = await tempMigrations({ "001_first.sql": "create table first_table (id int);\n" });
    const error = await applyMigrations(db.sql, quietLog, { dir }).then(
      () => null,
      (e: unknown) => e,
    );
    expect((error as Error).message).toBe("Migration 010_edited.sql was applied but its file is missing from migrations/.");
  });

  test("rolls back a failing file whole and does not record it", async () => {
    await db.sql`delete from schema_migrations`;
    await db.sql`drop table if exists first_table, edited_table, new_table, half_table`;
    const dir = await tempMigrations({
      "001_first.sql": "create table first_table (id int);\n",
      "002_broken.sql": "create table half_table (id int);\nselect no_such_function();\n",
    });
    const error = await applyMigrations(db.sql, quietLog, { dir }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toStartWith("Migration 002_broken.sql failed: function no_such_function() does not exist");
    const tables = await db.sql<{ first: boolean; half: boolean }[]>`
      select to_regclass('first_table') is not null as first, to_regclass('half_table') is not null as half`;
    expect(tables[0]).toEqual({ first: true, half: false });
    const names = await db.sql<{ name: string }[]>`select name from schema_migrations order by name`;
    expect(names.map((row) => row.name)).toEqual(["001_first.sql"]);
  });
});

describe("bun run start migrate", () => {
  test("--status lists applied and pending migrations", async () => {
    const db = await database("migrate_status", false);
    const [first, ...rest] = await realMigrationNames();
    const dir = await tempMigrations({});
    await copyFile(join(MIGRATIONS_DIR, first!), join(dir, first!));
    await applyMigrations(db.sql, quietLog, { dir });

    const { code, stdout } = await runMain(["migrate", "--status"], { DATABASE_URL: db.url });
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(new RegExp(`^applied  ${first!.replace(".", "\\.")}  \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}(\\.\\d+)?\\+00$`));
    expect(lines.slice(1)).toEqual(rest.map((name) => `pending  ${name}`));
  });

  test("--status against a missing database says to run migrate, exits 1 and creates nothing", async () => {
    const name = freshDatabaseName("migrate_status_missing");
    const { code, stdout, stderr } = await runMain(["migrate", "--status"], { DATABASE_URL: urlFor(name) });
    expect(code).toBe(1);
    expect(stderr).toBe("");
    const lines = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line))
      .map(({ level, message }) => ({ level, message }));
    expect(lines).toEqual([
      {
        level: "ERROR",
        message: `Database "${name}" does not exist, so no migration is applied: run \`migrate\` to create it and apply them all (or create it yourself, e.g. createdb ${name}).`,
      },
    ]);
    const found = await withServer((sql) => sql`select 1 from pg_database where datname = ${name}`);
    expect(found.length).toBe(0);
  });

  test("creates a missing database and applies everything", async () => {
    const name = freshDatabaseName("migrate_create");
    const { code, stdout } = await runMain(["migrate"], { DATABASE_URL: urlFor(name) });
    expect(code).toBe(0);
    const messages = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line).message);
    expect(messages[0]).toBe("Database created");
    expect(messages.at(-1)).toBe("Migrations complete");
    const names = await withDatabase(name, (sql) => sql<{ name: string }[]>`select name from schema_migrations order by name`);
    expect(names.map((row) => row.name)).toEqual(await realMigrationNames());
  });

  test("two processes at once on a fresh database both succeed and apply one set", async () => {
    const name = freshDatabaseName("migrate_race");
    const [a, b] = await Promise.all([runMain(["migrate"], { DATABASE_URL: urlFor(name) }), runMain(["migrate"], { DATABASE_URL: urlFor(name) })]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const names = await withDatabase(name, (sql) => sql<{ name: string }[]>`select name from schema_migrations order by name`);
    expect(names.map((row) => row.name)).toEqual(await realMigrationNames());
    const appliedCounts = [a, b].map((run) => {
      const done = run.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line))
        .find((line) => line.message === "Migrations complete");
      return done.applied as number;
    });
    // One process applied everything while holding the lock; the other found nothing left to do.
    expect(appliedCounts.sort()).toEqual([0, (await realMigrationNames()).length]);
  });

  test("an edited applied migration makes migrate exit 1 with the reason", async () => {
    const db = await database("migrate_edited_cli", false);
    const [first] = await realMigrationNames();
    const dir = await tempMigrations({ [first!]: "-- not the real file\n" });
    await applyMigrations(db.sql, quietLog, { dir });
    const { code, stdout } = await runMain(["migrate"], { DATABASE_URL: db.url });
    expect(code).toBe(1);
    const line = JSON.parse(stdout.trim().split("\n").at(-1)!);
    expect(line.level).toBe("ERROR");
    expect(line.message).toStartWith(`Migration ${first} was edited after it was applied`);
  });
});
