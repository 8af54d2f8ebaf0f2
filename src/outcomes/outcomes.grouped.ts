// Aggregates grouped by one or two dimensions (breakdowns, daily stats, time series), each group
// split per currency. Like stats, each is a sum of partial aggregates: rollup rows for the whole
// buckets of the period and base-table rows for the edges (outcomes.rollup-plan.ts), so averages
// are sum / count on both paths and the figures are identical whichever path answers.
//
// Time buckets are the zone's (tz): date_trunc(unit, instant, zone), which follows daylight
// saving (23- and 25-hour days). The hourly rollup answers a zone whenever none of its hours
// holds a boundary of the zone's buckets: true of every zone whose offset is a whole number of
// hours. In a zone with a 30- or 45-minute offset (Asia/Kolkata, Asia/Kathmandu) a UTC hour
// holds a local midnight, so the rollup cannot split it; such a request is answered from the
// base table instead (exact, and as slow as a scan of the period). Which one is decided from the
// rollup's own hours with data, so it is exact for any zone, including a past offset change.
//
// Minutes (interval=minute of a time series) are in no rollup: they are always counted from the
// base table, over a period the series bounds to MAX_MINUTE_BUCKETS.
import type { Sql } from "../db/client";
import { type Fragment, unionAll } from "../db/fragments";
import { rollupWhere } from "./outcomes.aggregates";
import { type Filters, whereClause } from "./outcomes.filters";
import { type AggregatePlan, planAggregateOn, ROLLUP_NAMES, ROLLUPS, type RollupName } from "./outcomes.rollup-plan";
import { UTC } from "./outcomes.zones";

export const TIME_DIMENSIONS = ["hour", "day", "week", "month"] as const;
export type TimeDimension = (typeof TIME_DIMENSIONS)[number];
/** What a breakdown can group by (by=). */
export const DIMENSIONS = ["site_domain", "user_id", "currency", "win_status", "enriched", ...TIME_DIMENSIONS] as const;
export type Dimension = (typeof DIMENSIONS)[number];
/**
 * What the engine can group by: the dimensions, and minutes for a time series. Minutes are not a
 * breakdown dimension: no rollup has them, and only the series bounds how many a period holds.
 */
export type GroupKey = Dimension | "minute";
export type TimeUnit = TimeDimension | "minute";

export const METRICS = ["outcomes", "wins", "losses", "win_rate", "revenue", "avg_win_price", "avg_bid_price", "profit_margin", "enriched_count"] as const;
export type Metric = (typeof METRICS)[number];

export const isTimeDimension = (d: Dimension): d is TimeDimension => (TIME_DIMENSIONS as readonly string[]).includes(d);
const isTimeUnit = (d: GroupKey): d is TimeUnit => d === "minute" || isTimeDimension(d);

export interface Grouping {
  /** One or two dimensions, in the order the keys are reported. */
  dims: readonly GroupKey[];
  /** The zone of the time buckets, as PostgreSQL spells it (outcomes.zones.ts). */
  tz: string;
}

export interface GroupOrder {
  by: Metric | GroupKey;
  desc: boolean;
  /** At most this many groups; undefined: all. */
  limit?: number;
}

/** One group, or the total (rank 0, no keys). Numbers are PostgreSQL's text: exact. */
export interface GroupRow {
  rank: string;
  /** How many groups there are in all (before the limit). */
  groups: string;
  /** Keys as text: the value, a local date (day, week: its Monday), a month (YYYY-MM) or a minute's or hour's start in UTC. */
  k0: string | null;
  k1: string | null;
  /** Time keys: the bucket's start, ISO-8601 UTC. */
  s0: string | null;
  s1: string | null;
  outcomes: string;
  wins: string;
  revenue: string | null;
  avg_win_price: string | null;
  avg_bid_price: string | null;
  profit_margin: string;
  enriched: string;
  /** Sum of win_price over wins per currency code, decimal text; every currency with outcomes in the group. */
  revenue_by_currency: Record<string, string>;
}

/** Whether `rollup` keeps apart every dimension of the grouping (time at its grain, in the zone). */
export function servesGrouping(rollup: RollupName, grouping: Grouping): boolean {
  const { time, columns } = ROLLUPS[rollup];
  return grouping.dims.every((d) => {
    // Hourly buckets can be regrouped into any zone's hours, days, weeks and months (checked for
    // exactness below); UTC dates only into UTC days, weeks and months; neither into minutes.
    if (d === "minute") return false;
    if (isTimeDimension(d)) return time.kind === "timestamptz" || (d !== "hour" && grouping.tz === UTC);
    return (columns as readonly string[]).includes(d);
  });
}

/** The plan on the first rollup that serves both the filters and the grouping; else the base table. */
export function planGrouped(filters: Filters, grouping: Grouping): AggregatePlan {
  for (const name of ROLLUP_NAMES) {
    if (!servesGrouping(name, grouping)) continue;
    const plan = planAggregateOn(filters, name);
    if (plan.rollup) return plan;
  }
  return { base: [filters] };
}

