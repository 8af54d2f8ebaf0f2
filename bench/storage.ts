// `bun run bench storage [--preload 10000000] [--messages 1000000] [--partitions 4] [--write-results]`:
// is ingest as fast into a table already holding many outcomes as into an empty one, on the schema
// before partitioning (migrations up to 007) and on the partitioned one, in one run? And what do
// dropping a partition under full ingest and upgrading a populated table cost?
//
// 1. M messages (seed 42) over the 90 days from 2025-07-01 are produced to a topic once.
// 2. For each schema, a fresh empty database and one preloaded by COPY with P outcomes (seed 7)
//    over the 90 days before 2025-07-01 (indexes built after the load, then VACUUM ANALYZE). The
//    partitioned ones have every day's partition made first, as maintenance ahead would.
// 3. The consumer role ingests the topic into each of the four, with its own consumer group.
//    During the partitioned preloaded run, the oldest preloaded day is dropped once half the
//    messages are stored; the largest gap between two committed batches around it is its pause.
// 4. The preloaded database of the old schema is then upgraded by `migrate` (008-011) while a
//    writer and a reader run: each migration's duration and the longest statement of each.
import { join } from "node:path";
import type { Sql } from "../src/db/client";
import { applyMigrations } from "../src/db/migrate";
import { createOutcomeGenerator, GENERATOR_VERSION } from "../src/simulate/generator";
import { BenchUsageError, parseFlags } from "./args";
import { copyGenerated } from "./copy-load";
import {
  adminSql,
  benchKafka,
  benchSql,
  checkQuiet,
  createBenchTopic,
  databaseAtMigration,
  dropDatabase,
  ensureKafka,
  freshDatabase,
  machineFacts,
  preparePartitions,
  quietLog,
  runDirectory,
  say,
} from "./environment";
import { fingerprint, produceAll, runConsumer } from "./ingest";
import { appendResults, benchLine, commandLine, machineSection, markdownTable } from "./results";

const DAY_MS = 86_400_000;
const INGEST_START = Date.parse("2025-07-01T00:00:00Z");
const PRELOAD_START = INGEST_START - 90 * DAY_MS;

type Schema = "unpartitioned" | "partitioned";

async function dropIndexesAndLoad(sql: Sql, load: () => Promise<void>): Promise<void> {
  const indexes = await sql<{ name: string; definition: string }[]>`
    select i.relname as name, pg_get_indexdef(i.oid) as definition
    from pg_index x join pg_class i on i.oid = x.indexrelid
    where x.indrelid = 'auction_outcomes'::regclass and not x.indisprimary
      and not exists (select 1 from pg_constraint c where c.conindid = x.indexrelid)`;
  for (const index of indexes) await sql`drop index ${sql(index.name)}`;
  await load();
  await sql`set maintenance_work_mem = '1GB'`;
  // Definitions from this very table's catalog: trusted text.
  // A partitioned table's index is defined ON ONLY the table; built again, it must reach every partition.
  for (const index of indexes) await sql.unsafe(index.definition.replace(" ON ONLY ", " ON "));
}

