// The consumer's Prometheus metrics, served on its health port (consumer-health.ts).
// Names are part of the operators' dashboards and alerts: keep them stable (docs/operations.md, "Metrics").
//
//   consumer_messages_consumed_total{topic,partition}     counter   handled and committed
//   consumer_messages_stored_total{topic,partition}       counter   new outcomes stored
//   consumer_messages_duplicate_total{topic,partition}    counter   redelivered outcomes already stored
//   consumer_messages_invalid_total{topic,partition}      counter   dead-lettered (invalid or refused by the database)
//   consumer_messages_too_old_total{topic,partition}      counter   of those, older than RETENTION_DAYS
//   consumer_batch_size_messages                          histogram messages per committed transaction
//   consumer_batch_duration_seconds                       histogram mapping + write (retries included) + commit
//   consumer_db_retries_total                             counter   failed batch writes that were retried
//   consumer_committed_offset{topic,partition}            gauge     next offset to read, as this member last committed it
//   consumer_lag_messages{topic,partition}                gauge     the group's lag, from the broker's offsets
//   consumer_lag_measured_timestamp_seconds               gauge     when that lag was measured
//   consumer_last_batch_timestamp_seconds                 gauge     when this member last committed a batch
//   + process metrics from registry.ts
//
// Nothing here is called from inside the consume loop: counters and histograms are fed by the
// loop's onBatch hook (one call per committed batch), gauges read the loop's ConsumerStats when
// Prometheus scrapes.
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { createComponentRegistry } from "../../metrics/registry";
import type { BatchReport, ConsumerStats } from "./consumer";

type PartitionLabels = "topic" | "partition";

export interface ConsumerMetrics {
  registry: Registry;
  /** The consumer's onBatch hook. */
  observeBatch(report: BatchReport): void;
}

/** Up to MAX_MESSAGES_PER_TRANSACTION (4,000) in batch-loop.ts. */
const BATCH_SIZE_BUCKETS = [1, 10, 50, 100, 250, 500, 1_000, 2_000, 3_000, 4_000];
/** A batch may retry for as long as the database is down: the top buckets show that. */
const BATCH_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

const epochSeconds = (epochMs: number) => epochMs / 1000;

/** Registers the consumer's metrics for one topic in a fresh registry; gauges read `stats`. */
export function createConsumerMetrics(stats: ConsumerStats, topic: string): ConsumerMetrics {
  const registry = createComponentRegistry();
  const registers = [registry];
  const partitionCounter = (name: string, help: string) => new Counter<PartitionLabels>({ name, help, labelNames: ["topic", "partition"], registers });

  const consumed = partitionCounter("consumer_messages_consumed_total", "Messages handled and committed: stored + duplicate + invalid.");
  const stored = partitionCounter("consumer_messages_stored_total", "New auction outcomes stored.");
  const duplicates = partitionCounter("consumer_messages_duplicate_total", "Redelivered auction outcomes whose bid_id was already stored.");
  const invalid = partitionCounter("consumer_messages_invalid_total", "Messages sent to dead letters: invalid, or refused by the database.");
  const tooOld = partitionCounter("consumer_messages_too_old_total", "Outcomes sent to dead letters for an auction time older than RETENTION_DAYS.");
  const batchSize = new Histogram({
    name: "consumer_batch_size_messages",
    help: "Messages per committed batch (one database transaction).",
    buckets: BATCH_SIZE_BUCKETS,
    registers,
  });
  const batchDuration = new Histogram({
    name: "consumer_batch_duration_seconds",
    help: "Time to map, write (retries included) and commit one batch.",
    buckets: BATCH_DURATION_BUCKETS,
    registers,
  });

  // Counters must only grow: the stats figure is added as a difference at each scrape.
  let retriesCounted = 0;
  new Counter({
    name: "consumer_db_retries_total",
    help: "Failed batch writes that were retried (connection lost, database down, deadlock…).",
    registers,
    collect() {
      this.inc(stats.dbRetries - retriesCounted);
      retriesCounted = stats.dbRetries;
    },
  });
  new Gauge<PartitionLabels>({
    name: "consumer_committed_offset",
    help: "Offset this member last committed, by partition: the next offset the group will read there.",
    labelNames: ["topic", "partition"],
    registers,
    collect() {
      for (const [partition, offset] of Object.entries(stats.committedOffsets)) this.set({ topic, partition }, Number(offset));
    },
  });
  new Gauge<PartitionLabels>({
    name: "consumer_lag_messages",
    help: "Messages of each partition the group has not committed yet (high-water mark minus committed offset), measured periodically.",
    labelNames: ["topic", "partition"],
    registers,
    collect() {
      // Only the partitions of the last measurement: one the topic no longer reports is dropped.
      this.reset();
      for (const [partition, lag] of Object.entries(stats.lagByPartition)) this.set({ topic, partition }, lag);
    },
  });
  new Gauge({
    name: "consumer_lag_measured_timestamp_seconds",
    help: "When consumer_lag_messages was last measured (Unix seconds); 0 before the first measurement.",
    registers,
    collect() {
      this.set(stats.lagMeasuredAt === null ? 0 : epochSeconds(stats.lagMeasuredAt));
    },
  });
  new Gauge({
    name: "consumer_last_batch_timestamp_seconds",
    help: "When this member last committed a batch (Unix seconds); 0 before the first.",
    registers,
    collect() {
      this.set(stats.lastBatchAt === null ? 0 : epochSeconds(stats.lastBatchAt));
    },
  });

  return {
    registry,
    observeBatch(report) {
      const labels = { topic: report.topic, partition: String(report.partition) };
      consumed.inc(labels, report.messages);
      stored.inc(labels, report.inserted);
      duplicates.inc(labels, report.duplicates);
      invalid.inc(labels, report.invalid);
      tooOld.inc(labels, report.tooOld);
      batchSize.observe(report.messages);
      batchDuration.observe(report.durationMs / 1000);
    },
  };
}
