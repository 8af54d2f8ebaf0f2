// Where a page of outcomes ordered by auction time lies, found from the rollups' exact counts
// instead of by reading every row before it: the page's rows are in a short time window, and the
// query names that window, so it reads only the partitions (and the index entries) of that window,
// whatever the page's depth. The counts and the page are read in one snapshot (the caller's
// REPEATABLE READ transaction), so the window is exact.
//
// page=N: walk the buckets from the end the order starts at, summing their counts (a chunk of
// buckets at a time, summed in the database), until the positions [offset, offset + limit) are
// covered: the page is in those buckets, after `skip` rows before them. A keyset cursor: walk
// away from the cursor's bucket until the buckets beyond it hold more than a page. Orderings that do not start with timestamp get no window: those queries
// read every partition.
//
// Filters no rollup carries (user_id, prices, search) leave the counts unknown, but a window that
// starts where the traversal starts still holds a prefix of it: if the newest (ascending: oldest)
// stored partitions hold a whole page, that page is the page. Such windows grow over the stored
// periods, 1, 4, 16 … partitions, until one comes back full; the last try reads every partition.
import type { Sql } from "../db/client";
import { epochMs, pgInstant } from "../values/timestamps";
import { bucketChunk, countOutcomes } from "./outcomes.aggregates";
import type { Filters } from "./outcomes.filters";
import type { OrderKey } from "./outcomes.paging";
import { type AggregatePlan, planAggregate, ROLLUPS } from "./outcomes.rollup-plan";

/** A span of auction time (epoch ms, from inclusive, to exclusive) and how many matching outcomes it holds. */
interface Span {
  from: number;
  to: number;
  outcomes: number;
}

export interface PageWindow {
  /** The page's filters narrowed to the window. */
  filters: Filters;
  /** Rows before the window in the page's order: the page starts at offset − skip inside it. */
  skip: number;
}

type Order = "desc" | "asc";

/** A stored partition's period of auction time, epoch ms [from, to). */
export interface StoredPeriod {
  from: number;
  to: number;
}

/** Partitions added to a prefix window each try, as a factor: few tries, little read twice. */
const PREFIX_GROWTH = 4;

/** Buckets summed per round trip while walking to positions at the start (a cursor's next page); doubled each time. */
const FIRST_CHUNK = 48;

/**
 * The first chunk when positions lie past the start (page=N): a week of hours. A chunk sends only
 * the buckets that hold the page, so a longer one costs the database a few rows more per bucket
 * and the API nothing, while each round trip costs both (1 M rows over 90 days: page 2000 lies
 * 432 hours deep, 2 round trips instead of 4 with chunks from 48). Longer chunks would save
 * another round trip at that depth, but past about a quarter of the rollup the planner reads it
 * all with a hash aggregate (a 540-hour chunk: 6.5 ms instead of 1.2 ms for 336 hours).
 */
const FIRST_CHUNK_PAST_START = 168;

/** The time order of a traversal over `keys` (reversed for a previous-page cursor), or null: no window serves it. */
export function timeOrder(keys: readonly OrderKey[], reverse = false): Order | null {
  if (keys[0]?.field !== "timestamp") return null;
  return keys[0].desc !== reverse ? "desc" : "asc";
}

/**
 * The spans of a plan in `order`, read lazily, beyond `beyondMs` when given (descending: spans
 * that start before it; ascending: spans from it on): the base-table edges at from/to and the
 * rollup's whole buckets between them. Of the buckets, only those holding `positions` (of the
 * whole traversal) come one by one; the others of each chunk come summed, as one span.
 */
