// Every SQL statement of the ingest status: store rate, dead letters in a period, consumer lag.
import type { Sql } from "../db/client";

export interface IngestCountsRow {
  measured_at: string;
  stored_last_minute: string;
  stored_last_5_minutes: string;
  /** Seconds from the first outcome ever stored (created_at) to now; null when none is. */
  stored_for_seconds: number | null;
  dead_letters_from: string;
  dead_letters_to: string | null;
  dead_letters: string;
}

/**
 * One statement, so every figure is read at the same now() (the transaction's start, the same in
 * every subquery). The store rate counts created_at on its (created_at, id) index; dead letters
 * count received_at on theirs. The subqueries repeat the bounds rather than read them from an
 * outer CTE: Citus cannot push down a subquery correlated with the outer query, and a plain one
 * it runs on every shard (now() evaluated once, on the coordinator).
 */
export async function ingestCounts(sql: Sql, from: string | undefined, to: string | undefined): Promise<IngestCountsRow> {
  const lo = sql`coalesce(${from ?? null}::timestamptz, now() - interval '24 hours')`;
  const hi = sql`${to ?? null}::timestamptz`;
  const [row] = await sql<IngestCountsRow[]>`
    select now() as measured_at,
           (select count(*) from auction_outcomes where created_at >= now() - interval '1 minute') as stored_last_minute,
           (select count(*) from auction_outcomes where created_at >= now() - interval '5 minutes') as stored_last_5_minutes,
           extract(epoch from now() - (select min(created_at) from auction_outcomes))::float8 as stored_for_seconds,
           ${lo} as dead_letters_from, ${hi} as dead_letters_to,
           (select count(*) from dead_letters where received_at >= ${lo} and (${hi} is null or received_at < ${hi})) as dead_letters`;
  return row!;
}

export interface ConsumerLagStoredRow {
  group_id: string;
  topic: string;
  partition: number;
  committed_offset: string | null;
  high_watermark: string;
  lag: string;
  updated_at: string;
}

export async function listConsumerLag(sql: Sql): Promise<ConsumerLagStoredRow[]> {
  return sql<ConsumerLagStoredRow[]>`
    select group_id, topic, "partition", committed_offset, high_watermark, lag, updated_at
    from consumer_lag order by group_id, topic, "partition"`;
}
