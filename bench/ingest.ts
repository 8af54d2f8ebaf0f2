// `bun run bench ingest [--messages 1000000] [--partitions 4]`: Kafka → PostgreSQL through the
// real consumer role, against COPY of the same rows into the same schema, in one run.
//
// 1. M generated messages are produced to a fresh topic first (not timed against the consumer).
// 2. The consumer role starts as a subprocess on a fresh, migrated, empty database; the clock
//    runs from its spawn until all M rows are committed. /proc gives its CPU seconds and peak RSS.
// 3. The same M rows (same seed) are COPYed from a pre-written file into another fresh database
//    with the same schema, indexes and triggers: the physical limit the consumer is held to.
// 4. Exactly-once is checked: exactly M rows, and the same content as the COPY database.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { type Admin, CompressionTypes, type Kafka } from "kafkajs";
import type { Sql } from "../src/db/client";
import { createOutcomeGenerator, GENERATOR_VERSION, messageValue, type OutcomeGenerator } from "../src/simulate/generator";
import { parseFlags } from "./args";
import { copyFile, writeCopyFile } from "./copy-load";
import {
  adminSql,
  benchKafka,
  benchSql,
  checkQuiet,
  createBenchTopic,
  deployedRuntimeEnv,
  dropDatabase,
  ensureKafka,
  freePort,
  freshDatabase,
  KAFKA_BROKERS,
  machineFacts,
  ROOT,
  ramMiB,
  runDirectory,
  say,
  urlFor,
} from "./environment";
import { watchProcess } from "./process-sampler";
import { appendResults, benchLine, commandLine, machineSection, markdownTable } from "./results";

const seconds = (ms: number) => ms / 1000;

export async function produceAll(kafka: Kafka, topic: string, generator: OutcomeGenerator, count: number, batchSize: number): Promise<number> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const started = performance.now();
  const inFlight = new Set<Promise<unknown>>();
  try {
    for (let from = 0; from < count; from += batchSize) {
      const messages = [];
      for (let i = from; i < Math.min(count, from + batchSize); i++) {
        const message = generator.messageAt(i);
        messages.push({ key: message.key, value: messageValue(message) as string });
      }
      // A few batches in flight keep the broker busy while the next batch is generated.
      const sent: Promise<unknown> = producer.send({ topic, messages, acks: 1, compression: CompressionTypes.None }).finally(() => inFlight.delete(sent));
      inFlight.add(sent);
      if (inFlight.size >= 4) await Promise.race(inFlight);
      if ((from / batchSize) % 50 === 0 && from > 0) say(`produced ${from.toLocaleString("en")} / ${count.toLocaleString("en")}`);
    }
    await Promise.all(inFlight);
  } finally {
    await producer.disconnect();
  }
  return performance.now() - started;
}

/** Messages held by a topic (sum of its partitions' high watermarks), or -1 when it does not exist. */
async function messagesInTopic(admin: Admin, topic: string): Promise<number> {
  if (!(await admin.listTopics()).includes(topic)) return -1;
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}

/** Content fingerprint of a database's outcomes: equal between two databases iff they hold the same rows (practically). */
export async function fingerprint(sql: Sql): Promise<Record<string, string>> {
  const [row] = await sql<Record<string, string>[]>`
    select count(*)::text as rows,
           count(*) filter (where win_status)::text as wins,
           count(*) filter (where enriched)::text as enriched,
           coalesce(sum(win_price), 0)::text as win_price_sum,
           coalesce(sum(bid_price), 0)::text as bid_price_sum,
           coalesce(sum(hashtext(bid_id)::bigint), 0)::text as bid_ids,
           coalesce(sum(hashtext(concat_ws('|', user_id, site_domain, currency, "timestamp", auction_timestamp, user_interests::text))::bigint), 0)::text as fields,
           coalesce(sum(hashtext(raw_data::text)::bigint), 0)::text as raw_data
    from auction_outcomes`;
  return row!;
}

async function scalar(query: Promise<{ value: string | null }[]>): Promise<number> {
  const [row] = await query;
  return Number(row?.value ?? 0);
}

interface ConsumerRun {
  totalMs: number;
  steadyMs: number;
  cpuSeconds: number;
  peakRssMiB: number;
  exitCode: number | null;
  cpuSecondsAtExit: number | null;
}

