// The demo's simulated source: generated messages → the same parseOutcomeMessage and writeBatch
// as the Kafka consumer, in small paced batches. Only the source differs: a message's position is
// (topic "demo", partition 0, offset = its index), so a replayed batch is idempotent for dead
// letters exactly as the unique bid_id makes it for outcomes.
import type { Sql } from "../db/client";
import type { Logger } from "../log";
import { writeBatch, type BatchInput, type BatchResult } from "../ingest/batch-writer";
import { DEFAULT_RETRY, retryDelayMs } from "../ingest/kafka-consumer";
import { parseOutcomeMessage } from "../outcomes/outcome.mapping";
import { messageValue, type GeneratedMessage, type OutcomeGenerator } from "../simulate/generator";
import { runPaced, type PacedControl } from "./pacing";

export const DEMO_TOPIC = "demo";
export const DEMO_PARTITION = 0;

const encoder = new TextEncoder();
const asBytes = (value: string | Uint8Array): Uint8Array => (typeof value === "string" ? encoder.encode(value) : value);

/** Generated messages → rows and rejections, each with its demo position for a dead letter. */
export function toDemoBatch(messages: readonly GeneratedMessage[], receivedAt: string): BatchInput {
  const input: BatchInput = { rows: [], rejections: [] };
  for (const message of messages) {
    const payload = asBytes(messageValue(message));
    const source = {
      topic: DEMO_TOPIC,
      partition: DEMO_PARTITION,
      offset: String(message.index),
      key: message.key === null ? null : encoder.encode(message.key),
      payload,
    };
    const parsed = parseOutcomeMessage(payload, receivedAt);
    if (parsed.ok) input.rows.push({ row: parsed.row, source });
    else input.rejections.push({ source, reason: parsed.reason });
  }
  return input;
}

export interface FeedStats {
  /** Messages written (committed): inserted + duplicates + dead-lettered. */
  messages: number;
  inserted: number;
  duplicates: number;
  deadLettered: number;
  batches: number;
  /** Index of the next message to generate. */
  nextIndex: number;
}

export interface FeedOptions {
  sql: Sql;
  log: Logger;
  generator: OutcomeGenerator;
  /** Messages per second. */
  rate: number;
  startIndex: number;
  /** One batch per tick; default 200 ms. */
  tickMs?: number;
  /** Period of the "Demo feed progress" line; default 5 s. */
  progressIntervalMs?: number;
}

export interface DemoFeed {
  stats: FeedStats;
  /** Stops after the batch in hand is written (or abandoned while retrying); resolves when stopped. */
  stop(): Promise<void>;
}

export const DEFAULT_TICK_MS = 200;
export const DEFAULT_PROGRESS_INTERVAL_MS = 5_000;

export function startDemoFeed(options: FeedOptions): DemoFeed {
  const { sql, log, generator, rate } = options;
  const stats: FeedStats = { messages: 0, inserted: 0, duplicates: 0, deadLettered: 0, batches: 0, nextIndex: options.startIndex };

  /** Retries until the batch commits (a replay only makes duplicates); null when stopped first. */
  async function writeWithRetry(input: BatchInput, control: PacedControl): Promise<BatchResult | null> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await writeBatch(sql, input);
      } catch (error) {
        if (control.stopping) return null;
        const delayMs = retryDelayMs(attempt, DEFAULT_RETRY);
        log.warn("Database write failed, retrying batch", { attempt, delay_ms: delayMs, error: (error as Error).message });
        await control.pause(delayMs);
        if (control.stopping) return null;
      }
    }
  }

  function record(messages: readonly GeneratedMessage[], input: BatchInput, result: BatchResult, durationMs: number) {
    stats.messages += messages.length;
    stats.inserted += result.inserted;
    stats.duplicates += result.duplicates;
    stats.deadLettered += result.deadLettered;
    stats.batches += 1;
    stats.nextIndex += messages.length;
    if (!log.enabled("DEBUG")) return;
    // Expected in a demo (about 1 % by design): DEBUG, where the consumer says WARN.
    for (const rejection of [...input.rejections, ...result.refused]) {
      log.debug("Invalid auction outcome sent to dead letters", { offset: rejection.source.offset, reason: rejection.reason });
    }
    log.debug("Auction outcomes saved", {
      count: result.inserted,
      duplicates: result.duplicates,
      invalid: result.deadLettered,
      topic: DEMO_TOPIC,
      partition: DEMO_PARTITION,
      first_offset: String(messages[0]!.index),
      last_offset: String(messages[messages.length - 1]!.index),
      duration_ms: Math.round(durationMs * 100) / 100,
    });
  }

  const progress = () =>
    log.info("Demo feed progress", {
      messages: stats.messages,
      inserted: stats.inserted,
      duplicates: stats.duplicates,
      dead_lettered: stats.deadLettered,
      next_index: stats.nextIndex,
    });
  const progressTimer = setInterval(progress, options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS);

  const loop = runPaced(rate, options.tickMs ?? DEFAULT_TICK_MS, async (count, control) => {
    const began = performance.now();
    const messages = [...generator.messages(stats.nextIndex, count)];
    const input = toDemoBatch(messages, new Date().toISOString());
    const result = await writeWithRetry(input, control);
    if (result === null) return false;
    record(messages, input, result, performance.now() - began);
    return true;
  });
  log.info("Demo feed started", { rate, start_index: options.startIndex, seed: generator.options.seed, topic: DEMO_TOPIC });
  return {
    stats,
    async stop() {
      await loop.stop();
      clearInterval(progressTimer);
      progress();
    },
  };
}
