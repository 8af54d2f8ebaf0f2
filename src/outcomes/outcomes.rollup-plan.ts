// Decides how an aggregate over Filters is answered exactly: from a rollup for the whole
// buckets inside [from, to), plus the base table for the partial buckets at either edge.
// Which rollup can answer follows from the filter table (outcomes.filters.ts): a rollup carries a
// filter when it has that filter's rollup column; a filter on no rollup sends all to the base table.
import { epochMs, pgInstant } from "../values/timestamps";
import { activeFilters, type Filters, type RollupColumn } from "./outcomes.filters";

export interface RollupTable {
  /** The table's name in SQL. */
  table: string;
  /** Its time column, and what it holds: the start of a UTC hour (timestamptz) or a UTC date. */
  time: { column: string; kind: "timestamptz" | "utc-date" };
  /** Bucket width. */
  unitMs: number;
  /** The filter columns it keeps apart (besides time). */
  columns: readonly RollupColumn[];
}

/** The rollups, in the order a plan prefers them (the smallest that can answer first). */
export const ROLLUPS = {
  // Per UTC hour: answers every filter but user_id, site_domain and prices.
  hourly: {
    table: "outcome_rollup_hourly",
    time: { column: "bucket", kind: "timestamptz" },
    unitMs: 3_600_000,
    columns: ["currency", "win_status", "enriched"],
  },
  // Per UTC day and site: answers site_domain filters (2,000 sites × 90 days stays small per site).
  daily_site: {
    table: "outcome_rollup_daily_site",
    time: { column: "day", kind: "utc-date" },
    unitMs: 86_400_000,
    columns: ["site_domain", "currency", "win_status", "enriched"],
  },
} as const satisfies Record<string, RollupTable>;

export type RollupName = keyof typeof ROLLUPS;
export const ROLLUP_NAMES = Object.keys(ROLLUPS) as RollupName[];

export interface AggregatePlan {
  rollup?: { table: RollupName; filters: Filters };
  /** Base-table parts; their rows and the rollup's never overlap. */
  base: Filters[];
}

export function ceilTo(text: string, unit: number): { iso: string; aligned: boolean } {
  const { ms, subMs } = epochMs(text);
  const aligned = ms % unit === 0 && !subMs;
  const up = aligned ? ms : Math.floor(ms / unit) * unit + unit;
  return { iso: pgInstant(up), aligned };
}

export function floorTo(text: string, unit: number): { iso: string; aligned: boolean } {
  const { ms, subMs } = epochMs(text);
  return { iso: pgInstant(Math.floor(ms / unit) * unit), aligned: ms % unit === 0 && !subMs };
}

/** Whether `rollup` keeps apart every column the active filters compare. */
export function carries(rollup: RollupName, filters: Filters): boolean {
  const columns: readonly string[] = ROLLUPS[rollup].columns;
  return activeFilters(filters).every(({ spec }) => spec.rollup !== "not on rollups" && ("bound" in spec.rollup || columns.includes(spec.rollup.column)));
}

/** The plan on the first rollup that carries the filters (the base table alone when none does). */
export function planAggregate(filters: Filters): AggregatePlan {
  const rollup = ROLLUP_NAMES.find((name) => carries(name, filters));
  return rollup ? planAggregateOn(filters, rollup) : { base: [filters] };
}

/** The plan on a given rollup, e.g. daily_site for figures grouped by site. */
export function planAggregateOn(filters: Filters, rollup: RollupName): AggregatePlan {
  if (!carries(rollup, filters)) return { base: [filters] };
  const unit = ROLLUPS[rollup].unitMs;
  const from = filters.from !== undefined ? ceilTo(filters.from, unit) : undefined;
  const to = filters.to !== undefined ? floorTo(filters.to, unit) : undefined;
  if (from && to && epochMs(from.iso).ms >= epochMs(to.iso).ms) return { base: [filters] };
  const base: Filters[] = [];
  if (from && !from.aligned) base.push({ ...filters, to: from.iso });
  if (to && !to.aligned) base.push({ ...filters, from: to.iso });
  return { rollup: { table: rollup, filters: { ...filters, from: from?.iso, to: to?.iso } }, base };
}
