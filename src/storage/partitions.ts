// The partitions of auction_outcomes, from the service's side: the interval they were made with
// (fixed when the table was first partitioned), and making sure the partition for a batch's
// auction times exists before the batch is written. The SQL functions of migration 008 decide
// names and bounds; this module only avoids asking them again for a period it already knows.
import type { PartitionInterval } from "../config";
import type { Sql } from "../db/client";
import type { Logger } from "../log";
import { epochMs } from "../values/timestamps";

export class StorageSettingError extends Error {}

/** The interval the table was partitioned with, or undefined before migration 008. */
export async function storedPartitionInterval(sql: Sql): Promise<PartitionInterval | undefined> {
  const [present] = await sql<{ present: boolean }[]>`select to_regclass('storage_settings') is not null as present`;
  if (!present!.present) return undefined;
  const [row] = await sql<{ value: PartitionInterval }[]>`select value from storage_settings where name = 'partition_interval'`;
  return row?.value;
}

/**
 * Refuses a PARTITION_INTERVAL other than the one the table was partitioned with: the interval
 * is fixed then (every existing partition has its bounds). Unset accepts whatever was chosen.
 */
export async function checkPartitionInterval(sql: Sql, wanted: PartitionInterval | undefined): Promise<void> {
  if (wanted === undefined) return;
  const stored = await storedPartitionInterval(sql);
  if (stored === undefined || stored === wanted) return;
  throw new StorageSettingError(
    `PARTITION_INTERVAL=${wanted} is not valid for this database: auction_outcomes was partitioned by ${stored} when it was first migrated, ` +
      `and the interval is fixed then. Unset PARTITION_INTERVAL or set it to ${stored}.`,
  );
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Start (epoch ms, UTC) of the period of `interval` holding `ms`; the same rule as helios_partition_bounds. */
export function periodStart(ms: number, interval: PartitionInterval): number {
  if (interval === "hour") return Math.floor(ms / HOUR_MS) * HOUR_MS;
  const day = Math.floor(ms / DAY_MS) * DAY_MS;
  if (interval === "day") return day;
  if (interval === "week") {
    const weekday = (new Date(day).getUTCDay() + 6) % 7; // Monday = 0, as ISO weeks count
    return day - weekday * DAY_MS;
  }
  const date = new Date(day);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
}

/** Start of the period after the one starting at `start`. */
export function nextPeriodStart(start: number, interval: PartitionInterval): number {
  if (interval === "hour") return start + HOUR_MS;
  if (interval === "day") return start + DAY_MS;
  if (interval === "week") return start + 7 * DAY_MS;
  const date = new Date(start);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}

/** SQLSTATE lock_not_available: lock_timeout ran out. */
const LOCK_NOT_AVAILABLE = "55P03";
/** How long creating a partition may wait for its locks before the rows go to the default partition instead. */
export const PARTITION_LOCK_TIMEOUT_MS = 2_000;

/**
 * Creates partitions on demand for the periods a batch needs. A period it could not create (a
 * long query holding a lock past PARTITION_LOCK_TIMEOUT_MS) is not an error: its rows go to the
 * default partition, are stored and counted like any other, and the next maintenance pass (or the
 * next batch of that period) moves them into their partition.
 */
export class PartitionKeeper {
  /** Per pool (a pool is one database): its interval and the period starts known to have a partition. */
  private readonly byPool = new WeakMap<Sql, { interval: PartitionInterval; known: Set<number> }>();

  constructor(private readonly log?: Logger) {}

  async ensureFor(sql: Sql, timestamps: readonly string[]): Promise<void> {
    if (timestamps.length === 0) return;
    let state = this.byPool.get(sql);
    if (!state) {
      state = { interval: (await storedPartitionInterval(sql)) ?? "day", known: new Set() };
      this.byPool.set(sql, state);
    }
    const periods = new Map<number, string>();
    for (const text of timestamps) {
      const start = periodStart(epochMs(text).ms, state.interval);
      if (!state.known.has(start) && !periods.has(start)) periods.set(start, new Date(start).toISOString());
    }
    for (const [start, at] of periods) {
      if (await this.ensure(sql, at)) state.known.add(start);
    }
  }

  /** True once the partition of `at` exists. */
  private async ensure(sql: Sql, at: string): Promise<boolean> {
    try {
      await sql.begin(async (tx) => {
        await tx`select set_config(${"lock_timeout"}, ${`${PARTITION_LOCK_TIMEOUT_MS}ms`}, true)`;
        await tx`select name from helios_ensure_outcome_partition(${at}::timestamptz)`;
      });
      return true;
    } catch (error) {
      if ((error as { code?: string }).code !== LOCK_NOT_AVAILABLE) throw error;
      this.log?.warn("Partition not created in time; its rows go to the default partition until maintenance moves them", {
        period_start: at,
        lock_timeout_ms: PARTITION_LOCK_TIMEOUT_MS,
      });
      return false;
    }
  }
}
