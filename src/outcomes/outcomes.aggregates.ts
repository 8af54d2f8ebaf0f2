// List counts, bucket counts and top lists. Each is a sum of partial aggregates: rollup rows for
// whole buckets and base-table rows for the rest (see outcomes.rollup-plan.ts), so the figures
// are identical whichever path answers. Stats, daily stats, series and breakdowns, which are
// grouped and split per currency, are in outcomes.grouped.ts.
import type { Sql } from "../db/client";
import { type Fragment, unionAll, whereAll } from "../db/fragments";
import { activeFilters, type Filters, whereClause } from "./outcomes.filters";
import { type AggregatePlan, planAggregate, planAggregateOn, ROLLUPS, type RollupName } from "./outcomes.rollup-plan";

/** Rollup WHERE: the same filters as the base table, on the rollup's columns (the plan made sure it has them). */
export function rollupWhere(sql: Sql, rollup: RollupName, f: Filters): Fragment {
  const { column, kind } = ROLLUPS[rollup].time;
  const bound = (iso: string) => (kind === "timestamptz" ? sql`${iso}::timestamptz` : sql`(${iso}::timestamptz at time zone 'UTC')::date`);
  const parts = activeFilters(f).map(({ spec, value }) => {
    if (spec.rollup === "not on rollups") throw new Error(`${spec.param} is not on rollups: the plan should have read the base table`);
    if ("column" in spec.rollup) return sql`${sql(spec.rollup.column)} = ${value as string | boolean}`;
    return spec.rollup.bound === "from" ? sql`${sql(column)} >= ${bound(value as string)}` : sql`${sql(column)} < ${bound(value as string)}`;
  });
  return whereAll(sql, f.matchNothing === true ? [sql`false`, ...parts] : parts);
}

/** What partial aggregates are grouped by: a site, or nothing (one total). */
type Grouping = "site_domain" | "none";

/** The group key of base-table rows. */
function baseKey(sql: Sql, group: Grouping) {
  if (group === "none") return sql`0`;
  return sql`site_domain`;
}

/** The group key of rollup rows; a plan is only made on a rollup that carries the grouping. */
function rollupKey(sql: Sql, rollup: RollupName, group: Grouping): Fragment {
  const { columns } = ROLLUPS[rollup];
  if (group === "none") return sql`0`;
  if (group === "site_domain" && (columns as readonly string[]).includes(group)) return sql`site_domain`;
  throw new Error(`${ROLLUPS[rollup].table} cannot be grouped by ${group}`);
}

/** Partial aggregates (key, total, wins, revenue, bid_sum, enriched) from every part of a plan. */
function partials(sql: Sql, plan: AggregatePlan, group: Grouping) {
  const parts = plan.base.map(
    (f) => sql`
      select ${baseKey(sql, group)} as key, count(*) as total,
             count(*) filter (where win_status) as wins,
             sum(win_price) filter (where win_status) as revenue,
             sum(bid_price) as bid_sum, count(*) filter (where enriched) as enriched
      from auction_outcomes ${whereClause(sql, f)} group by 1`,
  );
  if (plan.rollup) {
    const { table, filters } = plan.rollup;
    const from = sql(ROLLUPS[table].table);
    parts.push(sql`
      select ${rollupKey(sql, table, group)} as key, sum(outcomes) as total,
             coalesce(sum(outcomes) filter (where win_status), 0) as wins,
             sum(win_price_sum) filter (where win_status) as revenue,
             sum(bid_price_sum) as bid_sum, coalesce(sum(outcomes) filter (where enriched), 0) as enriched
      from ${from} ${rollupWhere(sql, table, filters)} group by 1`);
  }
  return unionAll(sql, parts);
}

export async function countOutcomes(sql: Sql, filters: Filters, plan = planAggregate(filters)): Promise<number> {
  if (!plan.rollup) {
    const [row] = await sql<{ count: string }[]>`select count(*) as count from auction_outcomes ${whereClause(sql, filters)}`;
    return Number(row!.count);
  }
  const [row] = await sql<{ count: string }[]>`select coalesce(sum(total), 0) as count from (${partials(sql, plan, "none")}) parts`;
  return Number(row!.count);
}

