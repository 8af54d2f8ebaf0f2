// Every SQL statement that reads outcome rows (aggregates live in outcomes.aggregates.ts).
import type { Sql } from "../db/client";
import { epochMs, parseIsoTimestamp } from "../values/timestamps";
import type { OutcomeInsert } from "./outcome.mapping";
import { type Filters, whereClause } from "./outcomes.filters";
import type { IdRanges } from "./outcomes.id-ranges";
import { type Cursor, keysetCondition, type OrderKey, orderByClause } from "./outcomes.paging";
import { cursorWindow, hasWindow, pageWindow } from "./outcomes.window";

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
 * One page by OFFSET, as the query itself reads it. The page's keys are found on the narrow
 * index first and only those rows are read (a deferred join): a deep page skips index entries
 * instead of whole rows. The join is on (timestamp, id), the partition key first, so each row is
 * looked up in its own partition only.
 */
async function offsetPage(sql: Sql, filters: Filters, keys: OrderKey[], limit: number, offset: number): Promise<OutcomeRow[]> {
  return sql<OutcomeRow[]>`
    select ${recordColumns(sql)} from auction_outcomes
    ${whereClause(sql, filters)} and ("timestamp", id) in (
      select "timestamp", id from auction_outcomes ${whereClause(sql, filters)}
      ${orderByClause(sql, keys)} limit ${limit} offset ${offset}
    )
    ${orderByClause(sql, keys)}`;
}

/** REPEATABLE READ: the rollup counts a window is found from and the page are one snapshot. */
const oneSnapshot = <T>(sql: Sql, work: (tx: Sql) => Promise<T>) =>
  sql.begin("isolation level repeatable read read only", (tx) => work(tx as unknown as Sql)) as Promise<T>;

/**
 * One page by OFFSET. Ordered by auction time with filters a rollup carries, the page is read in
 * the window the rollups place it in (outcomes.window.ts): the same cost at any depth, and only
 * the partitions of the window. Otherwise OFFSET over every partition.
 */
export async function listOutcomesPage(sql: Sql, filters: Filters, keys: OrderKey[], limit: number, offset: number): Promise<OutcomeRow[]> {
  if (!hasWindow(filters, keys)) return offsetPage(sql, filters, keys, limit, offset);
  return oneSnapshot(sql, async (tx) => {
    const window = (await pageWindow(tx, filters, keys, offset, limit))!;
    return offsetPage(tx, window.filters, keys, limit, offset - window.skip);
  });
}

/** One page after (or before) a keyset cursor; rows come back in the requested order. */
export async function listOutcomesAfter(sql: Sql, filters: Filters, keys: OrderKey[], cursor: Cursor | null, limit: number): Promise<OutcomeRow[]> {
  const reverse = cursor !== null && !cursor.forward;
  const read = async (tx: Sql, window: Filters) => {
    const rows = await tx<OutcomeRow[]>`
      select ${recordColumns(tx)} from auction_outcomes ${whereClause(tx, window)}
      ${cursor ? tx`and ${keysetCondition(tx, keys, cursor)}` : tx``}
      ${orderByClause(tx, keys, reverse)} limit ${limit}`;
    return reverse ? rows.reverse() : rows;
  };
  if (!hasWindow(filters, keys)) return read(sql, filters);
  return oneSnapshot(sql, async (tx) => {
    if (cursor === null) return read(tx, (await pageWindow(tx, filters, keys, 0, limit))!.filters);
    return read(tx, (await cursorWindow(tx, filters, keys, parseIsoTimestamp(cursor.values[0]!)!, reverse, limit))!);
  });
}

/**
 * Every matching row in order, `batchRows` at a time, through a server-side cursor (DECLARE …
 * NO SCROLL CURSOR, then FETCH): the next batch is fetched only when the caller asks for it, so
 * memory holds one batch whatever the row count. A declared cursor is planned for a fast start
 * (cursor_tuple_fraction): the default order streams from the (timestamp, id) indexes instead of
 * sorting every row before the first one is sent. Each FETCH is its own statement, so the
 * statement timeout bounds one fetch, not the whole export. Run it inside the caller's
 * transaction (the cursor lives until it ends), so every batch reads the same snapshot.
 */
export async function* outcomeBatches(tx: Sql, filters: Filters, keys: OrderKey[], batchRows: number): AsyncGenerator<OutcomeRow[]> {
  if (!Number.isSafeInteger(batchRows) || batchRows < 1) throw new Error(`batchRows must be a positive integer, got ${batchRows}`);
  await tx`
    declare outcome_export no scroll cursor for
    select ${recordColumns(tx)} from auction_outcomes ${whereClause(tx, filters)}
    ${orderByClause(tx, keys)}`;
  for (;;) {
    // FETCH takes no bind parameter for its count; batchRows is a checked integer of ours.
    const rows = await tx.unsafe<OutcomeRow[]>(`fetch forward ${batchRows} from outcome_export`);
    if (rows.length > 0) yield rows;
    if (rows.length < batchRows) return;
  }
}

/**
 * One outcome by id. With `ranges`, first in the period of the partitions whose ids span it
 * (one or two partitions read instead of all); not there, in every partition.
 */
export async function findOutcome(sql: Sql, id: string, filters: Filters, ranges?: IdRanges): Promise<OutcomeRow | undefined> {
  const find = async (where: Filters) => {
    const [row] = await sql<OutcomeRow[]>`
      select ${recordColumns(sql)}, raw_data from auction_outcomes
      ${whereClause(sql, where)} and id = ${id}::bigint`;
    return row;
  };
  const period = ranges ? await ranges.periodOf(id) : null;
  if (period) {
    const within = await find(withinPeriod(filters, period));
    if (within) return within;
    ranges!.forget();
  }
  return find(filters);
}

/** `filters` also inside [from, to) of `period` (never wider than they were). */
function withinPeriod(filters: Filters, period: { from?: string; to?: string }): Filters {
  const later = (a: string | undefined, b: string | undefined) => (a === undefined ? b : b === undefined ? a : epochMs(a).ms >= epochMs(b).ms ? a : b);
  const earlier = (a: string | undefined, b: string | undefined) => (a === undefined ? b : b === undefined ? a : epochMs(a).ms <= epochMs(b).ms ? a : b);
  return { ...filters, from: later(filters.from, period.from), to: earlier(filters.to, period.to) };
}
