// Decides how an aggregate over Filters is answered exactly: from a rollup for the whole
// buckets inside [from, to), plus the base table for the partial buckets at either edge.
// Filters a rollup does not carry (user_id, prices, search) go to the base table entirely.
import type { Filters } from "./outcomes.filters";

export type RollupTable = "hourly" | "daily_site";

export interface AggregatePlan {
  rollup?: { table: RollupTable; filters: Filters };
  /** Base-table parts; their rows and the rollup's never overlap. */
  base: Filters[];
}

const UNIT_MS: Record<RollupTable, number> = { hourly: 3_600_000, daily_site: 86_400_000 };

/** Epoch ms of a parseIsoTimestamp value, and whether anything finer than ms was set. */
function instant(text: string): { ms: number; subMs: boolean } {
  const fraction = /\.(\d+)/.exec(text)?.[1] ?? "";
  const ms = Date.parse(text.replace(/\.\d+/, "")) + Number((fraction + "000").slice(0, 3));
  return { ms, subMs: /[1-9]/.test(fraction.slice(3)) };
}

export function ceilTo(text: string, unit: number): { iso: string; aligned: boolean } {
  const { ms, subMs } = instant(text);
  const aligned = ms % unit === 0 && !subMs;
  const up = aligned ? ms : Math.floor(ms / unit) * unit + unit;
  return { iso: new Date(up).toISOString(), aligned };
}

export function floorTo(text: string, unit: number): { iso: string; aligned: boolean } {
  const { ms, subMs } = instant(text);
  return { iso: new Date(Math.floor(ms / unit) * unit).toISOString(), aligned: ms % unit === 0 && !subMs };
}

/** Whether only the base table can answer: a rollup has no user_id, price or prefix to match. */
function baseOnly(filters: Filters): boolean {
  return filters.userId !== undefined || filters.minPrice !== undefined || filters.maxPrice !== undefined || filters.search !== undefined;
}

export function planAggregate(filters: Filters): AggregatePlan {
  return planAggregateOn(filters, filters.siteDomain !== undefined ? "daily_site" : "hourly");
}

/** The plan on a given rollup table, e.g. daily_site for figures grouped by site. */
export function planAggregateOn(filters: Filters, table: RollupTable): AggregatePlan {
  if (baseOnly(filters) || (table === "hourly" && filters.siteDomain !== undefined)) return { base: [filters] };
  const unit = UNIT_MS[table];
  const from = filters.from !== undefined ? ceilTo(filters.from, unit) : undefined;
  const to = filters.to !== undefined ? floorTo(filters.to, unit) : undefined;
  if (from && to && Date.parse(from.iso) >= Date.parse(to.iso)) return { base: [filters] };
  const base: Filters[] = [];
  if (from && !from.aligned) base.push({ ...filters, to: from.iso });
  if (to && !to.aligned) base.push({ ...filters, from: to.iso });
  return { rollup: { table, filters: { ...filters, from: from?.iso, to: to?.iso } }, base };
}
