// The demo's simulated source: generated messages through the one ingest step (the same mapping
// and batch writer as the Kafka consumer), in small paced batches. Only the reading differs: a
// message's position is (topic "demo", partition 0, offset = its index), so a replayed batch is
// idempotent for dead letters exactly as the writer's unique key makes it for outcomes.
import type { Sql } from "../db/client";
import { fixedPool } from "../db/pool";
import type { MessageSource } from "../ingest/batch-writer";
import { createIngestCounters, createIngestStep, type IngestCounters } from "../ingest/ingest-step";
import type { Fields, Logger } from "../log";
import { createOutcomeGenerator, type GeneratedMessage, messageValue, type OutcomeGenerator } from "../simulate/generator";
import { PROGRESS_MESSAGE } from "./demo-report";
import { runPaced } from "./pacing";

export const DEMO_TOPIC = "demo";
export const DEMO_PARTITION = 0;

const encoder = new TextEncoder();
const asBytes = (value: string | Uint8Array): Uint8Array => (typeof value === "string" ? encoder.encode(value) : value);

/** Generated messages as the ingest step reads them, each at its demo position. */
export function demoSources(messages: readonly GeneratedMessage[], generatedAt: string = new Date().toISOString()): MessageSource[] {
  return messages.map((message) => ({
    topic: DEMO_TOPIC,
    partition: DEMO_PARTITION,
    offset: String(message.index),
    key: message.key === null ? null : encoder.encode(message.key),
    payload: asBytes(messageValue(message)),
    // Like a Kafka record's timestamp: when the demo made the message.
    timestamp: generatedAt,
  }));
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

export interface FeedStats extends IngestCounters {
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
  /** RETENTION_DAYS, as every writer applies it. */
  retentionDays?: number;
}

export interface DemoFeed {
  stats: FeedStats;
  /** The totals so far, as the progress report shows them (see demo-report.ts). */
  totals(): Fields;
  /** Stops after the batch in hand is written (or abandoned while retrying); resolves when stopped. */
  stop(): Promise<void>;
}

export const DEFAULT_TICK_MS = 200;

/** What every demo source reports of the one ingest step it feeds. */
export const ingestTotals = (counters: IngestCounters): Fields => ({
  messages: counters.totalMessages,
  inserted: counters.successCount,
  duplicates: counters.duplicateCount,
  dead_lettered: counters.errorCount,
});

export function startDemoFeed(options: FeedOptions): DemoFeed {
  const { sql, log, generator, rate } = options;
  const stats: FeedStats = { ...createIngestCounters(), nextIndex: options.startIndex };
  // The demo's one connection also serves the API (PGlite), so it is never replaced. Bad
  // messages are part of the show (about 1 % by design): its lines stay at DEBUG.
  const step = createIngestStep({ pool: fixedPool(sql), log, counters: stats, quiet: true, retentionDays: options.retentionDays });

  const totals = () => ({ ...ingestTotals(stats), next_index: stats.nextIndex });
  const loop = runPaced(rate, options.tickMs ?? DEFAULT_TICK_MS, async (count, control) => {
    const messages = [...generator.messages(stats.nextIndex, count)];
    const batch = await step.ingest(demoSources(messages), {
      abandoned: () => control.stopping,
      commit: async () => {
        stats.nextIndex += messages.length;
      },
      fields: {
        topic: DEMO_TOPIC,
        partition: DEMO_PARTITION,
        first_offset: String(messages[0]!.index),
        last_offset: String(messages[messages.length - 1]!.index),
      },
    });
    return batch !== null;
  });
  log.info("Demo feed started", { rate, start_index: options.startIndex, seed: generator.options.seed, topic: DEMO_TOPIC });
  return {
    stats,
    totals,
    async stop() {
      await loop.stop();
      // The last word on what was committed: a restart with --data-dir resumes after it.
      log.info(PROGRESS_MESSAGE, totals());
    },
  };
}
