// Every SQL statement about outcomes, and nothing else. Values are always bound parameters.
import type { Sql } from "../db/client";
import { whereClause, type Filters } from "./outcomes.filters";
import { keysetCondition, orderByClause, type Cursor, type OrderKey } from "./outcomes.paging";

/** A stored outcome as selected: numerics, bigints and timestamps are PostgreSQL's text. */
export interface OutcomeRow {
  id: string;
  bid_id: string;
  user_id: string;
  site_domain: string | null;
  win_status: boolean;
  win_price: string;
  bid_price: string;
  currency: string;
  enriched: boolean;
  timestamp: string;
  auction_timestamp: string | null;
  user_interests: unknown[];
  created_at: string;
  updated_at: string;
  profit_margin: string;
  raw_data?: unknown;
}

const recordColumns = (sql: Sql) => sql`
  id, bid_id, user_id, site_domain, win_status, win_price, bid_price, currency, enriched,
  "timestamp", auction_timestamp, user_interests, created_at, updated_at,
  case when win_status then bid_price - win_price else 0 end as profit_margin`;

export async function countOutcomes(sql: Sql, filters: Filters): Promise<number> {
  const [row] = await sql<{ count: string }[]>`select count(*) as count from auction_outcomes ${whereClause(sql, filters)}`;
  return Number(row!.count);
}

/**
 * One page by OFFSET. The page's ids are found on the narrow index first and only those rows
 * are read, so a deep page skips index entries instead of whole rows.
 */
export async function listOutcomesPage(sql: Sql, filters: Filters, keys: OrderKey[], limit: number, offset: number): Promise<OutcomeRow[]> {
  return sql<OutcomeRow[]>`
    select ${recordColumns(sql)} from auction_outcomes
    where id in (
      select id from auction_outcomes ${whereClause(sql, filters)}
      ${orderByClause(sql, keys)} limit ${limit} offset ${offset}
    )
    ${orderByClause(sql, keys)}`;
}

/** One page after (or before) a keyset cursor; rows come back in the requested order. */
export async function listOutcomesAfter(sql: Sql, filters: Filters, keys: OrderKey[], cursor: Cursor | null, limit: number): Promise<OutcomeRow[]> {
  const reverse = cursor !== null && !cursor.forward;
  const where = whereClause(sql, filters);
  const rows = await sql<OutcomeRow[]>`
    select ${recordColumns(sql)} from auction_outcomes ${where}
    ${cursor ? sql`and ${keysetCondition(sql, keys, cursor)}` : sql``}
    ${orderByClause(sql, keys, reverse)} limit ${limit}`;
  return reverse ? rows.reverse() : rows;
}

export async function findOutcome(sql: Sql, id: string, filters: Filters): Promise<OutcomeRow | undefined> {
  const [row] = await sql<OutcomeRow[]>`
    select ${recordColumns(sql)}, raw_data from auction_outcomes
    ${whereClause(sql, filters)} and id = ${id}::bigint`;
  return row;
}

export interface StatsRow {
  total: string;
  wins: string;
  revenue: string | null;
  avg_win_price: string | null;
  avg_bid_price: string | null;
  enriched_count: string;
}

export async function outcomeStats(sql: Sql, filters: Filters): Promise<StatsRow> {
  const [row] = await sql<StatsRow[]>`
    select count(*) as total,
           count(*) filter (where win_status) as wins,
           sum(win_price) filter (where win_status) as revenue,
           avg(win_price) filter (where win_status) as avg_win_price,
           avg(bid_price) as avg_bid_price,
           count(*) filter (where enriched) as enriched_count
    from auction_outcomes ${whereClause(sql, filters)}`;
  return row!;
}

export interface DailyRow {
  date: string;
  total: string;
  wins: string;
  revenue: string | null;
  avg_win_price: string | null;
}

export async function dailyStats(sql: Sql, filters: Filters): Promise<DailyRow[]> {
  return sql<DailyRow[]>`
    select to_char(("timestamp" at time zone 'UTC')::date, 'YYYY-MM-DD') as date,
           count(*) as total,
           count(*) filter (where win_status) as wins,
           sum(win_price) filter (where win_status) as revenue,
           avg(win_price) filter (where win_status) as avg_win_price
    from auction_outcomes ${whereClause(sql, filters)}
    group by 1 order by 1 desc`;
}
