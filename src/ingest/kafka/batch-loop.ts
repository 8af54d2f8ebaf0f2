// The Kafka batch loop: fetch a batch per partition → cut it into chunks of one transaction →
// hand each chunk to `handle` → commit its offsets only once `handle` stored it. It knows nothing
// of outcomes: what a chunk means is the caller's.
//
// kafkajs 2.2.4 facts this loop is built around (read in its source, checked by tests/ingest/kafka and tests/faults):
// - A handler that throws is retried and then restarted on the same offset forever, and with
//   several partitions in flight one throw makes the others reprocess: `handle` must never throw.
// - With eachBatchAutoResolve off, the next fetch starts after the last *resolved* offset, so a
//   batch that returns unresolved (stop requested, group lost) is fetched again.
// - commitOffsetsIfNecessary(offsets) commits exactly those offsets, even while stopping; without
//   arguments it depends on autoCommit settings, so offsets are always passed.
// - disconnect() must be called on shutdown or the group waits a whole session timeout.
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from "kafkajs";
import type { Logger } from "../../log";
import { errorSummary } from "../ingest-step";

export type LoopState = "starting" | "running" | "retrying" | "stopping" | "stopped";
export type StopReason = "max-messages" | "timeout" | "signal" | "crash" | "requested";

/** What the loop knows of itself, read by health checks and metrics. */
export interface LoopStats {
  state: LoopState;
  /** Partitions currently assigned to this member. */
  assignedPartitions: number[];
  /** A member of the consumer group now: joined, and no crash since (kafkajs then rejoins). */
  inGroup: boolean;
  /** Offset this member last committed by partition: the next offset to read, as text. */
  committedOffsets: Record<string, string>;
}

export function createLoopStats(): LoopStats {
  return { state: "starting", assignedPartitions: [], inGroup: false, committedOffsets: {} };
}

/** Messages of one partition that go into one transaction. */
export interface KafkaChunk {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  firstOffset: string;
  lastOffset: string;
  /** True once the chunk should be given up: stop requested, partition lost, membership lost. */
  abandoned(): boolean;
  /** Commits the chunk's offsets; call it once the chunk is stored. */
  commit(): Promise<void>;
}

/** Stores the chunk (calling chunk.commit once it is), or gives it up; false when not stored. Never throws. */
export type ChunkHandler = (chunk: KafkaChunk) => Promise<boolean>;

export interface BatchLoopOptions {
  kafka: Kafka;
  topic: string;
  group: string;
  sessionTimeoutMs: number;
  log: Logger;
  stats: LoopStats;
  handle: ChunkHandler;
  /** Stop after this many messages handled (committed). */
  maxMessages?: number;
  /** Stop after this long without a new message; without it, run until stopped. */
  timeoutMs?: number;
  /** Runs once the loop has stopped and the consumer disconnected, before `done` resolves. */
  onStopped?(reason: StopReason): Promise<void>;
}

export interface BatchLoop {
  /** Resolves once the consumer has disconnected, with the reason it stopped. */
  done: Promise<StopReason>;
  /** Asks the loop to stop; safe from inside `handle` (it only signals). */
  requestStop(reason: StopReason): void;
  /** Whether a stop was asked for. */
  stopping(): boolean;
}

/**
 * A fetch may hold 10k+ small messages per partition. Bigger transactions stop paying off well
 * before that, while a long one delays shutdown and holds rollup row locks other writers wait on.
 */
export const MAX_MESSAGES_PER_TRANSACTION = 4_000;
/** Bounded by the 10 s a Kubernetes-style SIGTERM leaves before SIGKILL. */
const DISCONNECT_DEADLINE_MS = 7_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** --max-messages: each chunk reserves its share before writing, so concurrent partitions together never exceed it. */
function messageBudget(max: number | undefined) {
  let reserved = 0;
  return {
    reserve(wanted: number): number {
      if (max === undefined) return wanted;
      const granted = Math.max(0, Math.min(wanted, max - reserved));
      reserved += granted;
      return granted;
    },
    /** An abandoned chunk gives its share back. */
    release(count: number): void {
      if (max !== undefined) reserved -= count;
    },
  };
}

