// `bun run bench backfill [--rows 200000] [--partitions 4] [--batch-size 2000] [--write-results]`:
// the two backfill sources against the Kafka consumer on the same machine in one run, each with
// the same M generated messages into a fresh, migrated, empty database:
//
// 1. consumer: the messages produced to a fresh topic first (not timed), then the consumer role
//    as a subprocess, timed from spawn until every row is committed (bench/ingest.ts runConsumer).
// 2. import-original: the messages as raw_data in a table made with the original's DDL, in its
//    own database on the same server; the role timed from spawn to exit.
// 3. ingest-file: the messages as an NDJSON file; the role timed from spawn to exit.
//
// /proc gives each process's CPU seconds and peak RSS; the three databases must hold the same rows
// (content fingerprint) and exactly M of them. Every database and the topic are dropped after.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { createOutcomeGenerator, messageValue, type OutcomeGenerator } from "../src/simulate/generator";
import { ORIGINAL_DDL } from "../tests/support/original-service";
import { parseFlags } from "./args";
import {
  adminSql,
  benchKafka,
  benchSql,
  checkQuiet,
  createBenchTopic,
  deployedRuntimeEnv,
  dropDatabase,
  ensureKafka,
  freshDatabase,
  machineFacts,
  ROOT,
  ramMiB,
  runDirectory,
  say,
  urlFor,
} from "./environment";
import { fingerprint, produceAll, runConsumer } from "./ingest";
import { watchProcess } from "./process-sampler";
import { appendResults, benchLine, commandLine, machineSection, markdownTable } from "./results";

const seconds = (ms: number) => ms / 1000;
const decoder = new TextDecoder();
const valueText = (generator: OutcomeGenerator, index: number) => {
  const value = messageValue(generator.messageAt(index));
  return typeof value === "string" ? value : decoder.decode(value);
};

/** The messages as the original stored them: its columns from the message (bugs aside), raw_data the message. */
async function loadOriginal(database: string, generator: OutcomeGenerator, count: number): Promise<void> {
  const sql = benchSql(database, 1);
  try {
    await sql.begin((tx) => tx.unsafe(ORIGINAL_DDL));
    for (let from = 0; from < count; from += 5_000) {
      const values = Array.from({ length: Math.min(5_000, count - from) }, (_, i) => valueText(generator, from + i));
      await sql`
        insert into outcomes_auctionoutcome
          (bid_id, user_id, site_domain, win_status, win_price, bid_price, currency, enriched,
           "timestamp", auction_timestamp, user_interests, raw_data, created_at, updated_at)
        select coalesce(j->>'bid_request_id', 'unknown'), coalesce(j->>'user_id', 'unknown'), j->>'site_domain',
               coalesce((j->>'win_status')::boolean, false), coalesce((j->>'win_price')::numeric(10, 2), 0), coalesce((j->>'bid_price')::numeric(10, 2), 0),
               'USD', coalesce((j->>'enriched')::boolean, false), now(), (j->>'auction_timestamp')::timestamptz,
               coalesce(j->'user_interests', '[]'::jsonb), j, now(), now()
        from unnest(${values}::text[]) as m(v), lateral (select v::jsonb as j) as parsed`;
    }
    await sql`analyze outcomes_auctionoutcome`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function writeNdjson(path: string, generator: OutcomeGenerator, count: number): Promise<number> {
  const writer = Bun.file(path).writer({ highWaterMark: 4 * 1024 * 1024 });
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const line = `${valueText(generator, i)}\n`;
    bytes += Buffer.byteLength(line);
    writer.write(line);
  }
  await writer.end();
  return bytes;
}

interface RoleRun {
  ms: number;
  cpuSeconds: number;
  peakRssMiB: number;
  summary: Record<string, unknown>;
}

/** Runs a backfill role to its end: wall time from spawn to exit, its figures from /proc, its summary line. */
async function runBackfillRole(role: string, args: string[], database: string, outDir: string, summaryMessage: string): Promise<RoleRun> {
  const stdoutPath = join(outDir, `${role}.stdout.log`);
  const command = [process.execPath, "run", "src/main.ts", role, ...args];
  say(`running ${role} into ${database} (logs in ${outDir})`);
  const started = performance.now();
  const proc = Bun.spawn(command, {
    cwd: ROOT,
    env: { ...process.env, ...deployedRuntimeEnv("consumer"), DATABASE_URL: urlFor(database), LOG_LEVEL: "INFO" },
    stdout: Bun.file(stdoutPath),
    stderr: Bun.file(join(outDir, `${role}.stderr.log`)),
  });
  const watch = watchProcess(proc.pid);
  const code = await proc.exited;
  const ms = performance.now() - started;
  const sample = watch.stop();
  const lines = (await Bun.file(stdoutPath).text()).split("\n").filter((line) => line.startsWith("{"));
  const summary = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.message === summaryMessage);
  if (code !== 0 || !summary) throw new Error(`${role} exited ${code}; last lines:\n${lines.slice(-10).join("\n")}`);
  return { ms, cpuSeconds: sample.cpuSeconds, peakRssMiB: sample.peakRssMiB, summary };
}

