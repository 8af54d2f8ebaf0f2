// The kafkajs loop: fetch a batch per partition → map each message → writeBatch (one transaction)
// → only then resolve and commit its offsets. A crash anywhere before the commit replays the
// batch, and the unique bid_id turns the replay into duplicates: exactly once in the table.
//
// kafkajs 2.2.4 facts this loop is built around (read in its source, checked by tests/ingest):
// - A handler that throws is retried and then restarted on the same offset forever, and with
//   several partitions in flight one throw makes the others reprocess: a bad message never
//   throws, it becomes a dead letter.
// - With eachBatchAutoResolve off, the next fetch starts after the last *resolved* offset, so a
//   batch that returns unresolved (stop requested, group lost) is fetched again.
// - commitOffsetsIfNecessary(offsets) commits exactly those offsets, even while stopping; without
//   arguments it depends on autoCommit settings, so offsets are always passed.
// - disconnect() must be called on shutdown or the group waits a whole session timeout.
import { Kafka, logLevel as KafkaLogLevel, type Admin, type Consumer, type EachBatchPayload, type KafkaMessage, type LogEntry } from "kafkajs";
import type { Config } from "../config";
import type { Sql } from "../db/client";
import type { Logger } from "../log";
import { parseOutcomeMessage, type ParsedOutcome } from "../outcomes/outcome.mapping";
import { writeBatch, type BatchInput, type BatchResult } from "./batch-writer";
import { collectEvery } from "./memory-pressure";
import { fetchConsumerLag, lagByPartition, lagRows, recordConsumerLag, type PartitionLag } from "./consumer-lag";

export type ConsumerState = "starting" | "running" | "retrying" | "stopping" | "stopped";
export type StopReason = "max-messages" | "timeout" | "signal" | "crash" | "requested";

/** Live figures of one consumer, read by its logs, its metrics and its health checks. */
export interface ConsumerStats {
  state: ConsumerState;
  /** Messages handled and committed: success + duplicate + error. */
  totalMessages: number;
  /** New outcomes stored. */
  successCount: number;
  /** Redelivered outcomes already stored. */
  duplicateCount: number;
  /** Invalid messages (and rows the database refused), stored as dead letters. */
  errorCount: number;
  batches: number;
  /** Failed write attempts that were retried. */
  dbRetries: number;
  /** Epoch ms of the last committed batch. */
  lastBatchAt: number | null;
  /** Partitions currently assigned to this member. */
  assignedPartitions: number[];
  /** A member of the consumer group now: joined, and no crash since (kafkajs then rejoins). */
  inGroup: boolean;
  /** Last measured lag by partition (see consumer-lag.ts). */
  lagByPartition: Record<string, number>;
  /** Epoch ms of the last lag measurement that succeeded. */
  lagMeasuredAt: number | null;
  /** Offset this member last committed by partition: the next offset to read, as text. */
  committedOffsets: Record<string, string>;
  /** Epoch ms of the last statement the database answered (a batch, the lag record, a ping). */
  dbAnsweredAt: number | null;
  /** The last database failure, cleared when the database answers again. */
  dbError: string | null;
}

export function createConsumerStats(): ConsumerStats {
  return {
    state: "starting",
    totalMessages: 0,
    successCount: 0,
    duplicateCount: 0,
    errorCount: 0,
    batches: 0,
    dbRetries: 0,
    lastBatchAt: null,
    assignedPartitions: [],
    inGroup: false,
    lagByPartition: {},
    lagMeasuredAt: null,
    committedOffsets: {},
    dbAnsweredAt: null,
    dbError: null,
  };
}

/** One committed batch, as reported to the onBatch hook and the per-batch log line. */
export interface BatchReport {
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  messages: number;
  inserted: number;
  duplicates: number;
  invalid: number;
  /** Write attempts it took (1 when the database answered the first time). */
  attempts: number;
  durationMs: number;
}