/** The finest time unit of the grouping whose boundaries a rollup bucket must not cross, or null. */
function finestUnit(grouping: Grouping): "minute" | "hour" | "day" | null {
  if (grouping.dims.includes("minute")) return "minute";
  if (grouping.dims.includes("hour")) return "hour";
  // Week and month boundaries are day boundaries.
  return grouping.dims.some(isTimeUnit) ? "day" : null;
}

/** Whether the zone's buckets must be checked against the rollup's hours before the plan is used. */
const needsZoneCheck = (plan: AggregatePlan, grouping: Grouping) => plan.rollup !== undefined && finestUnit(grouping) !== null && grouping.tz !== UTC;

/**
 * The plan made exact for the zone: when a rollup hour with data holds a boundary of the zone's
 * buckets (30- and 45-minute offsets), the base table answers the whole request.
 */
export async function exactPlan(sql: Sql, filters: Filters, plan: AggregatePlan, grouping: Grouping): Promise<AggregatePlan> {
  const unit = finestUnit(grouping);
  if (!plan.rollup || unit === null || !needsZoneCheck(plan, grouping)) return plan;
  const { table, filters: whole } = plan.rollup;
  const { time, unitMs } = ROLLUPS[table];
  if (time.kind !== "timestamptz") return plan;
  const start = sql(time.column);
  const [row] = await sql<{ crossing: boolean }[]>`
    select exists (
      select from ${sql(ROLLUPS[table].table)} ${rollupWhere(sql, table, whole)}
        and date_trunc(${unit}, ${start}, ${grouping.tz}) <> date_trunc(${unit}, ${start} + ${`${unitMs * 1000 - 1} microseconds`}::interval, ${grouping.tz})
    ) as crossing`;
  return row!.crossing ? { base: [filters] } : plan;
}

/** A dimension's key on base-table rows. */
function baseKey(sql: Sql, d: GroupKey, tz: string): Fragment {
  return isTimeUnit(d) ? sql`date_trunc(${d}, "timestamp", ${tz})` : sql`${sql(d)}`;
}

/** A dimension's key on rollup rows (the plan made sure the rollup serves it). */
function rollupKey(sql: Sql, rollup: RollupName, d: GroupKey, tz: string): Fragment {
  const { time } = ROLLUPS[rollup];
  if (!isTimeUnit(d)) return sql`${sql(d)}`;
  const at = time.kind === "timestamptz" ? sql`${sql(time.column)}` : sql`(${sql(time.column)}::timestamp at time zone 'UTC')`;
  return sql`date_trunc(${d}, ${at}, ${tz})`;
}

const keysOf = (keys: Fragment[], sql: Sql): [Fragment, Fragment] => [keys[0] ?? sql`null::text`, keys[1] ?? sql`null::text`];

/** Partial aggregates per (k0, k1, currency) from every part of a plan. */
function groupedPartials(sql: Sql, plan: AggregatePlan, grouping: Grouping): Fragment {
  const parts = plan.base.map((f) => {
    const [k0, k1] = keysOf(
      grouping.dims.map((d) => baseKey(sql, d, grouping.tz)),
      sql,
    );
    return sql`
      select ${k0} as k0, ${k1} as k1, currency, count(*) as total,
             count(*) filter (where win_status) as wins,
             sum(win_price) filter (where win_status) as revenue,
             sum(bid_price) as bid_sum, sum(bid_price) filter (where win_status) as win_bid_sum,
             count(*) filter (where enriched) as enriched
      from auction_outcomes ${whereClause(sql, f)} group by 1, 2, 3`;
  });
  if (plan.rollup) {
    const { table, filters } = plan.rollup;
    const [k0, k1] = keysOf(
      grouping.dims.map((d) => rollupKey(sql, table, d, grouping.tz)),
      sql,
    );
    parts.push(sql`
      select ${k0} as k0, ${k1} as k1, currency, sum(outcomes) as total,
             coalesce(sum(outcomes) filter (where win_status), 0) as wins,
             sum(win_price_sum) filter (where win_status) as revenue,
             sum(bid_price_sum) as bid_sum, sum(bid_price_sum) filter (where win_status) as win_bid_sum,
             coalesce(sum(outcomes) filter (where enriched), 0) as enriched
      from ${sql(ROLLUPS[table].table)} ${rollupWhere(sql, table, filters)} group by 1, 2, 3`);
  }
  return unionAll(sql, parts);
}

/** Orderings over the grouped columns: a fixed map, so no request text reaches SQL. */
function orderExpression(sql: Sql, by: Metric | GroupKey, grouping: Grouping): Fragment {
  switch (by) {
    case "outcomes":
      return sql`outcomes`;
    case "wins":
      return sql`wins`;
    case "losses":
      return sql`outcomes - wins`;
    case "win_rate":
      return sql`wins / outcomes`;
    case "revenue":
      return sql`coalesce(revenue, 0)`;
    case "avg_win_price":
      return sql`revenue / nullif(wins, 0)`;
    case "avg_bid_price":
      return sql`bid_sum / outcomes`;
    case "profit_margin":
      return sql`coalesce(win_bid_sum, 0) - coalesce(revenue, 0)`;
    case "enriched_count":
      return sql`enriched`;
    default: {
      const at = grouping.dims.indexOf(by);
      if (at < 0) throw new Error(`order by ${by}: not a dimension of the grouping`);
      return at === 0 ? sql`k0` : sql`k1`;
    }
  }
}

