// What the storage holds now, as the API and the metrics read it: partitions, from when
// individual outcomes and rollups are kept, what maintenance last did.
import type { Sql } from "../db/client";

export interface StorageStateRow {
  partition_interval: string;
  outcomes_available_from: string | null;
  rollups_available_from: string | null;
  partitions: string;
  oldest_lower: string | null;
  /** True when the oldest partition reaches back to MINVALUE (the table converted from before partitioning). */
  reaches_back: boolean;
  newest_upper: string | null;
  default_rows_estimate: string;
  partitions_dropped: string;
  last_event_at: string | null;
}

export async function readStorageState(sql: Sql): Promise<StorageStateRow> {
  const [row] = await sql<StorageStateRow[]>`
    select
      (select value from storage_settings where name = 'partition_interval') as partition_interval,
      (select value::timestamptz from storage_settings where name = 'outcomes_available_from') as outcomes_available_from,
      (select value::timestamptz from storage_settings where name = 'rollups_available_from') as rollups_available_from,
      (select count(*) from outcome_partitions) as partitions,
      (select min(lower) from outcome_partitions) as oldest_lower,
      exists (select from outcome_partitions where lower is null) as reaches_back,
      (select max(upper) from outcome_partitions) as newest_upper,
      (select greatest(reltuples, 0)::bigint from pg_class where oid = to_regclass('auction_outcomes_default')) as default_rows_estimate,
      (select count(*) from storage_events where kind = 'dropped') as partitions_dropped,
      (select max(at) from storage_events) as last_event_at`;
  return row!;
}

/** From when individual outcomes are kept (the end of the newest partition dropped), or null: from the beginning. */
export async function outcomesAvailableFrom(sql: Sql): Promise<string | null> {
  const [row] = await sql<{ value: string | null }[]>`
    select (select value::timestamptz from storage_settings where name = 'outcomes_available_from') as value`;
  return row?.value ?? null;
}
