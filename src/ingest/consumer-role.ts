// `bun run start consumer [--max-messages N] [--timeout MS] [--lag-interval MS]`: the Kafka →
// PostgreSQL ingest as a process: flags, its own database pool, signals, exit code.
import type { Config } from "../config";
import { createSql } from "../db/client";
import type { Logger } from "../log";
import { parseConsumerArgs, UsageError, type ConsumerArgs } from "./cli-args";
import { startConsumer, type ConsumerHandle, type ConsumerOptions } from "./kafka-consumer";

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

export async function runConsumerRole(config: Config, log: Logger, args: string[], extra: Partial<ConsumerOptions> = {}): Promise<number> {
  let flags: ConsumerArgs;
  try {
    flags = parseConsumerArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(error.message);
    return 2;
  }
  const connect = () =>
    createSql(config.db, {
      // One connection per partition written concurrently, one spare.
      max: 3,
      applicationName: "helios-analytics-consumer",
      statementTimeoutMs: Math.max(config.db.statementTimeoutMs, CONSUMER_STATEMENT_TIMEOUT_MS),
    });
  let handle: ConsumerHandle | undefined;
  let signalled: string | null = null;
  const onSignal = (signal: string) => {
    if (signalled) return;
    signalled = signal;
    log.info("Shutting down", { signal });
    void handle?.stop("signal");
  };
  const sigterm = () => onSignal("SIGTERM");
  const sigint = () => onSignal("SIGINT");
  const uncaught = (error: Error) => {
    if (isPostgresClosedSocketRace(error)) {
      log.warn("Ignored a write on a closed database connection", { error: error.message });
      return;
    }
    // Anything else keeps its default meaning: the process dies (uncommitted work is replayed).
    log.error("Fatal error", { role: "consumer", error, stack: error.stack });
    process.exit(1);
  };
  process.on("SIGTERM", sigterm);
  process.on("SIGINT", sigint);
  process.on("uncaughtException", uncaught);
  try {
    try {
      handle = await startConsumer({ config, log, connect }, { ...flags, ...extra });
    } catch (error) {
      log.error("Kafka consumer could not start", { brokers: config.kafka.brokers, error: (error as Error).message });
      return 1;
    }
    if (signalled) void handle.stop("signal");
    const reason = await handle.done;
    return reason === "crash" ? 1 : 0;
  } finally {
    process.off("SIGTERM", sigterm);
    process.off("SIGINT", sigint);
    process.off("uncaughtException", uncaught);
  }
}