/** A key as text: dates and months in the zone, minutes and hours as their UTC start, flags as true/false. */
function keyText(sql: Sql, d: GroupKey | undefined, column: "k0" | "k1", tz: string): Fragment {
  const k = sql(column);
  if (d === undefined) return sql`null::text`;
  if (d === "minute" || d === "hour") return sql`to_char(${k} at time zone 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS"Z"')`;
  if (d === "month") return sql`to_char(${k} at time zone ${tz}, 'YYYY-MM')`;
  if (d === "day" || d === "week") return sql`to_char(${k} at time zone ${tz}, 'YYYY-MM-DD')`;
  return sql`${k}::text`;
}

function startText(sql: Sql, d: GroupKey | undefined, column: "k0" | "k1"): Fragment {
  if (d === undefined || !isTimeUnit(d)) return sql`null::text`;
  return sql`to_char(${sql(column)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS"Z"')`;
}

/**
 * The groups of `grouping` over `filters`, in `order` (ties by the keys, nulls last), the first
 * `order.limit` of them, then the total over every group (rank 0): one statement, one snapshot.
 * When the zone is checked first (exactPlan), the check and the statement share one REPEATABLE
 * READ snapshot, so an hour written in between cannot make the check's answer stale.
 * `plan` is taken as given in tests, to check a rollup plan against the base table.
 */
export async function groupedAggregates(sql: Sql, filters: Filters, grouping: Grouping, order: GroupOrder, plan?: AggregatePlan): Promise<GroupRow[]> {
  if (plan) return groupedQuery(sql, plan, grouping, order);
  const planned = planGrouped(filters, grouping);
  if (!needsZoneCheck(planned, grouping)) return groupedQuery(sql, planned, grouping, order);
  return sql.begin("isolation level repeatable read read only", async (tx) => {
    const snapshot = tx as unknown as Sql;
    return groupedQuery(snapshot, await exactPlan(snapshot, filters, planned, grouping), grouping, order);
  }) as Promise<GroupRow[]>;
}

function groupedQuery(sql: Sql, chosen: AggregatePlan, grouping: Grouping, order: GroupOrder): Promise<GroupRow[]> {
  const [d0, d1] = grouping.dims;
  const direction = order.desc ? sql`desc` : sql`asc`;
  const within = order.limit === undefined ? sql`` : sql`where rank <= ${order.limit}`;
  return sql<GroupRow[]>`
    with parts as (${groupedPartials(sql, chosen, grouping)}),
    per_currency as (
      select k0, k1, currency, sum(total) as total, sum(wins) as wins, sum(revenue) as revenue,
             sum(bid_sum) as bid_sum, sum(win_bid_sum) as win_bid_sum, sum(enriched) as enriched
      from parts group by 1, 2, 3 having sum(total) > 0
    ),
    g as (
      select k0, k1, sum(total) as outcomes, sum(wins) as wins, sum(revenue) as revenue, sum(bid_sum) as bid_sum,
             sum(win_bid_sum) as win_bid_sum, sum(enriched) as enriched,
             jsonb_object_agg(currency, coalesce(revenue, 0)::text) as revenue_by_currency
      from per_currency group by 1, 2
    ),
    ranked as (
      select g.*, row_number() over (order by ${orderExpression(sql, order.by, grouping)} ${direction} nulls last, k0 asc nulls last, k1 asc nulls last) as rank
      from g
    ),
    chosen as (
      select rank, k0, k1, outcomes, wins, revenue, bid_sum, win_bid_sum, enriched, revenue_by_currency from ranked ${within}
      union all
      select 0, null, null, coalesce(sum(outcomes), 0), coalesce(sum(wins), 0), sum(revenue), sum(bid_sum), sum(win_bid_sum), coalesce(sum(enriched), 0),
             (select coalesce(jsonb_object_agg(currency, revenue::text), '{}'::jsonb)
                from (select currency, coalesce(sum(revenue), 0) as revenue from per_currency group by 1) c)
      from g
    )
    select rank, (select count(*) from g) as groups,
           ${keyText(sql, d0, "k0", grouping.tz)} as k0, ${startText(sql, d0, "k0")} as s0,
           ${keyText(sql, d1, "k1", grouping.tz)} as k1, ${startText(sql, d1, "k1")} as s1,
           outcomes, wins, revenue, revenue / nullif(wins, 0) as avg_win_price, bid_sum / nullif(outcomes, 0) as avg_bid_price,
           coalesce(win_bid_sum, 0) - coalesce(revenue, 0) as profit_margin, enriched, revenue_by_currency
    from chosen order by rank`;
}
