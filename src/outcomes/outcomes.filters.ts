// Every filter of the outcomes endpoints, declared once: its query parameter, how the checked text
// becomes a value, its condition on the base table, and how a rollup answers it (a rollup column,
// a time bound the plan aligns to buckets, or "not on rollups": the base table answers). The query
// schema, parseFilters, the WHERE clauses and the rollup plan are all derived from this table, so
// list, winners, stats and daily_stats can never disagree, and a filter cannot be half-added.
import type { Sql } from "../db/client";
import { type Fragment, whereAll } from "../db/fragments";
import { type FieldErrors, invalidQuery } from "../http/errors";
import { booleanParam, instantParam, param, parseBooleanText } from "../http/params";
import { compareDecimals } from "../values/decimals";
import { compareInstants, parseIsoTimestamp } from "../values/timestamps";

/** A column every rollup table that carries it has under the same name (see outcomes.rollup-plan.ts). */
export type RollupColumn = "site_domain" | "win_status" | "enriched" | "currency";

export type RollupSupport =
  /** Equality on this rollup column. */
  | { column: RollupColumn }
  /** A bound of the period: the plan answers whole buckets from a rollup and the edges from the base table. */
  | { bound: "from" | "to" }
  /** No rollup carries it: any aggregate with this filter reads the base table. */
  | "not on rollups";

type Parsed<T> = { value: T } | { error: string } | undefined;

interface FilterSpec<T> {
  /** The query parameter, as clients send it. */
  param: string;
  schema: ReturnType<typeof param>;
  /** Text that already passed the schema → the value; undefined ignores the parameter. */
  parse(text: string): Parsed<T>;
  base(sql: Sql, value: T): Fragment;
  rollup: RollupSupport;
  /** Only on list-shaped endpoints (not on the aggregates). */
  listOnly?: true;
  /** A value the table's own tests filter by. */
  example: string;
}

const filter = <T>(spec: FilterSpec<T>) => spec;

const PRICE_TEXT = "^\\d{1,12}(\\.\\d{1,6})?$";
const PRICE_ACCEPTS = "a decimal number ≥ 0 with at most 12 integer and 6 fractional digits";

/** Empty values are ignored, as the original did (clients send `site_domain=`). */
const text = (value: string): Parsed<string> => (value ? { value } : undefined);
const flag = (value: string): Parsed<boolean> => (value ? { value: parseBooleanText(value) } : undefined);
const instant = (value: string): Parsed<string> => {
  if (!value) return undefined;
  const parsed = parseIsoTimestamp(value);
  return parsed
    ? { value: parsed }
    : { error: `${JSON.stringify(value)} is not a real date or time: expected an ISO-8601 date or date-time, e.g. 2025-10-01T12:00:00Z.` };
};

/**
 * The strings that start with `prefix` are exactly those in [low, high) in code point order,
 * which is the byte order of UTF-8 and so of the "C" collation the searched columns use:
 * `high` is the prefix with its last code point incremented (null when no string is above).
 */
export function prefixRange(prefix: string): { low: string; high: string | null } {
  const points = Array.from(prefix, (ch) => ch.codePointAt(0)!);
  while (points.length > 0) {
    let last = points.pop()! + 1;
    if (last === 0xd800) last = 0xe000; // surrogates are not characters: skip them
    if (last <= 0x10ffff) return { low: prefix, high: String.fromCodePoint(...points, last) };
  }
  return { low: prefix, high: null };
}

/**
 * Prefix search as a range rather than `LIKE $1 || '%'`: the planner turns LIKE into an index
 * range only for a pattern it can see, and postgres.js runs prepared statements whose generic
 * plan cannot, so a cached plan fell back to a sequential scan (measured on PostgreSQL 15).
 * A bound range stays a BitmapOr of the three btree indexes these columns lead.
 */
function searchCondition(sql: Sql, prefix: string): Fragment {
  const { low, high } = prefixRange(prefix);
  const column = (name: "bid_id" | "user_id" | "site_domain") =>
    high === null ? sql`${sql(name)} >= ${low}` : sql`(${sql(name)} >= ${low} and ${sql(name)} < ${high})`;
  return sql`(${column("bid_id")} or ${column("user_id")} or ${column("site_domain")})`;
}

