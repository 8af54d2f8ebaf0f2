// What GET /api/outcomes/breakdown/ must answer for fixture rows, computed here from the rows
// themselves: keys read off each row's fields, exact decimal sums, a plain sort. Nothing here
// calls the code under test. Averages are checked by expectMeanText: the API gives PostgreSQL's
// numeric quotient, which must be the exact mean rounded at the digits it shows.
import { expect } from "bun:test";
import { compareDecimals, meanAsNumber, meanRounded, money, subtractDecimals, sumDecimals, winRate } from "./exact-decimal";
import type { StoredOutcome } from "./fixtures";
import { revenueByCurrency } from "./outcomes-model";

export type Dim = "site_domain" | "user_id" | "currency" | "win_status" | "enriched" | "hour" | "day" | "week" | "month";
export const ALL_DIMS: Dim[] = ["site_domain", "user_id", "currency", "win_status", "enriched", "hour", "day", "week", "month"];
export type Metric = "outcomes" | "wins" | "losses" | "win_rate" | "revenue" | "avg_win_price" | "avg_bid_price" | "profit_margin" | "enriched_count";
export const ALL_METRICS: Metric[] = ["outcomes", "wins", "losses", "win_rate", "revenue", "avg_win_price", "avg_bid_price", "profit_margin", "enriched_count"];

