// One ingest step for every source: messages → mapping → BatchInput → one transaction, retried
// until it commits → the source's own commit (Kafka offsets, a feed's position) → counters and
// log lines. Kafka, the demo feed, a file backfill, the original-service import and a dead-letter
// replay differ in how they read; this is the one piece of code they all call.
//
// A replay of a batch only produces duplicates (the writer's unique key), so a source may deliver
// at least once: whatever was not committed is simply delivered again.
import { isConnectionError } from "../db/errors";
import type { ReplaceablePool } from "../db/pool";
import type { Logger } from "../log";
import { type ParsedOutcome, parseOutcomeMessage } from "../outcomes/outcome.mapping";
import { epochMs } from "../values/timestamps";
import { type BatchInput, type BatchResult, type MessageSource, writeBatch } from "./batch-writer";
import { collectEvery } from "./memory-pressure";
import { DEFAULT_RETRY, type RetryPolicy, retryDelayMs } from "./retry";

/** What ingest has done so far, read by log lines, metrics and health checks. */
export interface IngestCounters {
  /** Messages handled and committed: success + duplicate + error. */
  totalMessages: number;
  /** New outcomes stored. */
  successCount: number;
  /** Redelivered outcomes already stored. */
  duplicateCount: number;
  /** Invalid messages (and rows the database refused), stored as dead letters. */
  errorCount: number;
  /** Of those, outcomes older than the retention window (RETENTION_DAYS). */
  tooOldCount: number;
  batches: number;
  /** Failed write attempts that were retried. */
  dbRetries: number;
  /** Epoch ms of the last committed batch. */
  lastBatchAt: number | null;
  /** Epoch ms of the last statement the database answered (a batch, the lag record, a ping). */
  dbAnsweredAt: number | null;
  /** The last database failure, cleared when the database answers again. */
  dbError: string | null;
}

export function createIngestCounters(): IngestCounters {
  return {
    totalMessages: 0,
    successCount: 0,
    duplicateCount: 0,
    errorCount: 0,
    tooOldCount: 0,
    batches: 0,
    dbRetries: 0,
    lastBatchAt: null,
    dbAnsweredAt: null,
    dbError: null,
  };
}

export function databaseAnswered(counters: IngestCounters): void {
  counters.dbAnsweredAt = Date.now();
  counters.dbError = null;
}

export function errorSummary(error: unknown): { error: string; code?: string } {
  const { message, code } = (error ?? {}) as { message?: string; code?: unknown };
  return { error: message ?? String(error), ...(typeof code === "string" ? { code } : {}) };
}

/**
 * The mapping rejects rather than throws; should a bug make it throw anyway, the message becomes a
 * dead letter too: a source that throws would replay the same batch forever (kafkajs does).
 */
function parseWithoutThrowing(value: Uint8Array | null, sourceTimestamp: string | null): ParsedOutcome {
  try {
    return parseOutcomeMessage(value, sourceTimestamp);
  } catch (error) {
    return { ok: false, reason: `mapping failed: ${(error as Error)?.message ?? String(error)}` };
  }
}

/** Messages → rows and rejections; each keeps its source position for a dead letter. */
export function toBatchInput(messages: readonly MessageSource[]): BatchInput {
  const input: BatchInput = { rows: [], rejections: [] };
  for (const source of messages) {
    if (source.unreadable !== undefined) {
      input.rejections.push({ source, reason: source.unreadable });
      continue;
    }
    const parsed = parseWithoutThrowing(source.payload, source.timestamp);
    if (parsed.ok) input.rows.push({ row: parsed.row, source });
    else input.rejections.push({ source, reason: parsed.reason });
  }
  return input;
}

/**
 * Sets aside the rows whose auction time is before `cutoffMs` (RETENTION_DAYS): storing them
 * would put them into a partition the next maintenance pass drops. They become dead letters
 * with a reason that says so; a replay after raising RETENTION_DAYS stores them.
 */
export function setAsideTooOld(input: BatchInput, cutoffMs: number, retentionDays: number): { input: BatchInput; tooOld: number } {
  const kept: BatchInput["rows"] = [];
  const rejections = [...input.rejections];
  const cutoff = new Date(cutoffMs).toISOString();
  for (const pending of input.rows) {
    if (epochMs(pending.row.timestamp).ms >= cutoffMs) kept.push(pending);
    else
      rejections.push({
        source: pending.source,
        reason: `auction time ${pending.row.timestamp} is older than the retention window: RETENTION_DAYS=${retentionDays} keeps outcomes from ${cutoff} on`,
      });
  }
  return { input: { rows: kept, rejections }, tooOld: input.rows.length - kept.length };
}

export interface IngestControl {
  /** Checked while waiting to retry: true gives the batch up (nothing committed; delivered again later). */
  abandoned(): boolean;
  /** Records the source's position once the batch is stored (Kafka offsets); before the counters move. */
  commit?(): Promise<void>;
  /** Fields on every log line about this batch (partition, offsets). */
  fields?: Record<string, unknown>;
}

