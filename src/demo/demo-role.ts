// `bun run start demo [--rate N] [--data-dir DIR] [--port P] [--kafka] [--seed S]`: the whole
// service on a machine with nothing but Bun. An embedded PostgreSQL (unless DATABASE_URL or
// DB_HOST names one), the normal migrations, a simulated auction stream through the consumer's
// own mapping and batch writer (or, with --kafka and a broker answering, through Kafka and the
// real consumer), and the normal API, Swagger and console.
import type { Config, DatabaseConfig } from "../config";
import { createSql, type Sql } from "../db/client";
import { applyMigrations, ensureDatabase } from "../db/migrate";
import { createApp } from "../api/app";
import type { Logger } from "../log";
import { onTerminationSignals, serve, type HttpServer, type TerminationSignal } from "../runtime";
import { createOutcomeGenerator, type OutcomeGenerator } from "../simulate/generator";
import { parseDemoArgs, type DemoArgs } from "./demo-args";
import { DEFAULT_TICK_MS, startDemoFeed } from "./demo-feed";
import { dataDirState, startEmbeddedPostgres, type EmbeddedPostgres } from "./embedded-postgres";
import { resumeIndex } from "./feed-position";
import { brokerAnswers, sharedPoolView, startKafkaFeed } from "./kafka-feed";

type Env = Record<string, string | undefined>;

/** The demo brings its own database only when none is configured. */
export function usesExternalDatabase(env: Env): boolean {
  return [env.DATABASE_URL, env.DB_HOST].some((value) => value !== undefined && value.trim() !== "");
}

/** A realistic mix for people watching: some redeliveries and some bad messages, live timestamps. */
export function demoGenerator(seed: number, clock: () => number = Date.now): OutcomeGenerator {
  return createOutcomeGenerator({
    seed,
    clock,
    // Fewer users and sites than the benchmark's, so "top" lists repeat within minutes.
    users: 10_000,
    domains: 300,
    missingSiteDomainRate: 0.02,
    duplicateRate: 0.02,
    invalidRate: 0.01,
  });
}

export function banner(port: number, where: string, source: string): string {
  const base = `http://localhost:${port}`;
  return [
    "",
    `Helios Analytics demo: ${source} into ${where}.`,
    `  Console  ${base}/console/`,
    `  Swagger  ${base}/swagger`,
    "  Try:",
    `    curl -s ${base}/api/outcomes/stats/`,
    `    curl -s '${base}/api/outcomes/?page_size=5'`,
    `    curl -s ${base}/api/dead_letters/`,
    `    curl -s ${base}/api/ingest/status/`,
    `    curl -s ${base}/metrics | grep ^http_requests_total`,
    "  Ctrl-C stops it.",
    "",
  ].join("\n");
}

/** Things to undo at shutdown, last started first. */
type Closer = () => Promise<unknown>;

async function closeAll(closers: Closer[], log: Logger): Promise<void> {
  for (const close of closers.reverse()) {
    try {
      await close();
    } catch (error) {
      log.warn("Demo shutdown step failed", { error: (error as Error).message });
    }
  }
}

async function openDatabase(config: Config, args: DemoArgs, env: Env, log: Logger, closers: Closer[]) {
  if (usesExternalDatabase(env)) {
    if (args.dataDir) log.warn("--data-dir is ignored: DATABASE_URL or DB_HOST names the database to use");
    await ensureDatabase(config.db, log);
    return { db: config.db, maxConnections: config.db.poolMax, where: "the configured PostgreSQL" };
  }
  const began = performance.now();
  const embedded: EmbeddedPostgres = await startEmbeddedPostgres({ dataDir: args.dataDir, log });
  closers.push(() => embedded.close());
  log.info("Embedded PostgreSQL started", {
    version: embedded.version,
    data_dir: embedded.dataDir ?? "in memory",
    duration_ms: Math.round(performance.now() - began),
  });
  const db: DatabaseConfig = { ...config.db, url: embedded.url, poolMax: 1 };
  const where = `embedded PostgreSQL ${embedded.version} (PGlite, ${embedded.dataDir ? `data in ${embedded.dataDir}` : "in memory"})`;
  return { db, maxConnections: 1, where };
}

