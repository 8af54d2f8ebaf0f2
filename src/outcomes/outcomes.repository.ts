// Every SQL statement that reads outcome rows (aggregates live in outcomes.aggregates.ts).
import type { Sql } from "../db/client";
import { epochMs, parseIsoTimestamp } from "../values/timestamps";
import type { OutcomeInsert } from "./outcome.mapping";
import { type Filters, whereClause } from "./outcomes.filters";
import { type Cursor, keysetCondition, type OrderKey, orderByClause } from "./outcomes.paging";
import type { PartitionRanges } from "./outcomes.partition-ranges";
import { cursorWindow, hasWindow, pageWindow, prefixWindows } from "./outcomes.window";

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
 * Rows before a page up to which it is read directly: the deferred join below plans the table
 * twice, which costs more than it saves until the rows skipped are many (10 M rows, one daily
 * partition read: direct 2.0× the join's rate at offset 0, 1.4× at 900, 0.5× at 5,000).
 */
const DIRECT_OFFSET_ROWS = 1_000;

/**
 * One page by OFFSET, as the query itself reads it. Past DIRECT_OFFSET_ROWS the page's keys are
 * found first and only those rows are read (a deferred join): the keys are the ordering's own
 * columns, which its index holds (`(win_price, id)`, `(timestamp, id)` …), so the rows skipped
 * are index entries read by an index-only scan, never rows. Selecting the partition key instead
 * sent every skipped row of a price ordering to the heap: page 2000 by `-win_price` on 1 M rows
 * took 1,174 ms of execution, 92 ms with its own keys.
 */
async function offsetPage(sql: Sql, filters: Filters, keys: OrderKey[], limit: number, offset: number): Promise<OutcomeRow[]> {
  if (offset <= DIRECT_OFFSET_ROWS) {
    return sql<OutcomeRow[]>`
      select ${recordColumns(sql)} from auction_outcomes ${whereClause(sql, filters)}
      ${orderByClause(sql, keys)} limit ${limit} offset ${offset}`;
  }
  const keyColumns = sql(keys.map((key) => key.field));
  return sql<OutcomeRow[]>`
    select ${recordColumns(sql)} from auction_outcomes
    ${whereClause(sql, filters)} and (${keyColumns}) in (
      select ${keyColumns} from auction_outcomes ${whereClause(sql, filters)}
      ${orderByClause(sql, keys)} limit ${limit} offset ${offset}
    )
    ${orderByClause(sql, keys)}`;
}

/** REPEATABLE READ: the rollup counts a window is found from and the page are one snapshot. */
const oneSnapshot = <T>(sql: Sql, work: (tx: Sql) => Promise<T>) =>
  sql.begin("isolation level repeatable read read only", (tx) => work(tx as unknown as Sql)) as Promise<T>;

/**
 * The rows of the first of `tries` that comes back with `wanted` rows, or null. Each try is a
 * prefix of the traversal (outcomes.window.ts), so a full one is what reading it all would have
 * answered; each is one statement, so the page is one snapshot whichever answers.
 */
async function firstFull(tries: Filters[], wanted: number, read: (window: Filters) => Promise<OutcomeRow[]>): Promise<OutcomeRow[] | null> {
  for (const window of tries) {
    const rows = await read(window);
    if (rows.length >= wanted) return rows;
  }
  return null;
}

/**
 * Rows a page may lie past and still be tried in the newest partition alone before the rollups
 * are asked: that try reads offset + limit index entries of one partition in one statement, the
 * rollup window a snapshot of three.
 */
const SHALLOW_ROWS = 1_000;

/**
 * One page by OFFSET, ordered by auction time, in the first place that holds it: a shallow page in
 * the newest (ascending: oldest) stored partition; else, with filters a rollup carries, in the
 * window the rollups place it in (outcomes.window.ts), the same cost at any depth; else in the
 * prefix windows over the stored partitions. Other orderings: OFFSET over every partition.
 */
export async function listOutcomesPage(
  sql: Sql,
  filters: Filters,
  keys: OrderKey[],
  limit: number,
  offset: number,
  ranges?: PartitionRanges,
): Promise<OutcomeRow[]> {
  const read = (window: Filters) => offsetPage(sql, window, keys, limit, offset);
  const { tries, last } = prefixWindows(filters, keys, ranges ? await ranges.storedPeriods() : []);
  if (!hasWindow(filters, keys)) return (await firstFull(tries, limit, read)) ?? read(last);
  const shallow = offset + limit <= SHALLOW_ROWS ? await firstFull(tries.slice(0, 1), limit, read) : null;
  return (
    shallow ??
    oneSnapshot(sql, async (tx) => {
      const window = (await pageWindow(tx, filters, keys, offset, limit))!;
      return offsetPage(tx, window.filters, keys, limit, offset - window.skip);
    })
  );
}

/**
 * One page after (or before) a keyset cursor; rows come back in the requested order. Ordered by
 * auction time, first in the partition the cursor is in (or the newest / oldest one); then in the
 * rollups' window, or the prefix windows where no rollup serves the filters.
 */
export async function listOutcomesAfter(
  sql: Sql,
  filters: Filters,
  keys: OrderKey[],
  cursor: Cursor | null,
  limit: number,
  ranges?: PartitionRanges,
): Promise<OutcomeRow[]> {
  const reverse = cursor !== null && !cursor.forward;
  const read = async (tx: Sql, window: Filters) => {
    const rows = await tx<OutcomeRow[]>`
      select ${recordColumns(tx)} from auction_outcomes ${whereClause(tx, window)}
      ${cursor ? tx`and ${keysetCondition(tx, keys, cursor)}` : tx``}
      ${orderByClause(tx, keys, reverse)} limit ${limit}`;
    return reverse ? rows.reverse() : rows;
  };
  const cursorTimestamp = () => parseIsoTimestamp(cursor!.values[0]!)!;
  const at = cursor && timeOrderedCursor(keys) ? { timestamp: cursorTimestamp(), reverse } : undefined;
  const { tries, last } = prefixWindows(filters, keys, ranges ? await ranges.storedPeriods() : [], at);
  if (!hasWindow(filters, keys)) return (await firstFull(tries, limit, (window) => read(sql, window))) ?? read(sql, last);
  const near = await firstFull(tries.slice(0, 1), limit, (window) => read(sql, window));
  return (
    near ??
    oneSnapshot(sql, async (tx) => {
      if (cursor === null) return read(tx, (await pageWindow(tx, filters, keys, 0, limit))!.filters);
      return read(tx, (await cursorWindow(tx, filters, keys, cursorTimestamp(), reverse, limit))!);
    })
  );
}

/** Whether a cursor's first value is an auction time (its ordering starts with timestamp). */
const timeOrderedCursor = (keys: readonly OrderKey[]) => keys[0]?.field === "timestamp";

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
export async function findOutcome(sql: Sql, id: string, filters: Filters, ranges?: PartitionRanges): Promise<OutcomeRow | undefined> {
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
