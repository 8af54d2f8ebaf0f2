// Every SQL statement that reads outcome rows (aggregates live in outcomes.aggregates.ts).
import type { Sql } from "../db/client";
import type { OutcomeInsert } from "./outcome.mapping";
import { type Filters, whereClause } from "./outcomes.filters";
import { type Cursor, keysetCondition, type OrderKey, orderByClause } from "./outcomes.paging";

/**
 * A stored outcome as selected: the inserted columns (numerics and timestamps as PostgreSQL's
 * text), what the table adds, and raw_data only where a query selects it (detail).
 */
export interface OutcomeRow extends Omit<OutcomeInsert, "raw_data"> {
  id: string;
  created_at: string;
  updated_at: string;
  profit_margin: string;
  raw_data?: unknown;
}

const recordColumns = (sql: Sql) => sql`
  id, bid_id, user_id, site_domain, win_status, win_price, bid_price, currency, enriched,
  "timestamp", auction_timestamp, user_interests, created_at, updated_at,
  case when win_status then bid_price - win_price else 0 end as profit_margin`;

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