async function prepare(admin: Sql, name: string, schema: Schema, preload: number): Promise<void> {
  if (schema === "unpartitioned") await databaseAtMigration(admin, name, "007");
  else await freshDatabase(admin, name);
  const sql = benchSql(name, 1);
  try {
    await preparePartitions(sql, PRELOAD_START, 180);
    if (preload === 0) return;
    say(`${name}: COPY of ${preload.toLocaleString("en")} outcomes over the 90 days before the ingest window`);
    const generator = createOutcomeGenerator({ seed: 7, start: PRELOAD_START, days: 90, spreadOver: preload });
    const started = performance.now();
    let lastReport = started;
    await dropIndexesAndLoad(sql, () =>
      copyGenerated(sql, generator, 0, preload, {
        chunkRows: 200_000,
        onChunk: (done) => {
          if (performance.now() - lastReport < 15_000 && done !== preload) return;
          lastReport = performance.now();
          say(`  ${done.toLocaleString("en")} rows, ${Math.round(done / ((lastReport - started) / 1000)).toLocaleString("en")} rows/s`);
        },
      }),
    );
    await sql`vacuum (analyze)`;
    say(`${name}: loaded in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Commit instants of the consumer's batches, from its "Auction outcomes saved" lines. */
async function commitTimes(outDir: string): Promise<number[]> {
  const text = await Bun.file(join(outDir, "consumer.stdout.log")).text();
  return text
    .split("\n")
    .filter((line) => line.includes('"Auction outcomes saved"'))
    .map((line) => Date.parse((JSON.parse(line) as { timestamp: string }).timestamp))
    .sort((a, b) => a - b);
}

function largestGapAround(times: number[], at: number, windowMs: number): { gapMs: number; medianGapMs: number } {
  const gaps: number[] = [];
  let around = 0;
  for (let i = 1; i < times.length; i++) {
    const gap = times[i]! - times[i - 1]!;
    gaps.push(gap);
    if (times[i]! >= at - windowMs && times[i - 1]! <= at + windowMs) around = Math.max(around, gap);
  }
  gaps.sort((a, b) => a - b);
  return { gapMs: around, medianGapMs: gaps[Math.floor(gaps.length / 2)] ?? 0 };
}

interface DropResult {
  partition: string;
  statementMs: number;
  at: number;
}

/** Waits until half the messages are stored, then drops the oldest preloaded day. */
async function dropOldestWhenHalfway(database: string, messages: number, preload: number): Promise<DropResult> {
  const sql = benchSql(database, 1);
  try {
    for (;;) {
      const [row] = await sql<{ n: string }[]>`select (coalesce(max(id), 0) - ${preload})::text as n from auction_outcomes`;
      if (Number(row!.n) >= messages / 2) break;
      await Bun.sleep(200);
    }
    const partition = `auction_outcomes_${new Date(PRELOAD_START).toISOString().slice(0, 10).replace(/-/g, "")}`;
    const started = performance.now();
    const at = Date.now();
    await sql.begin(async (tx) => {
      await tx`select set_config('lock_timeout', '2s', true)`;
      await tx`select helios_drop_outcome_partition(${partition}, ${new Date(PRELOAD_START + DAY_MS).toISOString()}::timestamptz)`;
    });
    return { partition, statementMs: performance.now() - started, at };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

interface UpgradeFigures {
  migrations: { name: string; ms: number }[];
  writerMaxMs: number;
  readerMaxMs: number;
  writes: number;
  reads: number;
  rowsBefore: number;
  rowsAfter: number;
  equal: boolean;
}

/** `migrate` on the populated old schema while one writer and one reader keep going. */
async function upgradeUnderLoad(database: string): Promise<UpgradeFigures> {
  const sql = benchSql(database, 4);
  const [before] = await sql<{ n: string }[]>`select count(*)::text as n from auction_outcomes`;
  const print = await fingerprint(sql);
  let stop = false;
  let writerMaxMs = 0;
  let readerMaxMs = 0;
  let writes = 0;
  let reads = 0;
  const timed = async (work: () => Promise<unknown>) => {
    const began = performance.now();
    await work();
    return performance.now() - began;
  };
  const writer = (async () => {
    // ON CONFLICT DO NOTHING without a target: valid before the conversion and after it.
    for (let i = 0; !stop; i++) {
      const ms = await timed(
        () => sql`insert into auction_outcomes (bid_id, user_id, win_status, "timestamp", raw_data)
                  values (${`upgrade-${i}`}, 'upgrade', false, now(), '{}') on conflict do nothing`,
      );
      writerMaxMs = Math.max(writerMaxMs, ms);
      writes++;
      await Bun.sleep(5);
    }
  })();
  const reader = (async () => {
    while (!stop) {
      const ms = await timed(() => sql`select id from auction_outcomes order by "timestamp" desc, id desc limit 100`);
      readerMaxMs = Math.max(readerMaxMs, ms);
      reads++;
      await Bun.sleep(5);
    }
  })();
  const migrations: { name: string; ms: number }[] = [];
  const migrator = benchSql(database, 1);
  try {
    const lines: { migration: string; duration_ms: number }[] = [];
    const log = { ...quietLog, info: (message: string, fields?: Record<string, unknown>) => message === "Migration applied" && lines.push(fields as never) };
    await applyMigrations(migrator, log as never);
    for (const line of lines) migrations.push({ name: line.migration, ms: line.duration_ms });
  } finally {
    stop = true;
    await Promise.all([writer, reader]);
    await migrator.end({ timeout: 5 });
  }
  const [after] = await sql<{ n: string }[]>`select count(*)::text as n from auction_outcomes where user_id <> 'upgrade'`;
  const printAfter = await fingerprintOld(sql);
  await sql.end({ timeout: 5 });
  return {
    migrations,
    writerMaxMs: Math.round(writerMaxMs),
    readerMaxMs: Math.round(readerMaxMs),
    writes,
    reads,
    rowsBefore: Number(before!.n),
    rowsAfter: Number(after!.n),
    equal: JSON.stringify(print) === JSON.stringify(printAfter),
  };
}

/** The fingerprint of the rows that were there before the upgrade (the writer's excluded). */
async function fingerprintOld(sql: Sql) {
  await sql`delete from auction_outcomes where user_id = 'upgrade'`;
  return fingerprint(sql);
}

export async function benchStorage(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    integers: { preload: 10_000_000, messages: 1_000_000, partitions: 4, "stall-timeout": 180 },
    strings: { baseline: "" },
    booleans: ["keep", "write-results"],
  });
  const baseline = flags.str("baseline");
  if (!baseline) {
    throw new BenchUsageError(
      "--baseline DIR is required: a checkout of the release before partitioning (e.g. git worktree add DIR d8c9e3b && (cd DIR && bun install)), whose consumer ingests the unpartitioned schema.",
    );
  }
  const preload = flags.int("preload");
  const messages = flags.int("messages");
  const runId = `${Date.now().toString(36)}${process.pid.toString(36)}`;
  const admin = adminSql();
  const kafka = benchKafka();
  const kafkaAdmin = kafka.admin();
  const topic = `helios-bench-storage-${runId}`;
  const databases: string[] = [];
  try {
    const busy = await checkQuiet();
    const machine = await machineFacts(admin);
    await ensureKafka();
    await kafkaAdmin.connect();
    await createBenchTopic(kafkaAdmin, topic, flags.int("partitions"));
    const generator = createOutcomeGenerator({ seed: 42, start: INGEST_START, days: 90, spreadOver: messages });
    say(`producing ${messages.toLocaleString("en")} messages to ${topic}`);
    await produceAll(kafka, topic, generator, messages, 5_000);

    const runs: {
      schema: Schema;
      preloaded: number;
      rate: number;
      seconds: number;
      rows: number;
      drop?: DropResult;
      gap?: ReturnType<typeof largestGapAround>;
    }[] = [];
    for (const schema of ["unpartitioned", "partitioned"] as Schema[]) {
      for (const rows of [0, preload]) {
        const name = `helios_bench_storage_${schema.slice(0, 5)}_${rows}_${runId}`;
        databases.push(name);
        await prepare(admin, name, schema, rows);
        await admin`checkpoint`;
        const outDir = await runDirectory(`storage-${schema}-${rows}`);
        const dropping = schema === "partitioned" && rows > 0 ? dropOldestWhenHalfway(name, messages, rows) : undefined;
        const consumer = await runConsumer({
          database: name,
          topic,
          group: `helios-bench-${name}`,
          count: messages,
          logLevel: "INFO",
          outDir,
          timeoutS: flags.int("stall-timeout"),
          expectedRows: rows + messages,
          countStored: async (db) =>
            Number(
              (
                await db<
                  { n: string }[]
                >`select count(*)::text as n from auction_outcomes where "timestamp" >= ${new Date(INGEST_START).toISOString()}::timestamptz`
              )[0]!.n,
            ),
          // The schema before partitioning runs with the code of its release.
          cwd: schema === "unpartitioned" ? baseline : undefined,
        });
        const drop = await dropping;
        const sql = benchSql(name, 1);
        const [stored] = await sql<
          { n: string }[]
        >`select count(*)::text as n from auction_outcomes where "timestamp" >= ${new Date(INGEST_START).toISOString()}::timestamptz`;
        await sql.end({ timeout: 5 });
        const run = {
          schema,
          preloaded: rows,
          rate: Math.round(messages / (consumer.totalMs / 1000)),
          seconds: Math.round(consumer.totalMs / 100) / 10,
          rows: Number(stored!.n),
          drop,
          gap: drop ? largestGapAround(await commitTimes(outDir), drop.at, 2_000) : undefined,
        };
        runs.push(run);
        benchLine("storage-ingest", {
          schema,
          preloaded: rows,
          msgs_per_s: run.rate,
          seconds: run.seconds,
          ingested_rows: run.rows,
          exactly_once: run.rows === messages,
          ...(drop
            ? { dropped: drop.partition, drop_statement_ms: Math.round(drop.statementMs), drop_gap_ms: run.gap!.gapMs, median_gap_ms: run.gap!.medianGapMs }
            : {}),
        });
        if (!(schema === "unpartitioned" && rows > 0)) {
          await dropDatabase(admin, name);
          databases.splice(databases.indexOf(name), 1);
        }
      }
    }

    const oldPreloaded = databases[0]!;
    say(`upgrading ${oldPreloaded} (${(preload + messages).toLocaleString("en")} outcomes) while a writer and a reader run`);
    const upgrade = await upgradeUnderLoad(oldPreloaded);
    benchLine("storage-upgrade", {
      rows: upgrade.rowsBefore,
      ...Object.fromEntries(upgrade.migrations.map((m) => [`${m.name.slice(0, 3)}_ms`, m.ms])),
      writer_max_ms: upgrade.writerMaxMs,
      reader_max_ms: upgrade.readerMaxMs,
      writes: upgrade.writes,
      reads: upgrade.reads,
      rows_kept: upgrade.equal,
    });

    const rate = (schema: Schema, rows: number) => runs.find((r) => r.schema === schema && r.preloaded === rows)!.rate;
    const partitionedRatio = rate("partitioned", preload) / rate("partitioned", 0);
    if (flags.bool("write-results")) {
      const dropRun = runs.find((r) => r.drop)!;
      await appendResults(
        `storage: ingest into an empty table and one holding ${preload.toLocaleString("en")} outcomes, before and after partitioning`,
        [
          `- command: \`${commandLine()}\``,
          machineSection(machine, busy),
          `- the unpartitioned runs use the consumer of the checkout at ${baseline} (the release before partitioning); the partitioned ones this checkout's`,
          `- ${messages.toLocaleString("en")} messages (seed 42, generator ${GENERATOR_VERSION}) over 2025-07-01 + 90 days, ${flags.int("partitions")} Kafka partitions, one consumer group per run; preload by COPY (seed 7) over the 90 days before; partitioned schema: one partition a day, all 180 made first`,
          "",
          markdownTable(
            ["schema", "table before", "consumer msg/s", "seconds", "rows stored (exactly once)"],
            runs.map((r) => [
              r.schema,
              r.preloaded.toLocaleString("en"),
              `**${r.rate.toLocaleString("en")}**`,
              r.seconds,
              `${r.rows.toLocaleString("en")} (${r.rows === messages})`,
            ]),
          ),
          "",
          `- partitioned, preloaded / empty: **${(partitionedRatio * 100).toFixed(1)}%**; partitioned preloaded / unpartitioned preloaded: **${((rate("partitioned", preload) / rate("unpartitioned", preload)) * 100).toFixed(1)}%**`,
          `- dropping ${dropRun.drop!.partition} halfway through the partitioned preloaded run: the statement took ${Math.round(dropRun.drop!.statementMs)} ms; the longest gap between two committed batches within 2 s of it was ${dropRun.gap!.gapMs} ms (median gap over the run ${dropRun.gap!.medianGapMs} ms); exactly once: ${dropRun.rows === messages}`,
          `- upgrade of the unpartitioned table holding ${upgrade.rowsBefore.toLocaleString("en")} outcomes by \`migrate\`, a writer (single-row inserts) and a reader (first page) running throughout: ${upgrade.migrations.map((m) => `${m.name} ${m.ms} ms`).join(", ")}; longest insert ${upgrade.writerMaxMs} ms (${upgrade.writes} inserts), longest read ${upgrade.readerMaxMs} ms (${upgrade.reads} reads); every row kept: ${upgrade.equal}`,
        ].join("\n"),
      );
    }
    return runs.every((r) => r.rows === messages) && upgrade.equal ? 0 : 1;
  } finally {
    if (!flags.bool("keep")) for (const name of databases) await dropDatabase(admin, name).catch(() => {});
    await kafkaAdmin.deleteTopics({ topics: [topic] }).catch(() => {});
    await kafkaAdmin.disconnect().catch(() => {});
    await admin.end({ timeout: 5 });
  }
}
