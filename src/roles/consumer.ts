// `bun run start consumer [--max-messages N] [--timeout MS] [--lag-interval MS]`: the Kafka →
// PostgreSQL ingest as a process: flags, its own database pool, its health and metrics server on
// CONSUMER_HEALTH_PORT, signals, exit code.
import type { Config } from "../config";
import { createSql } from "../db/client";
import { type BatchReport, type ConsumerHandle, type ConsumerOptions, createConsumerStats, startConsumer } from "../ingest/kafka/consumer";
import { parseConsumerArgs } from "../ingest/kafka/consumer-args";
import { DATABASE_PING_TIMEOUT_MS, startConsumerHealthServer } from "../ingest/kafka/consumer-health";
import { createConsumerMetrics } from "../ingest/kafka/consumer-metrics";
import type { Logger } from "../log";
import { type HttpServer, onTerminationSignals } from "../runtime";
import { startMaintenanceSchedule } from "../storage/maintain";

/**
 * postgres.js 3.4.9 can schedule a socket write (setImmediate) on a connection whose socket its
 * close handler has just set to null; the write then throws outside any promise and would kill
 * the process (seen on Bun 1.4.5 while the database refused connections). That connection
 * is already gone and its query already failed and is retried, so only this error is survived.
 */
export function isPostgresClosedSocketRace(error: unknown): boolean {
  return error instanceof TypeError && /socket/.test(error.message) && /postgres[\\/]src[\\/]connection\.js/.test(error.stack ?? "");
}

/** Statements of the consumer may be big batches on a busy database: more room than the API's. */
const CONSUMER_STATEMENT_TIMEOUT_MS = 60_000;
const HEALTH_STOP_DEADLINE_MS = 1_000;
/** One connection per partition written concurrently, one spare (docs/operations.md, "Connection budget"). */
export const CONSUMER_POOL_MAX = 3;

export async function runConsumerRole(config: Config, log: Logger, args: string[], extra: Partial<ConsumerOptions> = {}): Promise<number> {
  const flags = parseConsumerArgs(args);
  const connect = () =>
    createSql(config.db, {
      max: CONSUMER_POOL_MAX,
      applicationName: "helios-analytics-consumer",
      statementTimeoutMs: Math.max(config.db.statementTimeoutMs, CONSUMER_STATEMENT_TIMEOUT_MS),
    });
  let handle: ConsumerHandle | undefined;
  const stats = extra.stats ?? createConsumerStats();
  const metrics = createConsumerMetrics(stats, config.kafka.topic);
  const onBatch = (report: BatchReport) => {
    metrics.observeBatch(report);
    extra.onBatch?.(report);
  };
  // Up before Kafka is reached: liveness answers (and readiness says why not yet) while connecting.
  let health: HttpServer;
  try {
    health = startConsumerHealthServer({
      port: config.consumerHealthPort,
      stats,
      registry: metrics.registry,
      pingDatabase: () => (handle ? handle.pingDatabase(DATABASE_PING_TIMEOUT_MS) : Promise.reject(new Error("consumer not started"))),
    });
  } catch (error) {
    log.error("Consumer health server could not start: set CONSUMER_HEALTH_PORT to a free port", {
      port: config.consumerHealthPort,
      error: (error as Error).message,
    });
    return 1;
  }
  log.info("Consumer health server listening", { port: health.port, paths: ["/healthz", "/readyz", "/metrics"] });
  let signalled: string | null = null;
  const onSignal = (signal: string) => {
    if (signalled) return;
    signalled = signal;
    log.info("Shutting down", { signal });
    void handle?.stop("signal");
  };
  const uncaught = (error: Error) => {
    if (isPostgresClosedSocketRace(error)) {
      log.warn("Ignored a write on a closed database connection", { error: error.message });
      return;
    }
    // Anything else keeps its default meaning: the process dies (uncommitted work is replayed).
    log.error("Fatal error", { role: "consumer", error, stack: error.stack });
    process.exit(1);
  };
  const stopListening = onTerminationSignals(onSignal);
  process.on("uncaughtException", uncaught);
  // The consumer writes the partitions: it also makes them ahead and drops expired ones.
  const maintenance =
    config.storage.maintenanceIntervalMs > 0
      ? startMaintenanceSchedule(
          () => createSql(config.db, { max: 1, applicationName: "helios-analytics-maintain", statementTimeoutMs: 0 }),
          config.storage,
          log,
        )
      : undefined;
  try {
    try {
      handle = await startConsumer({ config, log, connect }, { ...flags, ...extra, stats, onBatch });
    } catch (error) {
      log.error("Kafka consumer could not start", { brokers: config.kafka.brokers, topic: config.kafka.topic, error: (error as Error).message });
      return 1;
    }
    if (signalled) void handle.stop("signal");
    const reason = await handle.done;
    return reason === "crash" ? 1 : 0;
  } finally {
    await maintenance?.stop();
    stopListening();
    process.off("uncaughtException", uncaught);
    // A scraper's idle keep-alive connection must not hold the exit up.
    await Promise.race([health.stop(), new Promise((resolve) => setTimeout(resolve, HEALTH_STOP_DEADLINE_MS))]);
  }
}
