// TypeBox schemas of GET /api/ingest/status/: the query (a dead-letter period) and the answer.
import { type Static, Type } from "@sinclair/typebox";
import { instantParam } from "../http/params";

export const IngestStatusQuery = Type.Object({
  from: instantParam("Count dead letters received at or after this instant (default: 24 hours ago).", "2025-10-01T12:00:00Z"),
  to: instantParam("Count dead letters received before this instant (default: no upper bound).", "2025-10-02"),
});
export type IngestStatusQuery = Static<typeof IngestStatusQuery>;

const Instant = Type.String({ description: "ISO-8601 UTC.", examples: ["2025-10-25T12:00:00.123456Z"] });

export const PartitionLag = Type.Object(
  {
    group_id: Type.String(),
    topic: Type.String(),
    partition: Type.Integer(),
    committed_offset: Type.Union([Type.Integer(), Type.Null()], { description: "Next offset the group reads; null before its first commit." }),
    high_watermark: Type.Integer({ description: "Offset the next produced message gets." }),
    lag: Type.Integer({ description: "Messages on the partition the group has not yet committed." }),
    updated_at: { ...Instant, description: "When the consumer last measured this partition." } as typeof Instant,
  },
  { title: "PartitionLag" },
);

export const IngestStatus = Type.Object(
  {
    measured_at: { ...Instant, description: "The database's clock when the figures were read." } as typeof Instant,
    messages_stored: Type.Object({
      last_minute: Type.Integer({ description: "Outcomes stored (created_at) in the last 60 s." }),
      last_5_minutes: Type.Integer({ description: "Outcomes stored in the last 300 s." }),
    }),
    messages_per_second: Type.Object({
      last_minute: Type.Number({ description: "messages_stored.last_minute / seconds_covered.last_minute." }),
      last_5_minutes: Type.Number({ description: "messages_stored.last_5_minutes / seconds_covered.last_5_minutes." }),
    }),
    seconds_covered: Type.Object(
      {
        last_minute: Type.Number({ description: "60, or the seconds since the first outcome was ever stored when fewer (at least 1)." }),
        last_5_minutes: Type.Number({ description: "300, or the seconds since the first outcome was ever stored when fewer (at least 1)." }),
      },
      { description: "The part of each window in which outcomes could have been stored: a database younger than the window is not read as idle for the rest." },
    ),
    dead_letters: Type.Object({
      from: Instant,
      to: Type.Union([Instant, Type.Null()], { description: "null: up to now." }),
      count: Type.Integer({ description: "Dead letters received in [from, to)." }),
    }),
    consumer_lag: Type.Object({
      total: Type.Integer({ description: "Sum of lag over the partitions below." }),
      partitions: Type.Array(PartitionLag, { description: "As last reported by each consumer group, by group, topic, partition." }),
    }),
  },
  { title: "IngestStatus" },
);
export type IngestStatus = Static<typeof IngestStatus>;
