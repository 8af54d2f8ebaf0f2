// GET /api/outcomes/breakdown/: the parameters of a breakdown (by, order, limit) checked into a
// Grouping and a GroupOrder, and grouped rows rendered (pure; SQL is in outcomes.grouped.ts).
import { type FieldErrors, invalidQuery } from "../http/errors";
import { renderPrice, subtractDecimals } from "../values/decimals";
import { epochMicros, pgInstantMicros } from "../values/timestamps";
import {
  type Breakdown,
  type BreakdownChange,
  type BreakdownGroup,
  type BreakdownMetrics,
  type BreakdownQuery,
  BY_ACCEPTS,
  DEFAULT_BREAKDOWN_LIMIT,
  DEFAULT_BREAKDOWN_ORDER,
  ORDER_ACCEPTS,
} from "./outcomes.breakdown.schema";
import type { Filters } from "./outcomes.filters";
import { DIMENSIONS, type Dimension, type GroupOrder, type GroupRow, isTimeDimension, METRICS, type Metric } from "./outcomes.grouped";
import { renderCurrencies, roundLikePython2 } from "./outcomes.render";

export interface BreakdownRequest {
  dims: Dimension[];
  order: GroupOrder;
  /** The order as it is applied, e.g. -revenue. */
  orderText: string;
  /** compare=previous_period. */
  compare: boolean;
}

const isDimension = (name: string): name is Dimension => (DIMENSIONS as readonly string[]).includes(name);
const isMetric = (name: string): name is Metric => (METRICS as readonly string[]).includes(name);

function parseBy(text: string | undefined): { dims: Dimension[] } | { error: string } {
  if (text === undefined || text.trim() === "") return { error: `by is required: expected ${BY_ACCEPTS}.` };
  const names = text.split(",").map((name) => name.trim());
  const unknown = names.filter((name) => !isDimension(name));
  if (unknown.length > 0) {
    const listed = unknown.map((name) => JSON.stringify(name)).join(", ");
    return { error: `${listed} ${unknown.length === 1 ? "is not a dimension" : "are not dimensions"}: expected ${BY_ACCEPTS}.` };
  }
  if (names.length > 2) return { error: `${JSON.stringify(text)} names ${names.length} dimensions: expected ${BY_ACCEPTS}.` };
  if (names.length === 2 && names[0] === names[1]) return { error: `${JSON.stringify(text)} names ${names[0]} twice: expected two different dimensions.` };
  return { dims: names as Dimension[] };
}

function parseOrder(text: string | undefined, dims: readonly Dimension[] | undefined): { by: Metric | Dimension; desc: boolean } | { error: string } {
  const given = text === undefined || text === "" ? DEFAULT_BREAKDOWN_ORDER : text;
  const desc = given.startsWith("-");
  const name = desc ? given.slice(1) : given;
  if (isMetric(name)) return { by: name, desc };
  if (dims && isDimension(name) && dims.includes(name)) return { by: name, desc };
  return { error: `${JSON.stringify(given)} is not valid: expected ${ORDER_ACCEPTS}.` };
}

/** by, order and limit of a query that passed the schema; every failing one is named at once. */
export function parseBreakdown(query: BreakdownQuery): BreakdownRequest {
  const errors: FieldErrors = {};
  const by = parseBy(query.by);
  if ("error" in by) errors.by = [by.error];
  const dims = "dims" in by ? by.dims : undefined;
  const order = parseOrder(query.order, dims);
  // An order naming a dimension cannot be judged while by itself is wrong.
  if ("error" in order && (dims || !isDimension((query.order ?? "").replace(/^-/, "")))) errors.order = [order.error];
  const compare = query.compare === "previous_period";
  const compareError = compare ? comparisonError(query, dims) : undefined;
  if (compareError) errors.compare = [compareError];
  if (Object.keys(errors).length > 0 || !dims || "error" in order) throw invalidQuery(errors);
  const limit = query.limit === undefined || query.limit === "" ? DEFAULT_BREAKDOWN_LIMIT : Number(query.limit);
  return { dims, order: { ...order, limit }, orderText: `${order.desc ? "-" : ""}${order.by}`, compare };
}