/** The Monday (YYYY-MM-DD) of the UTC week holding a YYYY-MM-DD date. */
function mondayOf(date: string): string {
  const ms = Date.parse(`${date}T00:00:00Z`);
  const weekday = (new Date(ms).getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  return new Date(ms - weekday * 86_400_000).toISOString().slice(0, 10);
}

/** A row's key in UTC (fixture timestamps are ISO-8601 Z with 6 fractional digits). */
export function utcKey(row: StoredOutcome, dim: Dim): string | boolean | null {
  switch (dim) {
    case "hour":
      return `${row.timestamp.slice(0, 13)}:00:00Z`;
    case "day":
      return row.timestamp.slice(0, 10);
    case "week":
      return mondayOf(row.timestamp.slice(0, 10));
    case "month":
      return row.timestamp.slice(0, 7);
    default:
      return row[dim];
  }
}

export interface ExpectedGroup {
  key: Record<string, string | boolean | null>;
  members: StoredOutcome[];
}

/** The figures of a set of rows, without the averages (see expectMeans). */
export function figures(rows: readonly StoredOutcome[]) {
  const wins = rows.filter((row) => row.win_status);
  const revenue = sumDecimals(wins.map((row) => row.win_price));
  return {
    outcomes: rows.length,
    wins: wins.length,
    losses: rows.length - wins.length,
    win_rate: winRate(wins.length, rows.length),
    revenue: money(revenue),
    profit_margin: money(subtractDecimals(sumDecimals(wins.map((row) => row.bid_price)), revenue)),
    enriched_count: rows.filter((row) => row.enriched).length,
    revenue_by_currency: revenueByCurrency(rows),
  };
}

/** The API's average is the exact mean rounded at the digits it shows, with at least 16 significant digits unless exact. */
export function expectMeanText(actual: string | null, texts: readonly string[]): void {
  if (texts.length === 0) {
    expect(actual).toBeNull();
    return;
  }
  expect(actual).not.toBeNull();
  const digits = actual!.split(".")[1]!.length;
  expect(money(meanRounded(texts, digits))).toBe(actual!);
  expect(Number(actual)).toBe(meanAsNumber(texts));
  const exact = money(meanRounded(texts, 40)) === money(meanRounded(texts, digits));
  if (!exact) expect(actual!.replace(/^[0.]+/, "").replace(".", "").length).toBeGreaterThanOrEqual(16);
}

export function expectMeans(actual: { avg_win_price: string | null; avg_bid_price: string | null }, rows: readonly StoredOutcome[]): void {
  expectMeanText(
    actual.avg_win_price,
    rows.filter((row) => row.win_status).map((row) => row.win_price),
  );
  expectMeanText(
    actual.avg_bid_price,
    rows.map((row) => row.bid_price),
  );
}

/** Groups of `rows` by `dims` with keys from `keyOf` (UTC by default). */
export function groupRows(rows: readonly StoredOutcome[], dims: readonly Dim[], keyOf = utcKey): ExpectedGroup[] {
  const groups = new Map<string, ExpectedGroup>();
  for (const row of rows) {
    const key = Object.fromEntries(dims.map((dim) => [dim, keyOf(row, dim)]));
    const id = JSON.stringify(key);
    const group = groups.get(id) ?? { key, members: [] };
    group.members.push(row);
    groups.set(id, group);
  }
  return [...groups.values()];
}

function compareKeyValue(a: string | boolean | null, b: string | boolean | null): number {
  if (a === b) return 0;
  if (a === null) return 1; // nulls last
  if (b === null) return -1;
  if (typeof a === "boolean") return a ? 1 : -1; // false before true
  return a < b ? -1 : 1; // code point order ("C" collation); dates and hours are fixed-width
}

/** The order of two groups by a metric, exactly; NaN when an average is missing on one side. */
function metricCompare(a: StoredOutcome[], b: StoredOutcome[], metric: Metric): number {
  const fa = figures(a),
    fb = figures(b);
  const mean = (rows: StoredOutcome[], field: "win_price" | "bid_price", winsOnly: boolean) => {
    const texts = rows.filter((row) => !winsOnly || row.win_status).map((row) => row[field]);
    return texts.length === 0 ? null : meanRounded(texts, 40);
  };
  switch (metric) {
    case "win_rate": {
      const left = BigInt(fa.wins) * BigInt(fb.outcomes),
        right = BigInt(fb.wins) * BigInt(fa.outcomes);
      return left === right ? 0 : left < right ? -1 : 1;
    }
    case "revenue":
      return compareDecimals(fa.revenue, fb.revenue);
    case "profit_margin":
      return signedCompare(fa.profit_margin, fb.profit_margin);
    case "avg_win_price":
    case "avg_bid_price": {
      const field = metric === "avg_win_price" ? "win_price" : "bid_price";
      const x = mean(a, field, metric === "avg_win_price"),
        y = mean(b, field, metric === "avg_win_price");
      if (x === null || y === null) return x === y ? 0 : Number.NaN; // NaN: nulls go last whatever the direction
      return compareDecimals(x, y);
    }
    default:
      return fa[metric] - fb[metric];
  }
}

function signedCompare(a: string, b: string): number {
  const negative = (t: string) => t.startsWith("-");
  if (negative(a) !== negative(b)) return negative(a) ? -1 : 1;
  const magnitude = compareDecimals(a.replace(/^-/, ""), b.replace(/^-/, ""));
  return negative(a) ? -magnitude : magnitude;
}

/** Groups in the API's order: the metric or dimension, then the keys ascending (nulls last); avg nulls last either way. */
export function sortGroups(groups: ExpectedGroup[], dims: readonly Dim[], by: Metric | Dim, desc: boolean): ExpectedGroup[] {
  const byKeys = (a: ExpectedGroup, b: ExpectedGroup) => {
    for (const dim of dims) {
      const c = compareKeyValue(a.key[dim]!, b.key[dim]!);
      if (c !== 0) return c;
    }
    return 0;
  };
  return [...groups].sort((a, b) => {
    let primary: number;
    if ((ALL_METRICS as string[]).includes(by)) {
      primary = metricCompare(a.members, b.members, by as Metric);
      if (Number.isNaN(primary)) {
        const aNull = by === "avg_win_price" ? !a.members.some((r) => r.win_status) : a.members.length === 0;
        return aNull ? 1 : -1;
      }
    } else {
      const ka = a.key[by]!,
        kb = b.key[by]!;
      if (ka === null || kb === null) return ka === kb ? byKeys(a, b) : ka === null ? 1 : -1;
      primary = compareKeyValue(ka, kb);
    }
    if (desc) primary = -primary;
    return primary || byKeys(a, b);
  });
}
