// What the one-off ingest roles (import-original, ingest-file, replay-dead-letters) set up alike:
// a small pool whose statements are whole batches, and a termination signal that lets the batch
// in hand commit before the role stops.
import type { Config } from "../config";
import { createSql } from "../db/client";
import { type ReplaceablePool, replaceablePool } from "../db/pool";
import type { Logger } from "../log";
import { onTerminationSignals, SIGNAL_EXIT_CODE, type TerminationSignal } from "../runtime";

/** Batches can be large on a busy database: the consumer's room, not the API's 5 s. */
const BATCH_STATEMENT_TIMEOUT_MS = 60_000;

export function batchPool(config: Config, log: Logger, applicationName: string): ReplaceablePool {
  return replaceablePool(
    () => createSql(config.db, { max: 2, applicationName, statementTimeoutMs: Math.max(config.db.statementTimeoutMs, BATCH_STATEMENT_TIMEOUT_MS) }),
    log,
  );
}

export interface StopRequest {
  /** The first termination signal received, or null. */
  signal(): TerminationSignal | null;
  /** Stops listening for signals. */
  release(): void;
}

/** Listens for SIGTERM/SIGINT; the first one is logged (`message`) and remembered for the role to act on between batches. */
export function stopAfterBatch(log: Logger | null, message = "Stopping after the batch in hand"): StopRequest {
  let signalled: TerminationSignal | null = null;
  const release = onTerminationSignals((signal) => {
    if (signalled) return;
    signalled = signal;
    log?.info(message, { signal });
  });
  return { signal: () => signalled, release };
}

/** A run that stopped before its end: the signal's conventional code when one stopped it, else 1. */
export const exitCodeOf = (signal: TerminationSignal | null): number => (signal ? SIGNAL_EXIT_CODE[signal] : 1);