async function* spansInOrder(sql: Sql, plan: AggregatePlan, order: Order, positions: { from: number; to: number }, beyondMs?: number): AsyncGenerator<Span> {
  const { table, filters: whole } = plan.rollup!;
  const unit = ROLLUPS[table].unitMs;
  const edges: Span[] = [];
  for (const part of plan.base) {
    edges.push({ from: epochMs(part.from!).ms, to: epochMs(part.to!).ms, outcomes: await countOutcomes(sql, part, { base: [part] }) });
  }
  edges.sort((a, b) => (order === "desc" ? b.from - a.from : a.from - b.from));
  const wholeFrom = whole.from === undefined ? Number.NEGATIVE_INFINITY : epochMs(whole.from).ms;
  const beyond = (span: Span) => beyondMs === undefined || (order === "desc" ? span.from < beyondMs : span.from >= beyondMs);
  const isFirst = (edge: Span) => (order === "desc" ? edge.from >= wholeFrom : edge.to <= wholeFrom);
  let seen = 0;
  for (const edge of edges.filter(isFirst)) {
    if (!beyond(edge)) continue;
    seen += edge.outcomes;
    yield edge;
  }
  // Positions still to pass in the buckets: the chunks before them come as one span each (skipped
  // whole), the buckets that hold them one by one, and nothing more of a chunk is sent.
  const wanted = { from: Math.max(0, positions.from - seen), to: Math.max(0, positions.to - seen) };
  // Where the traversal enters and leaves the bucket starting at `start`.
  const entering = (start: number) => (order === "desc" ? start + unit : start);
  const leaving = (start: number) => (order === "desc" ? start : start + unit);
  let bound = beyondMs;
  for (let limit = wanted.from > 0 ? FIRST_CHUNK_PAST_START : FIRST_CHUNK; ; limit *= 2) {
    const chunk = await bucketChunk(sql, table, whole, order, limit, wanted, bound);
    if (chunk.lastStart === null) break;
    const first = chunk.held[0];
    const passed = first ? first.before : chunk.outcomes;
    // A span of no length where the skipped buckets end: it is passed whole, its bounds never read.
    const passedAt = first ? entering(first.start) : leaving(chunk.lastStart);
    if (passed > 0) yield { from: passedAt, to: passedAt, outcomes: passed };
    for (const b of chunk.held) yield { from: b.start, to: b.start + unit, outcomes: b.outcomes };
    const last = chunk.held[chunk.held.length - 1];
    // The rest of the chunk, after the buckets that hold the positions.
    const after = chunk.outcomes - (last ? last.before + last.outcomes : passed);
    const endAt = leaving(chunk.lastStart);
    if (after > 0) yield { from: endAt, to: endAt, outcomes: after };
    if (chunk.buckets < limit) break;
    wanted.from = Math.max(0, wanted.from - chunk.outcomes);
    wanted.to = Math.max(0, wanted.to - chunk.outcomes);
    bound = endAt;
  }
  for (const edge of edges.filter((e) => !isFirst(e))) if (beyond(edge)) yield edge;
}

/** `filters` narrowed to [from, to) (undefined: that side stays as it was), never widened. */
function narrowed(filters: Filters, from: number | undefined, to: number | undefined): Filters {
  const out = { ...filters };
  if (from !== undefined && (filters.from === undefined || epochMs(filters.from).ms < from)) out.from = pgInstant(from);
  if (to !== undefined && (filters.to === undefined || epochMs(filters.to).ms > to)) out.to = pgInstant(to);
  return out;
}

/** The span's bounds as a window from `start` to `end` in the order's direction. */
const windowOf = (order: Order, start: Span, end: Span | undefined): [number | undefined, number | undefined] =>
  order === "desc" ? [end?.from, start.to] : [start.from, end?.to];

/** Whether a page over `filters` in the order of `keys` is read in a window (pure: decided before any query). */
export function hasWindow(filters: Filters, keys: readonly OrderKey[]): boolean {
  return timeOrder(keys) !== null && planAggregate(filters).rollup !== undefined && filters.matchNothing !== true;
}

