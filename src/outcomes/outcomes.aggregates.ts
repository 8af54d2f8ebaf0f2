// Stats, daily stats and list counts. Each is a sum of partial aggregates: rollup rows for
// whole buckets and base-table rows for the rest (see outcomes.rollup-plan.ts). Averages are
// sum / count on both paths, so the figures are identical whichever path answers.
import type { Sql } from "../db/client";
import { whereClause, type Filters } from "./outcomes.filters";
import { planAggregate, type AggregatePlan } from "./outcomes.rollup-plan";

export interface StatsRow {
  total: string;
  wins: string;
  revenue: string | null;
  avg_win_price: string | null;
  avg_bid_price: string | null;
  enriched_count: string;
}

export interface DailyRow {
  date: string;
  total: string;
  wins: string;
  revenue: string | null;
  avg_win_price: string | null;
}

/** Rollup WHERE: the same filters as the base table, on the rollup's columns. */
function rollupWhere(sql: Sql, table: "hourly" | "daily_site", f: Filters) {
  const time = table === "hourly" ? sql`bucket` : sql`day`;
  const bound = (iso: string) => (table === "hourly" ? sql`${iso}::timestamptz` : sql`(${iso}::timestamptz at time zone 'UTC')::date`);
  const parts = [
    f.matchNothing === true && sql`false`,
    f.siteDomain !== undefined && sql`site_domain = ${f.siteDomain}`,
    f.winStatus !== undefined && sql`win_status = ${f.winStatus}`,
    f.enriched !== undefined && sql`enriched = ${f.enriched}`,
    f.currency !== undefined && sql`currency = ${f.currency}`,
    f.from !== undefined && sql`${time} >= ${bound(f.from)}`,
    f.to !== undefined && sql`${time} < ${bound(f.to)}`,
  ].filter((part) => part !== false);
  if (parts.length === 0) return sql`where true`;
  return parts.slice(1).reduce((acc, part) => sql`${acc} and ${part}`, sql`where ${parts[0]!}`);
}

/** Partial aggregates (day, total, wins, revenue, bid_sum, enriched) from every part of a plan. */
function partials(sql: Sql, plan: AggregatePlan) {
  const parts = plan.base.map(
    (f) => sql`
      select ("timestamp" at time zone 'UTC')::date as day, count(*) as total,
             count(*) filter (where win_status) as wins,
             sum(win_price) filter (where win_status) as revenue,
             sum(bid_price) as bid_sum, count(*) filter (where enriched) as enriched
      from auction_outcomes ${whereClause(sql, f)} group by 1`,
  );
  if (plan.rollup) {
    const { table, filters } = plan.rollup;
    const day = table === "hourly" ? sql`(bucket at time zone 'UTC')::date` : sql`day`;
    const from = table === "hourly" ? sql`outcome_rollup_hourly` : sql`outcome_rollup_daily_site`;
    parts.push(sql`
      select ${day} as day, sum(outcomes) as total,
             coalesce(sum(outcomes) filter (where win_status), 0) as wins,
             sum(win_price_sum) filter (where win_status) as revenue,
             sum(bid_price_sum) as bid_sum, coalesce(sum(outcomes) filter (where enriched), 0) as enriched
      from ${from} ${rollupWhere(sql, table, filters)} group by 1`);
  }
  return parts.slice(1).reduce((acc, part) => sql`${acc} union all ${part}`, parts[0]!);
}

/** `plan` is taken as given in tests, to check a rollup plan against the base table. */
export async function outcomeStats(sql: Sql, filters: Filters, plan = planAggregate(filters)): Promise<StatsRow> {
  const [row] = await sql<StatsRow[]>`
    select coalesce(sum(total), 0) as total, coalesce(sum(wins), 0) as wins, sum(revenue) as revenue,
           sum(revenue) / nullif(sum(wins), 0) as avg_win_price,
           sum(bid_sum) / nullif(sum(total), 0) as avg_bid_price,
           coalesce(sum(enriched), 0) as enriched_count
    from (${partials(sql, plan)}) parts`;
  return row!;
}

export async function dailyStats(sql: Sql, filters: Filters, plan = planAggregate(filters)): Promise<DailyRow[]> {
  return sql<DailyRow[]>`
    select to_char(day, 'YYYY-MM-DD') as date, sum(total) as total, sum(wins) as wins, sum(revenue) as revenue,
           sum(revenue) / nullif(sum(wins), 0) as avg_win_price
    from (${partials(sql, plan)}) parts
    group by day having sum(total) > 0 order by day desc`;
}

export async function countOutcomes(sql: Sql, filters: Filters, plan = planAggregate(filters)): Promise<number> {
  if (!plan.rollup) {
    const [row] = await sql<{ count: string }[]>`select count(*) as count from auction_outcomes ${whereClause(sql, filters)}`;
    return Number(row!.count);
  }
  const [row] = await sql<{ count: string }[]>`select coalesce(sum(total), 0) as count from (${partials(sql, plan)}) parts`;
  return Number(row!.count);
}