function createConsumer(options: BatchLoopOptions, heartbeatIntervalMs: number): Consumer {
  return options.kafka.consumer({
    groupId: options.group,
    sessionTimeout: options.sessionTimeoutMs,
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
}

/** Connects, subscribes from the earliest offset and runs until a stop is requested. */
export async function startBatchLoop(options: BatchLoopOptions): Promise<BatchLoop> {
  const { topic, group, log, stats } = options;
  const heartbeatIntervalMs = Math.min(3_000, Math.floor(options.sessionTimeoutMs / 3));
  const consumer = createConsumer(options, heartbeatIntervalMs);
  const budget = messageBudget(options.maxMessages);

  // requestStop may be called from inside eachBatch, where awaiting disconnect() would deadlock
  // (kafkajs waits for that very batch), so it only signals.
  let stopReason: StopReason | null = null;
  let signalStop!: (reason: StopReason) => void;
  const stopRequested = new Promise<StopReason>((resolve) => (signalStop = resolve));
  const requestStop = (reason: StopReason) => {
    if (stopReason !== null) return;
    stopReason = reason;
    signalStop(reason);
  };

  // --timeout: idle since the group was joined or the last chunk, and nothing in flight.
  let joined = false;
  let inFlight = 0;
  let lastActivity = Date.now();
  let handled = 0;

  /** Offsets only after the transaction committed: the committed offset is the next one to read. */
  async function commit(payload: EachBatchPayload, lastOffset: string): Promise<void> {
    const { partition } = payload.batch;
    payload.resolveOffset(lastOffset);
    try {
      const next = (BigInt(lastOffset) + 1n).toString();
      await payload.commitOffsetsIfNecessary({ topics: [{ topic: payload.batch.topic, partitions: [{ partition, offset: next }] }] });
      stats.committedOffsets[String(partition)] = next;
    } catch (error) {
      // The rows are stored; if the partition moved, its next owner replays them as duplicates,
      // and if it did not, the next batch's commit covers this one.
      log.warn("Offset commit failed after the batch was stored", { partition, offset: lastOffset, ...errorSummary(error) });
    }
  }

  /** One transaction and its commit; false when nothing was handled (limit reached, abandoned). */
  async function handleChunk(payload: EachBatchPayload, slice: KafkaMessage[]): Promise<boolean> {
    const take = budget.reserve(slice.length);
    if (take === 0) return false;
    const messages = slice.slice(0, take);
    let membershipLost = false;
    // Keeps the group membership while the database is slow or down; a failure here means a
    // rebalance took the partition away, so the chunk is left to whoever owns it now.
    const keepAlive = setInterval(() => payload.heartbeat().catch(() => (membershipLost = true)), heartbeatIntervalMs);
    const chunk: KafkaChunk = {
      topic: payload.batch.topic,
      partition: payload.batch.partition,
      messages,
      firstOffset: messages[0]!.offset,
      lastOffset: messages[messages.length - 1]!.offset,
      abandoned: () => stopReason !== null || membershipLost || !payload.isRunning() || payload.isStale(),
      commit: () => commit(payload, messages[messages.length - 1]!.offset),
    };
    inFlight += 1;
    lastActivity = Date.now();
    try {
      if (!(await options.handle(chunk))) {
        budget.release(take);
        log.info("Batch abandoned, it will be delivered again", { partition: chunk.partition, first_offset: chunk.firstOffset, last_offset: chunk.lastOffset });
        return false;
      }
      if (stopReason === null) stats.state = "running";
      handled += messages.length;
      if (options.maxMessages !== undefined && handled >= options.maxMessages) {
        log.info("Max messages reached, stopping consumer", { max_messages: options.maxMessages });
        requestStop("max-messages");
      }
      return take === slice.length;
    } finally {
      clearInterval(keepAlive);
      inFlight -= 1;
      lastActivity = Date.now();
    }
  }

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { messages } = payload.batch;
    for (let start = 0; start < messages.length; start += MAX_MESSAGES_PER_TRANSACTION) {
      if (stopReason !== null || !payload.isRunning() || payload.isStale()) return;
      if (!(await handleChunk(payload, messages.slice(start, start + MAX_MESSAGES_PER_TRANSACTION)))) return;
    }
  }

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
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Two cores: one batch in the database while the next one is decoded and mapped.
      partitionsConsumedConcurrently: 2,
      eachBatch,
    });
  } catch (error) {
    await consumer.disconnect().catch(() => {});
    throw error;
  }
  stats.state = "running";

  const idleTimer =
    options.timeoutMs === undefined
      ? undefined
      : setInterval(
          () => {
            if (joined && inFlight === 0 && Date.now() - lastActivity >= options.timeoutMs!) {
              log.info("No new message within the timeout, stopping consumer", { timeout_ms: options.timeoutMs });
              requestStop("timeout");
            }
          },
          Math.max(10, Math.min(250, Math.floor(options.timeoutMs / 4))),
        );

  const done = stopRequested.then(async (reason) => {
    stats.state = "stopping";
    stats.inGroup = false;
    if (idleTimer) clearInterval(idleTimer);
    // disconnect() waits for the batch in hand: a write in flight finishes and is committed, a
    // batch waiting to retry is abandoned (uncommitted, delivered again). A write stuck on the
    // database is left behind at the deadline, uncommitted, so the process still exits in time.
    const disconnected = await Promise.race([
      consumer.disconnect().then(
        () => true,
        (error) => {
          log.warn("Kafka disconnect failed", errorSummary(error));
          return true;
        },
      ),
      sleep(DISCONNECT_DEADLINE_MS).then(() => false),
    ]);
    if (!disconnected) log.warn("Kafka disconnect did not finish in time; the group will expire this member", { deadline_ms: DISCONNECT_DEADLINE_MS });
    await options.onStopped?.(reason);
    stats.state = "stopped";
    return reason;
  });

  return { done, requestStop, stopping: () => stopReason !== null };
}