/** Where positions [offset, offset + limit) of a timestamp-ordered page are, or null when no rollup serves the page. */
export async function pageWindow(sql: Sql, filters: Filters, keys: readonly OrderKey[], offset: number, limit: number): Promise<PageWindow | null> {
  const order = timeOrder(keys);
  const plan = planAggregate(filters);
  if (order === null || !plan.rollup) return null;
  let skip = 0;
  let start: Span | undefined;
  let inWindow = 0;
  for await (const span of spansInOrder(sql, plan, order, { from: offset, to: offset + limit })) {
    if (!start) {
      if (skip + span.outcomes <= offset) {
        skip += span.outcomes;
        continue;
      }
      start = span;
    }
    inWindow += span.outcomes;
    if (skip + inWindow >= offset + limit) {
      const [from, to] = windowOf(order, start, span);
      return { filters: narrowed(filters, from, to), skip };
    }
  }
  // Past the end: nothing to read. Else the page runs to the last row, open on the far side.
  if (!start) return { filters: { ...filters, matchNothing: true }, skip };
  const [from, to] = windowOf(order, start, undefined);
  return { filters: narrowed(filters, from, to), skip };
}

/**
 * The window of the `limit` rows beyond a cursor at `cursorTimestamp` in the traversal's order
 * (`reverse` for a previous-page link), or null when no rollup serves it. The cursor's own bucket
 * is counted as nothing (how much of it lies beyond the cursor is unknown), so the window always
 * holds the whole next page.
 */
export async function cursorWindow(
  sql: Sql,
  filters: Filters,
  keys: readonly OrderKey[],
  cursorTimestamp: string,
  reverse: boolean,
  limit: number,
): Promise<Filters | null> {
  const order = timeOrder(keys, reverse);
  const plan = planAggregate(filters);
  if (order === null || !plan.rollup) return null;
  const unit = ROLLUPS[plan.rollup.table].unitMs;
  const at = epochMs(cursorTimestamp).ms;
  const bucketStart = Math.floor(at / unit) * unit;
  // Rows at the cursor's own instant may still follow it (ties broken by id): the window includes it.
  const near = order === "desc" ? at + 1 : bucketStart;
  let found = 0;
  for await (const span of spansInOrder(sql, plan, order, { from: 0, to: limit }, order === "desc" ? bucketStart : bucketStart + unit)) {
    found += span.outcomes;
    if (found >= limit) return order === "desc" ? narrowed(filters, span.from, near) : narrowed(filters, near, span.to);
  }
  return order === "desc" ? narrowed(filters, undefined, near) : narrowed(filters, near, undefined);
}

/**
 * The windows to try, narrowest first, for a timestamp-ordered traversal no rollup window serves:
 * each reads the first 1, 4, 16 … of the stored periods the traversal meets (from the cursor at
 * `nearMs` when given, as for cursorWindow), and a try that returns a whole page is the answer.
 * The caller's last try is `last`: every partition beyond the cursor. Empty when there is no order
 * to follow or nothing to narrow.
 */
export function prefixWindows(
  filters: Filters,
  keys: readonly OrderKey[],
  periods: readonly StoredPeriod[],
  cursor?: { timestamp: string; reverse: boolean },
): { tries: Filters[]; last: Filters } {
  const order = timeOrder(keys, cursor?.reverse);
  if (order === null || filters.matchNothing === true) return { tries: [], last: filters };
  const at = cursor ? epochMs(cursor.timestamp).ms : undefined;
  // Rows at the cursor's own instant may still follow it (ties broken by id): the window keeps it.
  const near = at === undefined ? filters : order === "desc" ? narrowed(filters, undefined, at + 1) : narrowed(filters, at, undefined);
  const lo = near.from === undefined ? Number.NEGATIVE_INFINITY : epochMs(near.from).ms;
  const hi = near.to === undefined ? Number.POSITIVE_INFINITY : epochMs(near.to).ms;
  const met = periods.filter((p) => p.to > lo && p.from < hi).toSorted((a, b) => (order === "desc" ? b.from - a.from : a.from - b.from));
  const tries: Filters[] = [];
  for (let k = 1; k < met.length; k *= PREFIX_GROWTH) {
    const edge = met[k - 1]!;
    tries.push(order === "desc" ? narrowed(near, edge.from, undefined) : narrowed(near, undefined, edge.to));
  }
  return { tries, last: near };
}
