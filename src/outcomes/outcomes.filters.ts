// Query strings → one Filters value → SQL fragments. Every outcomes endpoint builds its
// WHERE clause here, so list, winners, stats and daily_stats can never disagree.
import type { Sql } from "../db/client";
import { invalidQuery, type FieldErrors } from "../api/errors";
import { parseIsoTimestamp } from "./timestamps";
import type { OutcomeFilterQuery } from "./outcomes.schema";

export interface Filters {
  userId?: string;
  siteDomain?: string;
  winStatus?: boolean;
  enriched?: boolean;
  /** Decimal text, compared as numeric in SQL. */
  minPrice?: string;
  maxPrice?: string;
  currency?: string;
  /** Normalised ISO-8601 with offset; from inclusive, to exclusive. */
  from?: string;
  to?: string;
  /** Prefix of bid_id, user_id or site_domain (any of them). */
  search?: string;
  /** Set when the filters contradict each other (winners/ with win_status=false). */
  matchNothing?: boolean;
}

export function parseBooleanText(text: string): boolean {
  return ["true", "1", "yes"].includes(text.toLowerCase());
}

function compareDecimals(a: string, b: string): number {
  const [ai, af = ""] = a.split(".") as [string, string?];
  const [bi, bf = ""] = b.split(".") as [string, string?];
  const width = Math.max(af.length, bf.length);
  const scaled = (i: string, f: string) => BigInt(i + f.padEnd(width, "0"));
  const diff = scaled(ai, af) - scaled(bi, bf);
  return diff === 0n ? 0 : diff < 0n ? -1 : 1;
}

/** Turns already pattern-checked parameters into Filters; cross-parameter rules are checked here. */
export function parseFilters(query: OutcomeFilterQuery & { search?: string }): Filters {
  const filters: Filters = {};
  const errors: FieldErrors = {};
  // Empty values are ignored, as the original did (clients send `site_domain=`).
  if (query.user_id) filters.userId = query.user_id;
  if (query.site_domain) filters.siteDomain = query.site_domain;
  if (query.win_status) filters.winStatus = parseBooleanText(query.win_status);
  if (query.enriched) filters.enriched = parseBooleanText(query.enriched);
  if (query.min_price) filters.minPrice = query.min_price;
  if (query.max_price) filters.maxPrice = query.max_price;
  if (query.currency) filters.currency = query.currency.toUpperCase();
  if (query.search) filters.search = query.search;
  // PostgreSQL text cannot hold NUL: refuse it here rather than fail in SQL.
  if (query.search?.includes("\u0000")) errors.search = ["The search text contains a NUL character: expected printable text."];
  for (const bound of ["from", "to"] as const) {
    const text = query[bound];
    if (!text) continue;
    const parsed = parseIsoTimestamp(text);
    if (parsed) filters[bound] = parsed;
    else errors[bound] = [`${JSON.stringify(text)} is not a real date or time: expected an ISO-8601 date or date-time, e.g. 2025-10-01T12:00:00Z.`];
  }
  if (filters.minPrice && filters.maxPrice && compareDecimals(filters.minPrice, filters.maxPrice) > 0) {
    errors.min_price = [`min_price ${filters.minPrice} is greater than max_price ${filters.maxPrice}: expected min_price ≤ max_price.`];
  }
  if (filters.from && filters.to && Date.parse(filters.from) > Date.parse(filters.to)) {
    errors.from = [`from ${query.from} is after to ${query.to}: expected from ≤ to.`];
  }
  if (Object.keys(errors).length > 0) throw invalidQuery(errors);
  return filters;
}

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
function searchCondition(sql: Sql, prefix: string) {
  const { low, high } = prefixRange(prefix);
  const column = (name: "bid_id" | "user_id" | "site_domain") =>
    high === null ? sql`${sql(name)} >= ${low}` : sql`(${sql(name)} >= ${low} and ${sql(name)} < ${high})`;
  return sql`(${column("bid_id")} or ${column("user_id")} or ${column("site_domain")})`;
}

/** `where …` for the base table; `true` when nothing filters. Values are always bound, never spliced. */
export function whereClause(sql: Sql, f: Filters) {
  const parts = [
    f.matchNothing === true && sql`false`,
    f.userId !== undefined && sql`user_id = ${f.userId}`,
    f.siteDomain !== undefined && sql`site_domain = ${f.siteDomain}`,
    f.winStatus !== undefined && sql`win_status = ${f.winStatus}`,
    f.enriched !== undefined && sql`enriched = ${f.enriched}`,
    f.minPrice !== undefined && sql`win_price >= ${f.minPrice}::numeric`,
    f.maxPrice !== undefined && sql`win_price <= ${f.maxPrice}::numeric`,
    f.currency !== undefined && sql`currency = ${f.currency}`,
    f.from !== undefined && sql`"timestamp" >= ${f.from}::timestamptz`,
    f.to !== undefined && sql`"timestamp" < ${f.to}::timestamptz`,
    f.search !== undefined && searchCondition(sql, f.search),
  ].filter((part) => part !== false);
  if (parts.length === 0) return sql`where true`;
  return parts.slice(1).reduce((acc, part) => sql`${acc} and ${part}`, sql`where ${parts[0]!}`);
}
