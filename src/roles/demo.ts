// `bun run start demo [--rate N] [--data-dir DIR] [--port P] [--kafka] [--seed S] [--log-requests]
// [--progress-interval S]`: the whole service on a machine with nothing but Bun. An embedded
// PostgreSQL (unless DATABASE_URL or DB_HOST names one; one demo per --data-dir), the normal
// migrations, a simulated auction stream through the consumer's own mapping and batch writer (or,
// with --kafka and a broker answering, through Kafka and the real consumer), and the normal API,
// Swagger and console. Its terminal is for a person: see demo/demo-report.ts.
import { createApp } from "../app";
import type { Config } from "../config";
import { createSql, type Sql } from "../db/client";
import { applyMigrations } from "../db/migrate";
import { banner, reminder } from "../demo/banner";
import { acquireDataDirLock, type DataDirLock, DataDirLocked } from "../demo/data-dir-lock";
import { type DemoArgs, parseDemoArgs } from "../demo/demo-args";
import { type Closer, closeAll, type Env, openDatabase, usesExternalDatabase } from "../demo/demo-database";
import { DEFAULT_TICK_MS, demoGenerator, startDemoFeed } from "../demo/demo-feed";
import { createRequestTally, type RequestTally, startDemoReport } from "../demo/demo-report";
import { dataDirState } from "../demo/embedded-postgres";
import { resumeIndex } from "../demo/feed-position";
import { brokerAnswers, sharedPoolView, startKafkaFeed } from "../demo/kafka-feed";
import { logEachRequest, type RequestLog } from "../http/request-log";
import type { Fields, Logger } from "../log";
import { type HttpServer, onTerminationSignals, serve, type TerminationSignal } from "../runtime";
import { startMaintenanceSchedule } from "../storage/maintain";

/** The first request a client would make, timed from process start: what a newcomer waits for. */
async function firstAnswer(port: number, config: Config): Promise<{ at: number; status: number }> {
  const headers: Record<string, string> = config.apiTokens[0] ? { authorization: `Bearer ${config.apiTokens[0]}` } : {};
  const response = await fetch(`http://127.0.0.1:${port}/api/outcomes/stats/`, { headers });
  await response.arrayBuffer();
  // Not ok only when ALLOWED_HOSTS leaves out 127.0.0.1: still an answer, and the status says which.
  return { at: performance.now(), status: response.status };
}

/**
 * Takes --data-dir for this process (the lock is released by `closers`), or says why not and with
 * which exit code. Locked before anything reads the directory: a second demo is refused before
 * it judges files the first one may be writing.
 */
async function claimDataDir(dataDir: string, closers: Closer[]): Promise<{ message: string; code: number } | null> {
  let lock: DataDirLock;
  try {
    lock = await acquireDataDirLock(dataDir);
  } catch (error) {
    if (error instanceof DataDirLocked) return { message: error.message, code: 1 };
    throw error;
  }
  closers.push(() => lock.release());
  if ((await dataDirState(dataDir)) === "other") {
    return { message: `--data-dir ${dataDir} holds files but no database: give a new or empty directory, or one a demo made.`, code: 2 };
  }
  return null;
}

/** Where each answered request goes: its own line with --log-requests, else a count for the next progress line. */
function demoRequestLog(args: DemoArgs, log: Logger): { requestLog: RequestLog; tally?: RequestTally } {
  if (args.logRequests) return { requestLog: logEachRequest(log) };
  const tally = createRequestTally();
  return { requestLog: tally.record, tally };
}