/** The next `limit` buckets of a rollup beyond a bound (see bucketChunk), as the database summed them. */
export interface BucketChunk {
  /** The buckets of the chunk that hold the positions asked for, each with the outcomes before it in the chunk. */
  held: { start: number; outcomes: number; before: number }[];
  /** Buckets in the chunk (fewer than asked: the last chunk), the outcomes in them, and where the last one starts. */
  buckets: number;
  outcomes: number;
  lastStart: number | null;
}

/**
 * The next `limit` buckets of a rollup that hold outcomes, in time order from a bound on (before
 * `boundMs` descending, from it on ascending), summed in the database: only the buckets holding
 * positions [from, to) of the chunk cross the wire, with the chunk's totals. The page window
 * (outcomes.window.ts) walks these chunks instead of the rows themselves.
 */
export async function bucketChunk(
  sql: Sql,
  rollup: RollupName,
  filters: Filters,
  order: "desc" | "asc",
  limit: number,
  positions: { from: number; to: number },
  boundMs?: number,
): Promise<BucketChunk> {
  const { column, kind } = ROLLUPS[rollup].time;
  const time = sql(column);
  const startMs = kind === "timestamptz" ? sql`extract(epoch from t) * 1000` : sql`extract(epoch from t::timestamp at time zone 'UTC') * 1000`;
  const boundAt = (ms: number) => (kind === "timestamptz" ? sql`to_timestamp(${ms / 1000})` : sql`(to_timestamp(${ms / 1000}) at time zone 'UTC')::date`);
  const bound = boundMs === undefined ? sql`` : order === "desc" ? sql`and ${time} < ${boundAt(boundMs)}` : sql`and ${time} >= ${boundAt(boundMs)}`;
  const direction = order === "desc" ? sql`desc` : sql`asc`;
  // The chunk is read in index order and cut at `limit` before anything is summed over it.
  const rows = await sql<{ start: string; outcomes: string; before: string; held: boolean; buckets: string; total: string }[]>`
    with chunk as (
      select ${time} as t, sum(outcomes) as outcomes
      from ${sql(ROLLUPS[rollup].table)} ${rollupWhere(sql, rollup, filters)} ${bound}
      group by ${time} having sum(outcomes) > 0
      order by ${time} ${direction} limit ${limit}
    ), running as (
      select t, outcomes, sum(outcomes) over (order by t ${direction}) as through,
             count(*) over () as buckets, sum(outcomes) over () as total,
             row_number() over (order by t ${direction}) as place
      from chunk
    ), marked as (
      select *, through > ${positions.from} and through - outcomes < ${positions.to} as held from running
    )
    select (${startMs})::bigint::text as start, outcomes::text as outcomes, (through - outcomes)::text as before,
           held, buckets::text as buckets, total::text as total
    from marked where held or place = buckets
    order by t ${direction}`;
  const last = rows[rows.length - 1];
  return {
    held: rows.filter((row) => row.held).map((row) => ({ start: Number(row.start), outcomes: Number(row.outcomes), before: Number(row.before) })),
    buckets: last ? Number(last.buckets) : 0,
    outcomes: last ? Number(last.total) : 0,
    lastStart: last ? Number(last.start) : null,
  };
}

export interface TopRow {
  key: string | null;
  total: string;
  wins: string;
  revenue: string | null;
}

/** The plan for top sites: the per-day-and-site rollup carries every site; users are in none. */
export function planTop(filters: Filters, by: "site_domain" | "user_id"): AggregatePlan {
  return by === "site_domain" ? planAggregateOn(filters, "daily_site") : { base: [filters] };
}

/** Highest revenue first; ties by more outcomes, then by key (nulls last) so the order is total. */
export async function topBy(sql: Sql, filters: Filters, by: "site_domain" | "user_id", limit: number, plan = planTop(filters, by)): Promise<TopRow[]> {
  if (by === "user_id") {
    return sql<TopRow[]>`
      select user_id as key, count(*) as total, count(*) filter (where win_status) as wins,
             sum(win_price) filter (where win_status) as revenue
      from auction_outcomes ${whereClause(sql, filters)}
      group by user_id
      order by coalesce(sum(win_price) filter (where win_status), 0) desc, count(*) desc, user_id asc
      limit ${limit}`;
  }
  return sql<TopRow[]>`
    select key, sum(total) as total, sum(wins) as wins, sum(revenue) as revenue
    from (${partials(sql, plan, "site_domain")}) parts
    group by key having sum(total) > 0
    order by coalesce(sum(revenue), 0) desc, sum(total) desc, key asc nulls last
    limit ${limit}`;
}