/** The first request a client would make, timed from process start: what a newcomer waits for. */
async function firstAnswer(port: number, config: Config): Promise<{ at: number; status: number }> {
  const headers: Record<string, string> = config.apiTokens[0] ? { authorization: `Bearer ${config.apiTokens[0]}` } : {};
  const response = await fetch(`http://127.0.0.1:${port}/api/outcomes/stats/`, { headers });
  await response.arrayBuffer();
  // Not ok only when ALLOWED_HOSTS leaves out 127.0.0.1: still an answer, and the status says which.
  return { at: performance.now(), status: response.status };
}

export async function runDemoRole(config: Config, log: Logger, argv: string[], env: Env = process.env): Promise<number> {
  const args = parseDemoArgs(argv);
  if (args.dataDir && !usesExternalDatabase(env) && (await dataDirState(args.dataDir)) === "other") {
    console.error(`--data-dir ${args.dataDir} holds files but no database: give a new or empty directory, or one a demo made.`);
    return 2;
  }
  // Listen first: a signal during the start-up (PGlite takes seconds) stops the demo right after it.
  let stopRequested!: (signal: TerminationSignal) => void;
  const stopSignal = new Promise<TerminationSignal>((resolve) => (stopRequested = resolve));
  const stopListening = onTerminationSignals((signal) => stopRequested(signal));
  const closers: Closer[] = [];
  try {
    const { db, maxConnections, where } = await openDatabase(config, args, env, log, closers);
    const sql: Sql = createSql(db, { max: maxConnections, applicationName: "helios-analytics-demo" });
    closers.push(() => sql.end({ timeout: 5 }));
    await applyMigrations(sql, log);

    const demoConfig: Config = { ...config, port: args.port ?? config.port, db };
    const app = createApp({ config: demoConfig, sql, log });
    const server: HttpServer = serve({ port: demoConfig.port, fetch: app.fetch, maxRequestBodySize: 64 * 1024 });
    closers.push(() => server.stop());
    log.info("API listening", { port: server.port });

    const generator = demoGenerator(args.seed);
    const tickMs = DEFAULT_TICK_MS;
    let source = `a simulated stream of ${args.rate} outcomes/s`;
    if (args.kafka && (await brokerAnswers(config.kafka.brokers[0]!))) {
      // The consumer's own pool against a real PostgreSQL, as its role has; on PGlite, the one connection.
      const connect = maxConnections === 1
        ? () => sharedPoolView(sql)
        : () => createSql(db, { max: 3, applicationName: "helios-analytics-consumer", statementTimeoutMs: 60_000 });
      const feed = await startKafkaFeed({ config: demoConfig, connect, log, generator, rate: args.rate, tickMs });
      closers.push(() => feed.stop());
      source += ` through Kafka (${config.kafka.brokers.join(",")}, topic ${config.kafka.topic}) and the consumer`;
    } else {
      if (args.kafka) log.warn("--kafka: no broker answers at KAFKA_BROKERS; feeding the database directly", { brokers: config.kafka.brokers });
      const feed = startDemoFeed({ sql, log, generator, rate: args.rate, startIndex: await resumeIndex(sql, generator), tickMs });
      closers.push(() => feed.stop());
    }

    const answer = await firstAnswer(server.port, demoConfig);
    log.info("Demo ready", {
      startup_ms: Math.round(answer.at),
      first_status: answer.status,
      port: server.port,
      console: `http://localhost:${server.port}/console/`,
    });
    console.log(banner(server.port, where, source));

    const signal = await stopSignal;
    log.info("Shutting down", { signal });
    return 0;
  } finally {
    await closeAll(closers, log);
    stopListening();
  }
}
