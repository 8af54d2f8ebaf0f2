// The Kafka consumer: the batch loop (batch-loop.ts) reading the topic, the one ingest step
// (../ingest-step.ts) storing each chunk, and what an operator watches: lag, counters, a ping.
// A crash anywhere before an offset commit replays the chunk, and the writer's unique key turns
// the replay into duplicates: exactly once in the table.
import type { Admin, Kafka, KafkaMessage } from "kafkajs";
import type { Config } from "../../config";
import type { Sql } from "../../db/client";
import { isConnectionError } from "../../db/errors";
import { replaceablePool } from "../../db/pool";
import type { Logger } from "../../log";
import type { MessageSource } from "../batch-writer";
import { createIngestCounters, createIngestStep, databaseAnswered, errorSummary, type IngestCounters, type IngestedBatch } from "../ingest-step";
import type { RetryPolicy } from "../retry";
import { createLoopStats, type KafkaChunk, type LoopStats, type StopReason, startBatchLoop } from "./batch-loop";
import { createKafka } from "./client";
import { fetchConsumerLag, lagByPartition, lagRows, type PartitionLag, recordConsumerLag } from "./consumer-lag";
import { ensureTopic, isUnknownTopicError, MissingTopicError } from "./topic";

export type { StopReason } from "./batch-loop";

/** Live figures of one consumer, read by its logs, its metrics and its health checks. */
export interface ConsumerStats extends IngestCounters, LoopStats {
  /** Last measured lag by partition (see consumer-lag.ts). */
  lagByPartition: Record<string, number>;
  /** Epoch ms of the last lag measurement that succeeded. */
  lagMeasuredAt: number | null;
}

export function createConsumerStats(): ConsumerStats {
  return { ...createIngestCounters(), ...createLoopStats(), lagByPartition: {}, lagMeasuredAt: null };
}

/** One committed batch, as reported to the onBatch hook (metrics). */
export interface BatchReport {
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  messages: number;
  inserted: number;
  duplicates: number;
  invalid: number;
  /** Of the invalid: outcomes older than the retention window. */
  tooOld: number;
  /** Write attempts it took (1 when the database answered the first time). */
  attempts: number;
  durationMs: number;
}

export interface ConsumerOptions {
  /** Stop after this many messages handled (committed). */
  maxMessages?: number;
  /** Stop after this long without a new message; without it, run until stopped. */
  timeoutMs?: number;
  /** Period of the "Consumer lag" line; default 30 s. */
  lagIntervalMs?: number;
  retry?: RetryPolicy;
  /** Called after each committed batch (metrics). */
  onBatch?: (report: BatchReport) => void;
  stats?: ConsumerStats;
  /** Injected for tests; default: one built from config.kafka. */
  kafka?: Kafka;
}

export interface ConsumerHandle {
  stats: ConsumerStats;
  /**
   * One `select 1` on the consumer's pool, for readiness while no batch proves the database
   * answers; rejects after `timeoutMs`. Repeated connection failures replace the pool.
   */
  pingDatabase(timeoutMs: number): Promise<void>;
  /** Resolves once the consumer has disconnected, with the reason it stopped. */
  done: Promise<StopReason>;
  /** Asks the consumer to stop; resolves like `done`. */
  stop(reason?: StopReason): Promise<StopReason>;
}

export interface ConsumerDeps {
  config: Config;
  log: Logger;
  /** Opens a database pool the consumer owns: it ends it on stop and replaces it when writes keep failing on connections. */
  connect: () => Sql;
}

const DEFAULT_LAG_INTERVAL_MS = 30_000;
/** The lag record is one small upsert: longer means the database is in trouble, which batches report. */
const LAG_RECORD_TIMEOUT_MS = 5_000;

/** A record's timestamp (ms since the epoch, CreateTime or LogAppendTime) as ISO-8601; null when it has none (-1). */
export function recordTimestamp(ms: string): string | null {
  const epochMs = Number(ms);
  return Number.isSafeInteger(epochMs) && epochMs >= 0 ? new Date(epochMs).toISOString() : null;
}

/** Kafka messages as the ingest step reads them: each with its position (for a dead letter) and its record timestamp. */
export function kafkaSources(topic: string, partition: number, messages: readonly KafkaMessage[]): MessageSource[] {
  return messages.map((message) => ({
    topic,
    partition,
    offset: message.offset,
    key: message.key ?? null,
    payload: message.value ?? null,
    timestamp: recordTimestamp(message.timestamp),
  }));
}

/** Rejects with "<what> timed out after N ms" unless `work` settles first; `work` itself goes on. */
function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

function reportOf(chunk: KafkaChunk, batch: IngestedBatch): BatchReport {
  return {
    topic: chunk.topic,
    partition: chunk.partition,
    firstOffset: chunk.firstOffset,
    lastOffset: chunk.lastOffset,
    messages: chunk.messages.length,
    inserted: batch.result.inserted,
    duplicates: batch.result.duplicates,
    invalid: batch.result.deadLettered,
    tooOld: batch.tooOld,
    attempts: batch.attempts,
    durationMs: batch.durationMs,
  };
}