export async function runConsumer(options: {
  database: string;
  topic: string;
  group: string;
  count: number;
  logLevel: string;
  outDir: string;
  timeoutS: number;
  /** Rows the table holds once every message is stored (default: count, an empty table). */
  expectedRows?: number;
  /** Counts the stored messages (default: every row); a preloaded table counts only the ingest's rows. */
  countStored?: (sql: Sql) => Promise<number>;
  /** The checkout whose consumer runs (default: this one), e.g. an older release for a baseline. */
  cwd?: string;
}): Promise<ConsumerRun> {
  const sql = benchSql(options.database, 1);
  const stdoutPath = join(options.outDir, "consumer.stdout.log");
  const stderrPath = join(options.outDir, "consumer.stderr.log");
  const command = [process.execPath, "run", "src/main.ts", "consumer", "--max-messages", String(options.count), "--timeout", "30000"];
  say(`starting the consumer: ${command.slice(1).join(" ")} (logs in ${options.outDir})`);
  const started = performance.now();
  const consumer = Bun.spawn(command, {
    cwd: options.cwd ?? ROOT,
    env: {
      ...process.env,
      ...deployedRuntimeEnv("consumer"),
      DATABASE_URL: urlFor(options.database),
      KAFKA_BROKERS,
      KAFKA_TOPIC_AUCTION_OUTCOMES: options.topic,
      KAFKA_CONSUMER_GROUP: options.group,
      LOG_LEVEL: options.logLevel,
      CONSUMER_HEALTH_PORT: String(freePort()),
    },
    stdout: Bun.file(stdoutPath),
    stderr: Bun.file(stderrPath),
  });
  const watch = watchProcess(consumer.pid);
  let exited = false;
  void consumer.exited.then(() => (exited = true));
  let firstRowAt: number | null = null;
  let lastProgressAt = performance.now();
  let lastSeen = 0;
  let lastReport = performance.now();
  try {
    for (;;) {
      // max(id) walks the primary key in O(log n); count(*) is exact but scans, so it runs only
      // once the ids say the end is near (ids of uncommitted transactions may still be missing).
      const maxId = await scalar(sql<{ value: string | null }[]>`select max(id)::text as value from auction_outcomes`);
      const now = performance.now();
      if (maxId > 0 && firstRowAt === null) firstRowAt = now;
      if (maxId !== lastSeen) {
        lastSeen = maxId;
        lastProgressAt = now;
      }
      if (maxId >= (options.expectedRows ?? options.count)) {
        const rows = options.countStored
          ? await options.countStored(sql)
          : await scalar(sql<{ value: string }[]>`select count(*)::text as value from auction_outcomes`);
        if (rows >= options.count) {
          const done = performance.now();
          const sample = watch.now();
          say(`all ${rows.toLocaleString("en")} rows committed after ${seconds(done - started).toFixed(2)} s`);
          const exitCode = await Promise.race([consumer.exited, Bun.sleep(30_000).then(() => null)]);
          if (exitCode === null) {
            say("the consumer did not stop by itself within 30 s of the last row; sending SIGTERM");
            consumer.kill("SIGTERM");
            await consumer.exited;
          }
          // The last reading before exit (every 100 ms) also covers the shutdown's peak.
          const atExit = watch.stop();
          const usage = consumer.resourceUsage();
          return {
            totalMs: done - started,
            steadyMs: done - (firstRowAt ?? started),
            cpuSeconds: sample.cpuSeconds,
            // VmHWM of the consumer's own address space only. rusage's maxRSS is not its peak: Linux
            // carries the parent's resident set at fork into the child's maxrss (kept across exec),
            // so it reported this harness's 300–400 MiB after producing a topic as the consumer's.
            peakRssMiB: atExit.peakRssMiB,
            exitCode: consumer.exitCode,
            cpuSecondsAtExit: usage ? Number(usage.cpuTime.total) / 1e6 : null,
          };
        }
      }
      if (now - lastReport > 5000) {
        lastReport = now;
        say(`consumer: ~${maxId.toLocaleString("en")} rows after ${seconds(now - started).toFixed(1)} s`);
      }
      const stalled = now - lastProgressAt > options.timeoutS * 1000;
      if (exited || stalled) {
        const tail =
          (await Bun.file(stderrPath).text()).split("\n").slice(-15).join("\n") + (await Bun.file(stdoutPath).text()).split("\n").slice(-15).join("\n");
        if (!exited) consumer.kill("SIGTERM");
        throw new Error(
          `${exited ? `the consumer exited (code ${consumer.exitCode})` : `no progress for ${options.timeoutS} s`} with ~${maxId} of ${options.count} rows; last log lines:\n${tail}`,
        );
      }
      await Bun.sleep(100);
    }
  } finally {
    watch.stop();
    if (!exited) consumer.kill("SIGTERM");
    await sql.end({ timeout: 5 });
  }
}

