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
 * One statement, so every figure is read at the same now(). The store rate counts created_at
 * on its (created_at, id) index; dead letters count received_at on theirs.
 */
export async function ingestCounts(sql: Sql, from: string | undefined, to: string | undefined): Promise<IngestCountsRow> {
  const [row] = await sql<IngestCountsRow[]>`
    with bounds as (
      select now() as now,
             coalesce(${from ?? null}::timestamptz, now() - interval '24 hours') as lo,
             ${to ?? null}::timestamptz as hi
    )
    select b.now as measured_at,
           (select count(*) from auction_outcomes where created_at >= b.now - interval '1 minute') as stored_last_minute,
           (select count(*) from auction_outcomes where created_at >= b.now - interval '5 minutes') as stored_last_5_minutes,
           extract(epoch from b.now - (select min(created_at) from auction_outcomes))::float8 as stored_for_seconds,
           b.lo as dead_letters_from, b.hi as dead_letters_to,
           (select count(*) from dead_letters
             where received_at >= b.lo and (b.hi is null or received_at < b.hi)) as dead_letters
    from bounds b`;
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