async function rowsIn(database: string): Promise<{ rows: number; deadLetters: number; fingerprint: Record<string, string> }> {
  const sql = benchSql(database, 1);
  try {
    const [counts] = await sql<{ rows: number; dead: number }[]>`
      select (select count(*)::int from auction_outcomes) as rows, (select count(*)::int from dead_letters) as dead`;
    return { rows: counts!.rows, deadLetters: counts!.dead, fingerprint: await fingerprint(sql) };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export async function benchBackfill(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    integers: { rows: 200_000, partitions: 4, seed: 42, "batch-size": 2_000, "stall-timeout": 120 },
    strings: {},
    booleans: ["write-results"],
  });
  const count = flags.int("rows");
  const runId = `${Date.now().toString(36)}${process.pid.toString(36)}`;
  const names = {
    consumer: `helios_bench_bf_consumer_${runId}`,
    original: `helios_bench_bf_original_${runId}`,
    imported: `helios_bench_bf_import_${runId}`,
    file: `helios_bench_bf_file_${runId}`,
  };
  const topic = `helios-bench-backfill-${runId}`;
  const ndjsonPath = join("/tmp", `helios-bench-${runId}.ndjson`);
  const outDir = await runDirectory("backfill");
  const generator = createOutcomeGenerator({ seed: flags.int("seed"), spreadOver: count });
  const batchSize = String(flags.int("batch-size"));

  const admin = adminSql();
  const kafka = benchKafka();
  const kafkaAdmin = kafka.admin();
  let topicCreated = false;
  try {
    const busy = await checkQuiet();
    const machine = await machineFacts(admin);

    // 1. The consumer, as bench ingest runs it.
    await ensureKafka();
    await kafkaAdmin.connect();
    await createBenchTopic(kafkaAdmin, topic, flags.int("partitions"));
    topicCreated = true;
    say(`producing ${count.toLocaleString("en")} messages to ${topic}`);
    await produceAll(kafka, topic, generator, count, 5_000);
    await freshDatabase(admin, names.consumer);
    await admin`checkpoint`;
    const consumer = await runConsumer({
      database: names.consumer,
      topic,
      group: `helios-bench-${runId}`,
      count,
      logLevel: "INFO",
      outDir,
      timeoutS: flags.int("stall-timeout"),
    });

    // 2. import-original from the original's table in a database of its own.
    say(`loading ${count.toLocaleString("en")} rows into the original's table`);
    await dropDatabase(admin, names.original);
    await admin`create database ${admin(names.original)}`;
    await loadOriginal(names.original, generator, count);
    await freshDatabase(admin, names.imported);
    await admin`checkpoint`;
    const imported = await runBackfillRole(
      "import-original",
      ["--source-url", urlFor(names.original), "--batch-size", batchSize],
      names.imported,
      outDir,
      "Import from the original finished",
    );

    // 3. ingest-file from NDJSON.
    const fileBytes = await writeNdjson(ndjsonPath, generator, count);
    await freshDatabase(admin, names.file);
    await admin`checkpoint`;
    const filed = await runBackfillRole("ingest-file", [ndjsonPath, "--batch-size", batchSize], names.file, outDir, "File ingest finished");

    const [consumerRows, importRows, fileRows] = await Promise.all([rowsIn(names.consumer), rowsIn(names.imported), rowsIn(names.file)]);
    const same = (a: Record<string, string>, b: Record<string, string>) => Object.keys(a).every((key) => a[key] === b[key]);
    const exactlyOnce = [consumerRows, importRows, fileRows].every((r) => r.rows === count && r.deadLetters === 0);
    const dataMatch = same(consumerRows.fingerprint, importRows.fingerprint) && same(consumerRows.fingerprint, fileRows.fingerprint);
    const rate = (ms: number) => Math.round(count / seconds(ms));
    const figures = {
      rows: count,
      batch_size: flags.int("batch-size"),
      consumer_seconds: seconds(consumer.totalMs),
      consumer_msgs_per_s: rate(consumer.totalMs),
      consumer_cpu_s: consumer.cpuSeconds,
      consumer_peak_rss_mb: Math.round(consumer.peakRssMiB * 10) / 10,
      import_seconds: seconds(imported.ms),
      import_rows_per_s: rate(imported.ms),
      import_cpu_s: imported.cpuSeconds,
      import_peak_rss_mb: Math.round(imported.peakRssMiB * 10) / 10,
      file_seconds: seconds(filed.ms),
      file_rows_per_s: rate(filed.ms),
      file_cpu_s: filed.cpuSeconds,
      file_peak_rss_mb: Math.round(filed.peakRssMiB * 10) / 10,
      file_mib: Math.round((fileBytes / 2 ** 20) * 10) / 10,
      exactly_once: exactlyOnce,
      data_match: dataMatch,
      machine_busy_pct: busy,
    };
    benchLine("backfill", figures);

    if (flags.bool("write-results")) {
      const row = (name: string, ms: number, cpu: number, rss: number, unit: string) => [
        name,
        `${seconds(ms).toFixed(2)} s`,
        `**${rate(ms).toLocaleString("en")} ${unit}**`,
        `${cpu} s`,
        `${Math.round(rss * 10) / 10} MiB`,
      ];
      await appendResults(
        `backfill, ${count.toLocaleString("en")} rows: import-original and ingest-file next to the consumer`,
        [
          `- command: \`${commandLine()}\``,
          machineSection(machine, busy),
          `- every role with BUN_JSC_forceRAMSize=${ramMiB("consumer")} MiB (the consumer's k8s limit), LOG_LEVEL=INFO; the backfills at --batch-size ${batchSize}; topic of ${flags.int("partitions")} partitions; seed ${flags.int("seed")}; the original's table in its own database on the same server`,
          "",
          markdownTable(
            ["source", "spawn → all rows committed", "rate", "CPU", "peak RSS"],
            [
              row("consumer (Kafka)", consumer.totalMs, consumer.cpuSeconds, consumer.peakRssMiB, "msg/s"),
              row("import-original", imported.ms, imported.cpuSeconds, imported.peakRssMiB, "rows/s"),
              row(`ingest-file (${figures.file_mib} MiB NDJSON)`, filed.ms, filed.cpuSeconds, filed.peakRssMiB, "rows/s"),
            ],
          ),
          "",
          `Exactly once (each database holds ${count.toLocaleString("en")} rows, no dead letters): ${exactlyOnce}; the three hold the same rows (content fingerprint): ${dataMatch}.`,
        ].join("\n"),
      );
    }
    return exactlyOnce && dataMatch ? 0 : 1;
  } finally {
    await rm(ndjsonPath, { force: true });
    if (topicCreated) await kafkaAdmin.deleteTopics({ topics: [topic] }).catch(() => {});
    for (const name of Object.values(names)) await dropDatabase(admin, name).catch(() => {});
    await kafkaAdmin.disconnect().catch(() => {});
    await admin.end({ timeout: 5 });
  }
}