export async function benchIngest(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    integers: { messages: 1_000_000, partitions: 4, seed: 42, "produce-batch": 5_000, "stall-timeout": 120 },
    strings: { "log-level": process.env.LOG_LEVEL ?? "INFO" },
    booleans: ["keep", "reuse-topic", "write-results"],
  });
  const count = flags.int("messages");
  const partitions = flags.int("partitions");
  const reuseTopic = flags.bool("reuse-topic");
  const runId = `${Date.now().toString(36)}${process.pid.toString(36)}`;
  const consumerDb = `helios_bench_ingest_${runId}`;
  const copyDb = `helios_bench_copy_${runId}`;
  // Every run reads with a group of its own from the earliest offset, so a topic holding exactly
  // these messages can serve many runs: --reuse-topic keeps it under a name that says what it holds.
  const topic = reuseTopic ? `helios-bench-m${count}-s${flags.int("seed")}-p${partitions}-g${GENERATOR_VERSION}` : `helios-bench-${runId}`;
  const outDir = await runDirectory("ingest");
  const copyPath = join("/tmp", `helios-bench-${runId}.copy`);
  const generator = createOutcomeGenerator({ seed: flags.int("seed"), spreadOver: count });

  const admin = adminSql();
  const kafka = benchKafka();
  const kafkaAdmin = kafka.admin();
  let topicCreated = false;
  try {
    const busy = await checkQuiet();
    const machine = await machineFacts(admin);
    await ensureKafka();
    await kafkaAdmin.connect();

    let produceMs: number | null = null;
    if (reuseTopic && (await messagesInTopic(kafkaAdmin, topic)) === count) {
      say(`reusing topic ${topic} (${count.toLocaleString("en")} messages)`);
    } else {
      if ((await kafkaAdmin.listTopics()).includes(topic)) await kafkaAdmin.deleteTopics({ topics: [topic] });
      say(`topic ${topic} with ${partitions} partitions; producing ${count.toLocaleString("en")} messages (seed ${flags.int("seed")})`);
      await createBenchTopic(kafkaAdmin, topic, partitions);
      topicCreated = true;
      produceMs = await produceAll(kafka, topic, generator, count, flags.int("produce-batch"));
      say(`produced in ${seconds(produceMs).toFixed(2)} s (${Math.round(count / seconds(produceMs))} msg/s)`);
    }

    await freshDatabase(admin, consumerDb);
    await admin`checkpoint`;
    const consumer = await runConsumer({
      database: consumerDb,
      topic,
      group: `helios-bench-${runId}`,
      count,
      logLevel: flags.str("log-level"),
      outDir,
      timeoutS: flags.int("stall-timeout"),
    });

    say(`writing the COPY text of the same ${count.toLocaleString("en")} outcomes to ${copyPath}`);
    const copyBytes = await writeCopyFile(copyPath, generator, count);
    await freshDatabase(admin, copyDb);
    await admin`checkpoint`;
    const copySql = benchSql(copyDb, 1);
    const consumerSql = benchSql(consumerDb, 1);
    let copyMs: number;
    let consumerRows: number;
    let deadLetters: number;
    let dataMatch: boolean;
    const mismatched: string[] = [];
    try {
      say("COPY of the same rows into an empty table with the same schema and indexes");
      const copyStarted = performance.now();
      await copyFile(copySql, copyPath);
      copyMs = performance.now() - copyStarted;
      say(`COPY took ${seconds(copyMs).toFixed(2)} s (${(copyBytes / 2 ** 20).toFixed(0)} MiB)`);

      consumerRows = await scalar(consumerSql<{ value: string }[]>`select count(*)::text as value from auction_outcomes`);
      deadLetters = await scalar(consumerSql<{ value: string }[]>`select count(*)::text as value from dead_letters`);
      const [a, b] = await Promise.all([fingerprint(consumerSql), fingerprint(copySql)]);
      for (const key of Object.keys(b)) if (a[key] !== b[key]) mismatched.push(key);
      dataMatch = mismatched.length === 0;
      if (!dataMatch) say(`consumer rows differ from COPY rows in: ${mismatched.join(", ")} (consumer ${JSON.stringify(a)} vs COPY ${JSON.stringify(b)})`);
    } finally {
      await copySql.end({ timeout: 5 });
      await consumerSql.end({ timeout: 5 });
    }

    const consumerRate = count / seconds(consumer.totalMs);
    const steadyRate = count / seconds(consumer.steadyMs);
    const copyRate = count / seconds(copyMs);
    const exactlyOnce = consumerRows === count && deadLetters === 0;
    const figures = {
      messages: count,
      partitions,
      consumer_seconds: seconds(consumer.totalMs),
      consumer_msgs_per_s: Math.round(consumerRate),
      consumer_steady_msgs_per_s: Math.round(steadyRate),
      consumer_cpu_s: consumer.cpuSeconds,
      consumer_cpu_s_at_exit: consumer.cpuSecondsAtExit ?? "n/a",
      consumer_peak_rss_mb: Math.round(consumer.peakRssMiB * 10) / 10,
      consumer_exit_code: consumer.exitCode ?? "killed",
      copy_seconds: seconds(copyMs),
      copy_rows_per_s: Math.round(copyRate),
      ratio: Math.round((consumerRate / copyRate) * 1000) / 1000,
      ratio_steady: Math.round((steadyRate / copyRate) * 1000) / 1000,
      final_rows: consumerRows,
      dead_letters: deadLetters,
      exactly_once: exactlyOnce,
      data_match: dataMatch,
      produce_msgs_per_s: produceMs === null ? "reused" : Math.round(count / seconds(produceMs)),
      log_level: flags.str("log-level"),
      machine_busy_pct: busy,
    };
    benchLine("ingest", figures);

    if (flags.bool("write-results")) {
      await appendResults(
        `ingest, ${count.toLocaleString("en")} messages`,
        [
          `- command: \`${commandLine()}\``,
          machineSection(machine, busy),
          `- consumer LOG_LEVEL=${flags.str("log-level")}, BUN_JSC_forceRAMSize=${ramMiB("consumer")} MiB (its k8s memory limit); topic of ${partitions} partitions; seed ${flags.int("seed")}`,
          "",
          markdownTable(
            ["figure", "value"],
            [
              [
                "consumer, spawn → all rows committed",
                `${figures.consumer_seconds.toFixed(2)} s, **${figures.consumer_msgs_per_s.toLocaleString("en")} msg/s**`,
              ],
              ["consumer, first → last row committed", `${figures.consumer_steady_msgs_per_s.toLocaleString("en")} msg/s`],
              ["consumer CPU (until all rows committed)", `${figures.consumer_cpu_s} s`],
              ["consumer peak RSS", `${figures.consumer_peak_rss_mb} MiB`],
              ["COPY of the same rows (limit)", `${figures.copy_seconds.toFixed(2)} s, **${figures.copy_rows_per_s.toLocaleString("en")} rows/s**`],
              ["consumer / COPY", `**${(figures.ratio * 100).toFixed(1)}%** (steady ${(figures.ratio_steady * 100).toFixed(1)}%)`],
              ["exactly once (rows = messages, no dead letters)", `${exactlyOnce} (${consumerRows.toLocaleString("en")} rows, ${deadLetters} dead letters)`],
              ["consumer rows = COPY rows (content fingerprint)", String(dataMatch)],
              ["producer (setup, not compared)", produceMs === null ? "topic reused" : `${figures.produce_msgs_per_s.toLocaleString("en")} msg/s`],
            ],
          ),
        ].join("\n"),
      );
    }
    return exactlyOnce && dataMatch ? 0 : 1;
  } finally {
    await rm(copyPath, { force: true });
    if (flags.bool("keep")) {
      say(`kept topic ${topic} and databases ${consumerDb}, ${copyDb}`);
    } else {
      if (topicCreated && !reuseTopic) await kafkaAdmin.deleteTopics({ topics: [topic] }).catch(() => {});
      await dropDatabase(admin, consumerDb).catch(() => {});
      await dropDatabase(admin, copyDb).catch(() => {});
    }
    if (reuseTopic) say(`topic ${topic} stays for the next --reuse-topic run`);
    await kafkaAdmin.disconnect().catch(() => {});
    await admin.end({ timeout: 5 });
  }
}