export async function runDemoRole(config: Config, log: Logger, argv: string[], env: Env = process.env): Promise<number> {
  const args = parseDemoArgs(argv);
  // Listen first: a signal during the start-up (PGlite takes seconds) stops the demo right after it.
  let stopRequested!: (signal: TerminationSignal) => void;
  const stopSignal = new Promise<TerminationSignal>((resolve) => (stopRequested = resolve));
  const stopListening = onTerminationSignals((signal) => stopRequested(signal));
  const closers: Closer[] = [];
  try {
    if (args.dataDir && !usesExternalDatabase(env)) {
      const refusal = await claimDataDir(args.dataDir, closers);
      if (refusal) {
        console.error(refusal.message);
        return refusal.code;
      }
    }
    const { db, maxConnections, where } = await openDatabase(config, args, env, log, closers);
    const sql: Sql = createSql(db, { max: maxConnections, applicationName: "helios-analytics-demo" });
    closers.push(() => sql.end({ timeout: 5 }));
    const interval = config.storage.partitionInterval;
    await applyMigrations(sql, log, { settings: interval ? { "helios.partition_interval": interval } : {} });
    // The demo writes, so it keeps the partitions too (on its one connection when embedded).
    if (config.storage.maintenanceIntervalMs > 0) {
      const maintenance = startMaintenanceSchedule(
        maxConnections === 1 ? () => sharedPoolView(sql) : () => createSql(db, { max: 1, applicationName: "helios-analytics-maintain", statementTimeoutMs: 0 }),
        config.storage,
        log,
      );
      closers.push(() => maintenance.stop());
    }

    const demoConfig: Config = { ...config, port: args.port ?? config.port, db };
    const { requestLog, tally } = demoRequestLog(args, log);
    const app = createApp({ config: demoConfig, sql, log, requestLog });
    const server: HttpServer = serve({ port: demoConfig.port, fetch: app.fetch, maxRequestBodySize: 64 * 1024 });
    closers.push(() => server.stop());
    log.info("API listening", { port: server.port });

    const generator = demoGenerator(args.seed);
    const tickMs = DEFAULT_TICK_MS;
    let source = `a simulated stream of ${args.rate} outcomes/s`;
    let totals: () => Fields;
    if (args.kafka && (await brokerAnswers(config.kafka.brokers[0]!))) {
      // The consumer's own pool against a real PostgreSQL, as its role has; on PGlite, the one connection.
      const connect =
        maxConnections === 1
          ? () => sharedPoolView(sql)
          : () => createSql(db, { max: 3, applicationName: "helios-analytics-consumer", statementTimeoutMs: 60_000 });
      const feed = await startKafkaFeed({ config: demoConfig, connect, log, generator, rate: args.rate, tickMs });
      closers.push(() => feed.stop());
      totals = feed.totals;
      source += ` through Kafka (${config.kafka.brokers.join(",")}, topic ${config.kafka.topic}) and the consumer`;
    } else {
      if (args.kafka) log.warn("--kafka: no broker answers at KAFKA_BROKERS; feeding the database directly", { brokers: config.kafka.brokers });
      const feed = startDemoFeed({
        sql,
        log,
        generator,
        rate: args.rate,
        startIndex: await resumeIndex(sql, generator),
        tickMs,
        retentionDays: config.storage.retentionDays,
      });
      closers.push(() => feed.stop());
      totals = feed.totals;
    }

    const answer = await firstAnswer(server.port, demoConfig);
    log.info("Demo ready", {
      startup_ms: Math.round(answer.at),
      first_status: answer.status,
      port: server.port,
      console: `http://localhost:${server.port}/console/`,
    });
    const auth = config.apiTokens.length > 0 ? { protectDocsAndMetrics: config.protectDocsAndMetrics } : undefined;
    console.log(banner({ port: server.port, where, source, auth }));
    // Stopped before the feed (closers run last first), so no report comes after its last line.
    const report = startDemoReport({
      log,
      intervalMs: args.progressIntervalS * 1000,
      totals,
      requests: tally,
      remind: () => console.log(reminder(server.port)),
    });
    closers.push(async () => report.stop());

    const signal = await stopSignal;
    log.info("Shutting down", { signal });
    return 0;
  } finally {
    await closeAll(closers, log);
    stopListening();
  }
}
