// Consumer lag per partition: the topic's high-water mark minus the group's committed offset.
import type { Admin } from "kafkajs";
import type { Sql } from "../../db/client";

export interface TopicPartitionOffsets {
  partition: number;
  /** High-water mark: the offset the next produced message will get. */
  high: string;
  /** Oldest offset still on the broker. */
  low: string;
}

export interface GroupPartitionOffset {
  partition: number;
  /** The next offset the group will read; "-1" when the group never committed on this partition. */
  offset: string;
}

/** One partition as the periodic lag check measured it. */
export interface PartitionLag {
  partition: number;
  /** The next offset the group will read, as text; null when the group never committed there. */
  committedOffset: string | null;
  /** High-water mark: the offset the next produced message will get. */
  highWatermark: string;
  /** Messages between where the group will read next and the high-water mark. */
  lag: number;
}

/**
 * Lag by partition, in partition order. A partition the group never committed counts from the low
 * offset (the group starts from the earliest message), and so does a committed offset older than
 * what retention kept.
 */
export function partitionLag(topic: TopicPartitionOffsets[], group: GroupPartitionOffset[]): PartitionLag[] {
  const committed = new Map(group.map((entry) => [entry.partition, BigInt(entry.offset)]));
  return [...topic]
    .sort((a, b) => a.partition - b.partition)
    .map(({ partition, high, low }) => {
      const start = committed.get(partition) ?? -1n;
      const from = start < 0n || start < BigInt(low) ? BigInt(low) : start;
      const behind = BigInt(high) - from;
      return {
        partition,
        committedOffset: start < 0n ? null : start.toString(),
        highWatermark: high,
        lag: Number(behind < 0n ? 0n : behind),
      };
    });
}

/** The figures of the "Consumer lag" log line: lag by partition number as text. */
export function lagByPartition(lags: readonly PartitionLag[]): Record<string, number> {
  return Object.fromEntries(lags.map((entry) => [String(entry.partition), entry.lag]));
}

export async function fetchConsumerLag(admin: Admin, topic: string, groupId: string): Promise<PartitionLag[]> {
  const [topicOffsets, groupOffsets] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const forTopic = groupOffsets.find((entry) => entry.topic === topic)?.partitions ?? [];
  return partitionLag(topicOffsets, forTopic);
}

/** The rows recordConsumerLag stores for one measurement of one group. */
export function lagRows(groupId: string, topic: string, lags: readonly PartitionLag[]): ConsumerLagRow[] {
  return lags.map((entry) => ({ groupId, topic, ...entry }));
}

/** One partition's lag as the API's ingest status reads it (table consumer_lag, migration 005). */
export interface ConsumerLagRow {
  groupId: string;
  topic: string;
  partition: number;
  /** The next offset the group will read, as text; null when the group never committed there. */
  committedOffset: string | null;
  highWatermark: string;
  lag: number;
}

/**
 * Upserts every partition's lag in one statement; updated_at is the database's now(), taken from
 * the column's default through `excluded` (Citus refuses a non-immutable function such as now()
 * in the DO UPDATE SET of a reference table; the value is the same).
 */
export async function recordConsumerLag(sql: Sql, rows: readonly ConsumerLagRow[]): Promise<void> {
  if (rows.length === 0) return;
  const values = rows.map((row) => ({
    group_id: row.groupId,
    topic: row.topic,
    partition: row.partition,
    committed_offset: row.committedOffset,
    high_watermark: row.highWatermark,
    lag: row.lag,
  }));
  await sql`
    insert into consumer_lag ${sql(values, "group_id", "topic", "partition", "committed_offset", "high_watermark", "lag")}
    on conflict (group_id, topic, "partition") do update
       set committed_offset = excluded.committed_offset, high_watermark = excluded.high_watermark,
           lag = excluded.lag, updated_at = excluded.updated_at`;
}