export interface IngestedBatch {
  input: BatchInput;
  result: BatchResult;
  /** Write attempts it took (1 when the database answered the first time). */
  attempts: number;
  durationMs: number;
  /** Outcomes dead-lettered for being older than the retention window (among result.deadLettered). */
  tooOld: number;
}

export interface IngestStepOptions {
  pool: ReplaceablePool;
  log: Logger;
  counters: IngestCounters;
  retry?: RetryPolicy;
  /**
   * The consumer reports every batch at INFO and every dead letter at WARN; a source whose bad
   * messages are expected (the demo's, about 1 % by design) reports both at DEBUG.
   */
  quiet?: boolean;
  /** Told of each failed attempt before the wait (the consumer's readiness says "retrying"). */
  onRetry?(error: unknown): void;
  /** RETENTION_DAYS: older outcomes are dead-lettered instead of stored. */
  retentionDays?: number;
}

export interface IngestStep {
  /** Maps and stores `messages` in one transaction, retrying until it commits; null when abandoned. */
  ingest(messages: readonly MessageSource[], control: IngestControl): Promise<IngestedBatch | null>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits `ms`, checking every 100 ms whether the batch was given up meanwhile. */
async function waitUnlessAbandoned(ms: number, control: IngestControl): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (control.abandoned()) return false;
    await sleep(Math.min(100, deadline - Date.now()));
  }
  return !control.abandoned();
}

export function createIngestStep(options: IngestStepOptions): IngestStep {
  const { pool, log, counters } = options;
  const retry = options.retry ?? DEFAULT_RETRY;
  const memory = collectEvery();

  async function writeWithRetry(input: BatchInput, control: IngestControl): Promise<{ result: BatchResult; attempts: number } | null> {
    for (let attempt = 1; ; attempt++) {
      const sql = pool.sql;
      try {
        const result = await writeBatch(sql, input);
        databaseAnswered(counters);
        return { result, attempts: attempt };
      } catch (error) {
        // One failed connection can be the server restarting; two in a row, a pool that never reconnects.
        if (attempt >= 2 && isConnectionError(error)) pool.replace(sql);
        counters.dbError = errorSummary(error).error;
        counters.dbRetries += 1;
        options.onRetry?.(error);
        const delayMs = retryDelayMs(attempt, retry);
        log.warn("Database write failed, retrying batch", { attempt, delay_ms: delayMs, ...control.fields, ...errorSummary(error) });
        if (!(await waitUnlessAbandoned(delayMs, control))) return null;
      }
    }
  }

  function record(batch: IngestedBatch, fields: Record<string, unknown>): void {
    const { input, result } = batch;
    counters.totalMessages += input.rows.length + input.rejections.length;
    counters.successCount += result.inserted;
    counters.duplicateCount += result.duplicates;
    counters.errorCount += result.deadLettered;
    counters.batches += 1;
    counters.lastBatchAt = Date.now();
    const level = options.quiet ? "debug" : "warn";
    if (log.enabled(options.quiet ? "DEBUG" : "WARN")) {
      for (const rejection of [...input.rejections, ...result.refused]) {
        log[level]("Invalid auction outcome sent to dead letters", {
          partition: rejection.source.partition,
          offset: rejection.source.offset,
          reason: rejection.reason,
        });
      }
    }
    if (log.enabled("DEBUG")) {
      const saved = new Set(result.insertedBidIds);
      for (const { row, source } of input.rows) {
        if (saved.has(row.bid_id)) {
          log.debug("Auction outcome saved", {
            bid_id: row.bid_id,
            win_status: row.win_status,
            win_price: row.win_price,
            partition: source.partition,
            offset: source.offset,
          });
        }
      }
    }
    log[options.quiet ? "debug" : "info"]("Auction outcomes saved", {
      count: result.inserted,
      duplicates: result.duplicates,
      invalid: result.deadLettered,
      ...fields,
      duration_ms: batch.durationMs,
    });
  }

  return {
    async ingest(messages, control) {
      const began = performance.now();
      const mapped = toBatchInput(messages);
      const { input, tooOld } =
        options.retentionDays === undefined
          ? { input: mapped, tooOld: 0 }
          : setAsideTooOld(mapped, Date.now() - options.retentionDays * 86_400_000, options.retentionDays);
      const written = await writeWithRetry(input, control);
      if (written === null) return null;
      if (written.attempts > 1) log.info("Database write succeeded after retries", { ...control.fields, attempts: written.attempts });
      await control.commit?.();
      const batch: IngestedBatch = { input, ...written, durationMs: Math.round((performance.now() - began) * 100) / 100, tooOld };
      counters.tooOldCount += tooOld;
      record(batch, control.fields ?? {});
      memory.consumed(messages.reduce((bytes, message) => bytes + (message.payload?.length ?? 0), 0));
      return batch;
    },
  };
}