/** Why compare=previous_period cannot answer this query, or undefined. */
function comparisonError(query: BreakdownQuery, dims: readonly Dimension[] | undefined): string | undefined {
  const { from, to } = query as Record<string, string | undefined>;
  if (!from || !to) return "compare=previous_period needs both from and to: the previous period is the one of the same length just before from.";
  const time = dims?.filter(isTimeDimension) ?? [];
  if (time.length > 0) {
    return `compare=previous_period matches each group with the same group before, which a ${time[0]} bucket never has: expected by without hour, day, week or month.`;
  }
  return undefined;
}

/** The period of the same length just before [from, to), to the microsecond. */
export function previousPeriod(filters: Filters): Filters {
  const from = epochMicros(filters.from!);
  const to = epochMicros(filters.to!);
  return { ...filters, from: pgInstantMicros(from - (to - from)), to: filters.from };
}

/** A signed decimal as the API renders money (renderPrice takes non-negative text). */
function renderSigned(text: string): string {
  return text.startsWith("-") ? `-${renderPrice(text.slice(1))}` : renderPrice(text);
}

export function renderMetrics(row: GroupRow): BreakdownMetrics {
  const outcomes = Number(row.outcomes);
  const wins = Number(row.wins);
  return {
    outcomes,
    wins,
    losses: outcomes - wins,
    win_rate: outcomes === 0 ? 0 : roundLikePython2((wins / outcomes) * 100),
    revenue: renderPrice(row.revenue ?? "0"),
    avg_win_price: row.avg_win_price === null ? null : renderPrice(row.avg_win_price),
    avg_bid_price: row.avg_bid_price === null ? null : renderPrice(row.avg_bid_price),
    profit_margin: renderSigned(row.profit_margin),
    enriched_count: Number(row.enriched),
    revenue_by_currency: renderCurrencies(row.revenue_by_currency),
  };
}

function keyValue(dim: Dimension, text: string | null): string | boolean | null {
  if (text === null) return null;
  return dim === "win_status" || dim === "enriched" ? text === "true" : text;
}

function change(now: BreakdownMetrics, before: BreakdownMetrics | null): BreakdownChange {
  const was = before ?? { outcomes: 0, wins: 0, losses: 0, win_rate: 0, revenue: "0", profit_margin: "0", enriched_count: 0 };
  return {
    outcomes: now.outcomes - was.outcomes,
    wins: now.wins - was.wins,
    losses: now.losses - was.losses,
    win_rate: Number((now.win_rate - was.win_rate).toFixed(2)),
    revenue: renderSigned(subtractDecimals(now.revenue, was.revenue)),
    profit_margin: renderSigned(subtractDecimals(now.profit_margin, was.profit_margin)),
    enriched_count: now.enriched_count - was.enriched_count,
  };
}

/** A bound as ISO-8601 UTC, microseconds only when set. */
const isoText = (instant: string) =>
  pgInstantMicros(epochMicros(instant))
    .replace(/\.000000Z$/, "Z")
    .replace(/(\.\d{3})000Z$/, "$1Z");

const keyId = (row: GroupRow) => JSON.stringify([row.k0, row.k1]);

/**
 * The rows of groupedAggregates (the total first, rank 0) as the breakdown response; with
 * `previous` (every group of the previous period), each group and the total are compared.
 */
export function renderBreakdown(
  rows: readonly GroupRow[],
  request: BreakdownRequest,
  tz: string,
  previous?: { rows: readonly GroupRow[]; filters: Filters },
): Breakdown {
  const [total, ...groups] = rows;
  const before = new Map((previous?.rows ?? []).filter((row) => row.rank !== "0").map((row) => [keyId(row), renderMetrics(row)]));
  const compared = (metrics: BreakdownMetrics, was: BreakdownMetrics | null) =>
    previous ? { ...metrics, previous: was, change: change(metrics, was) } : metrics;
  const results: BreakdownGroup[] = groups.map((row) => {
    const key: BreakdownGroup["key"] = {};
    request.dims.forEach((dim, i) => {
      key[dim] = keyValue(dim, i === 0 ? row.k0 : row.k1);
    });
    return { key, ...compared(renderMetrics(row), before.get(keyId(row)) ?? null) };
  });
  const previousTotal = previous?.rows.find((row) => row.rank === "0");
  return {
    by: request.dims,
    tz,
    order: request.orderText,
    limit: request.order.limit!,
    groups: Number(total!.groups),
    results,
    total: compared(renderMetrics(total!), previousTotal ? renderMetrics(previousTotal) : null),
    ...(previous ? { previous_period: { from: isoText(previous.filters.from!), to: isoText(previous.filters.to!) } } : {}),
  };
}