export const FILTERS = {
  userId: filter<string>({
    param: "user_id",
    schema: param({ description: "Only outcomes of this user (exact match).", accepts: "a user id of at most 255 characters" }),
    parse: text,
    base: (sql, v) => sql`user_id = ${v}`,
    rollup: "not on rollups",
    example: "u-alice",
  }),
  siteDomain: filter<string>({
    param: "site_domain",
    schema: param({ description: "Only outcomes on this site domain (exact match).", accepts: "a site domain of at most 255 characters" }),
    parse: text,
    base: (sql, v) => sql`site_domain = ${v}`,
    rollup: { column: "site_domain" },
    example: "example.com",
  }),
  winStatus: filter<boolean>({
    param: "win_status",
    schema: booleanParam("Only won (true) or lost (false) auctions."),
    parse: flag,
    base: (sql, v) => sql`win_status = ${v}`,
    rollup: { column: "win_status" },
    example: "true",
  }),
  enriched: filter<boolean>({
    param: "enriched",
    schema: booleanParam("Only enriched (true) or not enriched (false) bids."),
    parse: flag,
    base: (sql, v) => sql`enriched = ${v}`,
    rollup: { column: "enriched" },
    example: "false",
  }),
  minPrice: filter<string>({
    param: "min_price",
    schema: param({ pattern: PRICE_TEXT, maxLength: 32, description: "Lowest win_price, inclusive.", accepts: `${PRICE_ACCEPTS}, e.g. 0.50` }),
    parse: text,
    base: (sql, v) => sql`win_price >= ${v}::numeric`,
    rollup: "not on rollups",
    example: "0.2",
  }),
  maxPrice: filter<string>({
    param: "max_price",
    schema: param({ pattern: PRICE_TEXT, maxLength: 32, description: "Highest win_price, inclusive.", accepts: `${PRICE_ACCEPTS}, e.g. 1.00` }),
    parse: text,
    base: (sql, v) => sql`win_price <= ${v}::numeric`,
    rollup: "not on rollups",
    example: "0.7",
  }),
  currency: filter<string>({
    param: "currency",
    schema: param({
      pattern: "^[A-Za-z]{3}$",
      maxLength: 3,
      description: "Only outcomes in this currency (ISO 4217 code, case-insensitive).",
      accepts: "a 3-letter currency code such as USD",
    }),
    parse: (v) => (v ? { value: v.toUpperCase() } : undefined),
    base: (sql, v) => sql`currency = ${v}`,
    rollup: { column: "currency" },
    example: "eur",
  }),
  from: filter<string>({
    param: "from",
    schema: instantParam(
      "Auctions at or after this instant (inclusive), ISO-8601; a date means its midnight UTC, no zone means UTC.",
      "2025-10-01 or 2025-10-01T12:00:00Z",
    ),
    parse: instant,
    base: (sql, v) => sql`"timestamp" >= ${v}::timestamptz`,
    rollup: { bound: "from" },
    example: "2025-10-24T06:00:00Z",
  }),
  to: filter<string>({
    param: "to",
    schema: instantParam(
      "Auctions before this instant (exclusive), ISO-8601; a date means its midnight UTC, no zone means UTC.",
      "2025-10-02 or 2025-10-01T13:00:00Z",
    ),
    parse: instant,
    base: (sql, v) => sql`"timestamp" < ${v}::timestamptz`,
    rollup: { bound: "to" },
    example: "2025-10-26T00:00:00.000001Z",
  }),
  search: filter<string>({
    param: "search",
    schema: param({
      description: "Prefix search: outcomes whose bid_id, user_id or site_domain starts with this text (case-sensitive, byte order). Ignored when empty.",
      accepts: "text of at most 255 characters",
    }),
    // PostgreSQL text cannot hold NUL: refuse it here rather than fail in SQL.
    parse: (v) => (!v ? undefined : v.includes("\u0000") ? { error: "The search text contains a NUL character: expected printable text." } : { value: v }),
    base: searchCondition,
    rollup: "not on rollups",
    listOnly: true,
    example: "b-1",
  }),
};

export type FilterName = keyof typeof FILTERS;
type ValueOf<K extends FilterName> = (typeof FILTERS)[K] extends FilterSpec<infer T> ? T : never;

/** The filters of one request, as values (prices stay decimal text; instants are normalised ISO-8601). */
export type Filters = { [K in FilterName]?: ValueOf<K> } & {
  /** Set when the filters contradict each other (winners/ with win_status=false). */
  matchNothing?: boolean;
};

export const FILTER_NAMES = Object.keys(FILTERS) as FilterName[];

/** The query schema's properties of the filters, aggregates' (`list: false`) or lists'. */
export function filterParams(list: boolean): Record<string, ReturnType<typeof param>> {
  return Object.fromEntries(FILTER_NAMES.filter((name) => list || !FILTERS[name].listOnly).map((name) => [FILTERS[name].param, FILTERS[name].schema]));
}

/** Each active filter with its spec, in table order. */
export function activeFilters(filters: Filters): { name: FilterName; value: unknown; spec: FilterSpec<unknown> }[] {
  return FILTER_NAMES.filter((name) => filters[name] !== undefined).map((name) => ({
    name,
    value: filters[name],
    spec: FILTERS[name] as FilterSpec<unknown>,
  }));
}

/** Rules between parameters, checked once each parameter is valid on its own. */
function crossParameterErrors(filters: Filters, query: Record<string, string | undefined>): FieldErrors {
  const errors: FieldErrors = {};
  if (filters.minPrice && filters.maxPrice && compareDecimals(filters.minPrice, filters.maxPrice) > 0) {
    errors.min_price = [`min_price ${filters.minPrice} is greater than max_price ${filters.maxPrice}: expected min_price ≤ max_price.`];
  }
  if (filters.from && filters.to && compareInstants(filters.from, filters.to) > 0) {
    errors.from = [`from ${query.from} is after to ${query.to}: expected from ≤ to.`];
  }
  return errors;
}

/** Turns already pattern-checked parameters into Filters; every failing parameter is named at once. */
export function parseFilters(query: Record<string, string | undefined>): Filters {
  const filters: Record<string, unknown> = {};
  const errors: FieldErrors = {};
  for (const name of FILTER_NAMES) {
    const spec = FILTERS[name] as FilterSpec<unknown>;
    const raw = query[spec.param];
    if (raw === undefined) continue;
    const parsed = spec.parse(raw);
    if (parsed === undefined) continue;
    if ("error" in parsed) errors[spec.param] = [parsed.error];
    else filters[name] = parsed.value;
  }
  Object.assign(errors, crossParameterErrors(filters as Filters, query));
  if (Object.keys(errors).length > 0) throw invalidQuery(errors);
  return filters as Filters;
}

/** `where …` for the base table; `where true` when nothing filters. Values are always bound, never spliced. */
export function whereClause(sql: Sql, f: Filters): Fragment {
  const parts = activeFilters(f).map(({ spec, value }) => spec.base(sql, value));
  return whereAll(sql, f.matchNothing === true ? [sql`false`, ...parts] : parts);
}