export interface RetryPolicy {
  initialMs: number;
  maxMs: number;
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

export const DEFAULT_RETRY: RetryPolicy = { initialMs: 250, maxMs: 15_000 };
/**
 * A fetch may hold 10k+ small messages per partition. Bigger transactions stop paying off well
 * before that, while a long one delays shutdown and holds rollup row locks other writers wait on.
 */
const MAX_MESSAGES_PER_TRANSACTION = 4_000;
const DEFAULT_LAG_INTERVAL_MS = 30_000;
/** The lag record is one small upsert: longer means the database is in trouble, which batches report. */
const LAG_RECORD_TIMEOUT_MS = 5_000;
/** Bounded by the 10 s a Kubernetes-style SIGTERM leaves before SIGKILL. */
const DISCONNECT_DEADLINE_MS = 7_000;

/** Capped exponential backoff with ±20 % jitter, so several consumers do not retry in step. */
export function retryDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * The mapping rejects rather than throws; should a bug make it throw anyway, the message becomes a
 * dead letter too, because a throwing handler would make kafkajs replay the batch forever.
 */
function parseWithoutThrowing(value: Uint8Array | null, receivedAt: string): ParsedOutcome {
  try {
    return parseOutcomeMessage(value, receivedAt);
  } catch (error) {
    return { ok: false, reason: `mapping failed: ${(error as Error)?.message ?? String(error)}` };
  }
}

/** Kafka messages → rows and rejections; each keeps its source position for a dead letter. */
export function toBatchInput(topic: string, partition: number, messages: KafkaMessage[], receivedAt: string): BatchInput {
  const input: BatchInput = { rows: [], rejections: [] };
  for (const message of messages) {
    const source = { topic, partition, offset: message.offset, key: message.key ?? null, payload: message.value ?? null };
    const parsed = parseWithoutThrowing(message.value ?? null, receivedAt);
    if (parsed.ok) input.rows.push({ row: parsed.row, source });
    else input.rejections.push({ source, reason: parsed.reason });
  }
  return input;
}

function kafkaLogCreator(log: Logger) {
  // kafkajs INFO lines (joins, commits…) are chatty and mostly restate ours: DEBUG here.
  return () => ({ namespace, level, log: entry }: LogEntry) => {
    const { message, timestamp: _ts, logger: _logger, ...fields } = entry as LogEntry["log"] & { logger?: string };
    const line = `kafkajs: ${message}`;
    const data = { namespace, ...fields };
    if (level === KafkaLogLevel.ERROR) log.error(line, data);
    else if (level === KafkaLogLevel.WARN) log.warn(line, data);
    else log.debug(line, data);
  };
}

export function createKafka(config: Config, log: Logger): Kafka {
  return new Kafka({
    clientId: config.kafka.clientId,
    brokers: config.kafka.brokers,
    logLevel: log.enabled("DEBUG") ? KafkaLogLevel.INFO : KafkaLogLevel.WARN,
    logCreator: kafkaLogCreator(log),
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function errorSummary(error: unknown): { error: string; code?: string } {
  const { message, code } = error as { message?: string; code?: unknown };
  return { error: message ?? String(error), ...(typeof code === "string" ? { code } : {}) };
}

/** postgres.js error codes of a lost or refused connection (SQLSTATE 57P0x: server shut it). */
const CONNECTION_ERRORS = new Set([
  "CONNECT_TIMEOUT", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED",
  "ECONNREFUSED", "ECONNRESET", "EPIPE", "57P01", "57P02", "57P03",
  // Refused at startup: too many connections, database not accepting connections.
  "53300", "55000",
]);

export function isConnectionError(error: unknown): boolean {
  return CONNECTION_ERRORS.has(String((error as { code?: unknown })?.code ?? ""));
}

/** Rejects with "<what> timed out after N ms" unless `work` settles first; `work` itself goes on. */
function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

export interface ConsumerDeps {
  config: Config;
  log: Logger;
  /**
   * Opens a database pool the consumer owns: it ends it on stop, and replaces it when writes keep
   * failing on connections. postgres.js 3.4.9 on Bun can keep a socket that never reconnects
   * after the server closed it during startup (porsager/postgres#1193; seen here with
   * ALLOW_CONNECTIONS false): every later query then fails with CONNECT_TIMEOUT until a new pool.
   */
  connect: () => Sql;
}

export async function startConsumer(deps: ConsumerDeps, options: ConsumerOptions = {}): Promise<ConsumerHandle> {
  const { config, log } = deps;
  let sql = deps.connect();
  /** Replaces the pool a failed write used, once even when several partitions saw it fail. */
  const replacePool = (failed: Sql) => {
    if (failed !== sql) return;
    sql = deps.connect();
    failed.end({ timeout: 0 }).catch(() => {});
    log.warn("Database connections replaced after repeated connection failures");
  };
  const { topic, group } = config.kafka;
  const stats = options.stats ?? createConsumerStats();
  const retry = options.retry ?? DEFAULT_RETRY;
  const kafka = options.kafka ?? createKafka(config, log);
  const heartbeatIntervalMs = Math.min(3_000, Math.floor(config.kafka.sessionTimeoutMs / 3));
  const memory = collectEvery();

  const consumer: Consumer = kafka.consumer({
    groupId: group,
    sessionTimeout: config.kafka.sessionTimeoutMs,
    heartbeatInterval: heartbeatIntervalMs,
    rebalanceTimeout: 60_000,
    // ~1,700 typical messages per partition per fetch: transactions big enough while catching up.
    // Twice that (2 / 8 MiB) was not faster and held twice the memory: every fetch response is
    // kept whole until the last message of it is handled. A single message larger than this is
    // still returned whole (fetch v3+, KIP-74).
    maxBytesPerPartition: 1024 * 1024,
    maxBytes: 4 * 1024 * 1024,
    // Wait up to 200 ms for 64 KiB: fewer, larger transactions under load; little latency when idle.
    minBytes: 64 * 1024,
    maxWaitTimeInMs: 200,
    allowAutoTopicCreation: false,
  });
  const admin: Admin = kafka.admin();

  // Stop orchestration: requestStop may be called from inside eachBatch, where awaiting
  // disconnect() would deadlock (kafkajs waits for that very batch), so it only signals.
  let stopReason: StopReason | null = null;
  let signalStop!: (reason: StopReason) => void;
  const stopRequested = new Promise<StopReason>((resolve) => (signalStop = resolve));
  const requestStop = (reason: StopReason) => {
    if (stopReason !== null) return;
    stopReason = reason;
    signalStop(reason);
  };

  // --max-messages: each batch reserves its share before writing, so concurrent partitions
  // together never handle more than the limit; an abandoned batch gives its share back.
  let reserved = 0;
  const reserve = (wanted: number) => {
    if (options.maxMessages === undefined) return wanted;
    const granted = Math.max(0, Math.min(wanted, options.maxMessages - reserved));
    reserved += granted;
    return granted;
  };
  const release = (count: number) => {
    if (options.maxMessages !== undefined) reserved -= count;
  };

  const databaseAnswered = () => {
    stats.dbAnsweredAt = Date.now();
    stats.dbError = null;
  };
  const databaseFailed = (error: unknown) => {
    stats.dbError = errorSummary(error).error;
  };

  // --timeout: idle since the group was joined or the last batch, and nothing in flight.
  let joined = false;
  let inFlight = 0;
  let lastActivity = Date.now();

  /** Writes the batch, retrying until it commits; null when it was abandoned (stop, group lost). */
  async function writeWithRetry(input: BatchInput, payload: EachBatchPayload, offsets: { first: string; last: string }) {
    let membershipLost = false;
    const keepAlive = setInterval(() => {
      // Keeps the group membership while the database is slow or down; a failure here means a
      // rebalance took the partition away, so the batch is left to whoever owns it now.
      payload.heartbeat().catch(() => (membershipLost = true));
    }, heartbeatIntervalMs);
    try {
      for (let attempt = 1; ; attempt++) {
        const pool = sql;
        try {
          const result = await writeBatch(pool, input);
          databaseAnswered();
          return { result, attempts: attempt };
        } catch (error) {
          if (attempt >= 2 && isConnectionError(error)) replacePool(pool);
          databaseFailed(error);
          stats.dbRetries += 1;
          if (stopReason === null) stats.state = "retrying";
          const delayMs = retryDelayMs(attempt, retry);
          log.warn("Database write failed, retrying batch", {
            attempt,
            delay_ms: delayMs,
            partition: payload.batch.partition,
            first_offset: offsets.first,
            last_offset: offsets.last,
            ...errorSummary(error),
          });
          const deadline = Date.now() + delayMs;
          while (Date.now() < deadline) {
            if (stopReason !== null || membershipLost || !payload.isRunning() || payload.isStale()) return null;
            await sleep(Math.min(100, deadline - Date.now()));
          }
          if (stopReason !== null || membershipLost || !payload.isRunning() || payload.isStale()) return null;
        }
      }
    } finally {
      clearInterval(keepAlive);
    }
  }

  async function handleBatch(payload: EachBatchPayload): Promise<void> {
    const { messages } = payload.batch;
    for (let start = 0; start < messages.length; start += MAX_MESSAGES_PER_TRANSACTION) {
      if (stopReason !== null || !payload.isRunning() || payload.isStale()) return;
      const handled = await handleChunk(payload, messages.slice(start, start + MAX_MESSAGES_PER_TRANSACTION));
      if (!handled) return;
    }
  }

  /** One transaction and its commit; false when nothing was handled (limit reached, abandoned). */
  async function handleChunk(payload: EachBatchPayload, chunk: KafkaMessage[]): Promise<boolean> {
    const { batch } = payload;
    const take = reserve(chunk.length);
    if (take === 0) return false;
    const messages = chunk.slice(0, take);
    const offsets = { first: messages[0]!.offset, last: messages[messages.length - 1]!.offset };
    inFlight += 1;
    lastActivity = Date.now();
    const began = performance.now();
    try {
      const input = toBatchInput(batch.topic, batch.partition, messages, new Date().toISOString());
      const written = await writeWithRetry(input, payload, offsets);
      if (written === null) {
        release(take);
        log.info("Batch abandoned, it will be delivered again", { partition: batch.partition, first_offset: offsets.first, last_offset: offsets.last });
        return false;
      }
      if (stopReason === null) stats.state = "running";
      if (written.attempts > 1) {
        log.info("Database write succeeded after retries", { partition: batch.partition, attempts: written.attempts });
      }
      await commit(payload, offsets.last);
      record(batch.topic, batch.partition, messages, input, written.result, written.attempts, offsets, performance.now() - began);
      memory.consumed(messages.reduce((bytes, message) => bytes + (message.value?.length ?? 0), 0));
      return take === chunk.length;
    } finally {
      inFlight -= 1;
      lastActivity = Date.now();
    }
  }

  /** Offsets only after the transaction committed: the committed offset is the next one to read. */
  async function commit(payload: EachBatchPayload, lastOffset: string): Promise<void> {
    const { topic: batchTopic, partition } = payload.batch;
    payload.resolveOffset(lastOffset);
    try {
      const next = (BigInt(lastOffset) + 1n).toString();
      await payload.commitOffsetsIfNecessary({ topics: [{ topic: batchTopic, partitions: [{ partition, offset: next }] }] });
      stats.committedOffsets[String(partition)] = next;
    } catch (error) {
      // The rows are stored; if the partition moved, its next owner replays them as duplicates,
      // and if it did not, the next batch's commit covers this one.
      log.warn("Offset commit failed after the batch was stored", { partition, offset: lastOffset, ...errorSummary(error) });
    }
  }

  function record(
    batchTopic: string,
    partition: number,
    messages: KafkaMessage[],
    input: BatchInput,
    result: BatchResult,
    attempts: number,
    offsets: { first: string; last: string },
    durationMs: number,
  ) {
    stats.totalMessages += messages.length;
    stats.successCount += result.inserted;
    stats.duplicateCount += result.duplicates;
    stats.errorCount += result.deadLettered;
    stats.batches += 1;
    stats.lastBatchAt = Date.now();
    for (const rejection of [...input.rejections, ...result.refused]) {
      log.warn("Invalid auction outcome sent to dead letters", { partition, offset: rejection.source.offset, reason: rejection.reason });
    }
    if (log.enabled("DEBUG")) {
      const saved = new Set(result.insertedBidIds);
      for (const { row, source } of input.rows) {
        if (saved.has(row.bid_id)) {
          log.debug("Auction outcome saved", { bid_id: row.bid_id, win_status: row.win_status, win_price: row.win_price, partition, offset: source.offset });
        }
      }
    }
    const report: BatchReport = {
      topic: batchTopic,
      partition,
      firstOffset: offsets.first,
      lastOffset: offsets.last,
      messages: messages.length,
      inserted: result.inserted,
      duplicates: result.duplicates,
      invalid: result.deadLettered,
      attempts,
      durationMs: Math.round(durationMs * 100) / 100,
    };
    log.info("Auction outcomes saved", {
      count: report.inserted,
      duplicates: report.duplicates,
      invalid: report.invalid,
      partition,
      first_offset: offsets.first,
      last_offset: offsets.last,
      duration_ms: report.durationMs,
    });
    try {
      options.onBatch?.(report);
    } catch (error) {
      log.error("onBatch hook failed", errorSummary(error));
    }
    if (options.maxMessages !== undefined && stats.totalMessages >= options.maxMessages) {
      log.info("Max messages reached, stopping consumer", { max_messages: options.maxMessages });
      requestStop("max-messages");
    }
  }

  /**
   * Measures the group's lag from the broker's offsets, logs it, and stores it in consumer_lag for
   * the API's ingest status. Neither failure stops ingest: the next report simply tries again.
   */
  let lagReportRunning = false;
  async function reportLag(): Promise<void> {
    if (lagReportRunning) return; // a slow broker or database: never pile reports up
    lagReportRunning = true;
    try {
      let lags: PartitionLag[];
      try {
        lags = await fetchConsumerLag(admin, topic, group);
      } catch (error) {
        if (stopReason === null) log.warn("Consumer lag unavailable", errorSummary(error));
        return;
      }
      stats.lagByPartition = lagByPartition(lags);
      stats.lagMeasuredAt = Date.now();
      const total = lags.reduce((sum, entry) => sum + entry.lag, 0);
      log.info("Consumer lag", { topic, group, lag: stats.lagByPartition, total_lag: total });
      try {
        await withTimeout(recordConsumerLag(sql, lagRows(group, topic, lags)), LAG_RECORD_TIMEOUT_MS, "recording the lag");
        databaseAnswered();
      } catch (error) {
        if (stopReason === null) log.warn("Consumer lag not recorded in the database", errorSummary(error));
      }
    } finally {
      lagReportRunning = false;
    }
  }

  let failedPings = 0;
  async function pingDatabase(timeoutMs: number): Promise<void> {
    const pool = sql;
    try {
      await withTimeout(pool`select 1`.then(() => undefined), timeoutMs, "database ping");
      failedPings = 0;
      databaseAnswered();
    } catch (error) {
      failedPings += 1;
      databaseFailed(error);
      // The pool may hold a socket that never reconnects (see ConsumerDeps.connect).
      if (failedPings >= 2 && (isConnectionError(error) || /timed out/.test(String((error as Error)?.message)))) {
        failedPings = 0;
        replacePool(pool);
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

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    joined = true;
    stats.inGroup = true;
    lastActivity = Date.now();
    stats.assignedPartitions = [...(payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
    log.info("Consumer group joined", { group, member_id: payload.memberId, partitions: stats.assignedPartitions });
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    // With restart, kafkajs reconnects and joins again (GROUP_JOIN sets inGroup back).
    stats.inGroup = false;
    log.error("Kafka consumer crashed", { error: payload.error?.message, restart: payload.restart });
    if (!payload.restart) requestStop("crash");
  });

  try {
    await consumer.connect();
    await admin.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Two cores: one batch in the database while the next one is decoded and mapped.
      partitionsConsumedConcurrently: 2,
      eachBatch: handleBatch,
    });
  } catch (error) {
    await Promise.allSettled([consumer.disconnect(), admin.disconnect(), sql.end({ timeout: 1 })]);
    throw error;
  }
  stats.state = "running";
  log.info("Kafka consumer started", { topic, group });

  const lagTimer = setInterval(reportLag, options.lagIntervalMs ?? DEFAULT_LAG_INTERVAL_MS);
  void reportLag(); // the ingest status shows a lag from the start, not only after one interval
  const idleTimer =
    options.timeoutMs === undefined
      ? undefined
      : setInterval(() => {
          if (joined && inFlight === 0 && Date.now() - lastActivity >= options.timeoutMs!) {
            log.info("No new message within the timeout, stopping consumer", { timeout_ms: options.timeoutMs });
            requestStop("timeout");
          }
        }, Math.max(10, Math.min(250, Math.floor(options.timeoutMs / 4))));

  const done = stopRequested.then(async (reason) => {
    stats.state = "stopping";
    stats.inGroup = false;
    clearInterval(lagTimer);
    if (idleTimer) clearInterval(idleTimer);
    // disconnect() waits for the batch in hand: a write in flight finishes and is committed, a
    // batch waiting to retry is abandoned (uncommitted, delivered again). A write stuck on the
    // database is left behind at the deadline, uncommitted, so the process still exits in time.
    const disconnected = await Promise.race([
      consumer.disconnect().then(() => true, (error) => (log.warn("Kafka disconnect failed", errorSummary(error)), true)),
      sleep(DISCONNECT_DEADLINE_MS).then(() => false),
    ]);
    if (!disconnected) log.warn("Kafka disconnect did not finish in time; the group will expire this member", { deadline_ms: DISCONNECT_DEADLINE_MS });
    await admin.disconnect().catch(() => {});
    await sql.end({ timeout: 2 }).catch(() => {});
    stats.state = "stopped";
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
      requestStop(reason);
      return done;
    },
  };
}