/** Measures the group's lag from the broker, logs it, stores it for the API; a failure of either only waits for the next report. */
function lagReporter(deps: {
  admin: Admin;
  pool: { readonly sql: Sql };
  log: Logger;
  stats: ConsumerStats;
  topic: string;
  group: string;
  stopping: () => boolean;
}) {
  const { admin, log, stats, topic, group } = deps;
  let running = false;
  return async function reportLag(): Promise<void> {
    if (running) return; // a slow broker or database: never pile reports up
    running = true;
    try {
      let lags: PartitionLag[];
      try {
        lags = await fetchConsumerLag(admin, topic, group);
      } catch (error) {
        if (!deps.stopping()) log.warn("Consumer lag unavailable", errorSummary(error));
        return;
      }
      stats.lagByPartition = lagByPartition(lags);
      stats.lagMeasuredAt = Date.now();
      const total = lags.reduce((sum, entry) => sum + entry.lag, 0);
      log.info("Consumer lag", { topic, group, lag: stats.lagByPartition, total_lag: total });
      try {
        await withTimeout(recordConsumerLag(deps.pool.sql, lagRows(group, topic, lags)), LAG_RECORD_TIMEOUT_MS, "recording the lag");
        databaseAnswered(stats);
      } catch (error) {
        if (!deps.stopping()) log.warn("Consumer lag not recorded in the database", errorSummary(error));
      }
    } finally {
      running = false;
    }
  };
}

export async function startConsumer(deps: ConsumerDeps, options: ConsumerOptions = {}): Promise<ConsumerHandle> {
  const { config, log } = deps;
  const { topic, group } = config.kafka;
  const stats = options.stats ?? createConsumerStats();
  const pool = replaceablePool(deps.connect, log);
  const kafka = options.kafka ?? createKafka(config, log);
  const admin: Admin = kafka.admin();
  let stopping = () => false;
  const step = createIngestStep({
    pool,
    log,
    counters: stats,
    retry: options.retry,
    retentionDays: config.storage.retentionDays,
    onRetry: () => {
      if (!stopping()) stats.state = "retrying";
    },
  });

  const handle = async (chunk: KafkaChunk): Promise<boolean> => {
    const batch = await step.ingest(kafkaSources(chunk.topic, chunk.partition, chunk.messages), {
      abandoned: chunk.abandoned,
      commit: chunk.commit,
      fields: { partition: chunk.partition, first_offset: chunk.firstOffset, last_offset: chunk.lastOffset },
    });
    if (batch === null) return false;
    try {
      options.onBatch?.(reportOf(chunk, batch));
    } catch (error) {
      log.error("onBatch hook failed", errorSummary(error));
    }
    return true;
  };

  let failedPings = 0;
  async function pingDatabase(timeoutMs: number): Promise<void> {
    const sql = pool.sql;
    try {
      await withTimeout(
        sql`select 1`.then(() => undefined),
        timeoutMs,
        "database ping",
      );
      failedPings = 0;
      databaseAnswered(stats);
    } catch (error) {
      failedPings += 1;
      stats.dbError = errorSummary(error).error;
      // The pool may hold a socket that never reconnects (see db/pool.ts).
      if (failedPings >= 2 && (isConnectionError(error) || /timed out/.test(String((error as Error)?.message)))) {
        failedPings = 0;
        pool.replace(sql);
      }
      throw error;
    }
  }

  log.info("Starting auction outcomes consumer", {
    brokers: config.kafka.brokers,
    topic,
    group,
    max_messages: options.maxMessages ?? null,
    timeout_ms: options.timeoutMs ?? null,
  });

  let lagTimer: ReturnType<typeof setInterval> | undefined;
  let loop: Awaited<ReturnType<typeof startBatchLoop>>;
  try {
    await admin.connect();
    if (config.kafka.createTopic) await ensureTopic(admin, topic, config.kafka.newTopic, log);
    loop = await startBatchLoop({
      kafka,
      topic,
      group,
      sessionTimeoutMs: config.kafka.sessionTimeoutMs,
      log,
      stats,
      handle,
      maxMessages: options.maxMessages,
      timeoutMs: options.timeoutMs,
      onStopped: async () => {
        clearInterval(lagTimer);
        await admin.disconnect().catch(() => {});
        await pool.end(2).catch(() => {});
      },
    });
  } catch (error) {
    await Promise.allSettled([admin.disconnect(), pool.end(1)]);
    // kafkajs says only "This server does not host this topic-partition": name the topic and the fix.
    throw isUnknownTopicError(error) ? new MissingTopicError(topic, config.kafka.brokers) : error;
  }
  stopping = loop.stopping;
  log.info("Kafka consumer started", { topic, group });

  const reportLag = lagReporter({ admin, pool, log, stats, topic, group, stopping });
  lagTimer = setInterval(reportLag, options.lagIntervalMs ?? DEFAULT_LAG_INTERVAL_MS);
  void reportLag(); // the ingest status shows a lag from the start, not only after one interval
  const done = loop.done.then((reason) => {
    log.info("Kafka consumer stopped", {
      reason,
      total_messages: stats.totalMessages,
      success_count: stats.successCount,
      duplicate_count: stats.duplicateCount,
      error_count: stats.errorCount,
    });
    return reason;
  });

  return {
    stats,
    pingDatabase,
    done,
    stop(reason: StopReason = "requested") {
      loop.requestStop(reason);
      return done;
    },
  };
}
