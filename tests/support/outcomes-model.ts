// What the API must answer for the fixture rows, computed here from the rows themselves:
// plain predicates, a plain sort and exact decimal sums. Nothing here calls the code under test.
import { compareDecimals, meanAsNumber, money, sumDecimals, winRate } from "./exact-decimal";
import type { StoredOutcome } from "./fixtures";

/** The fields of an outcome record, in the original's order (its detail serializer): the contract clients rely on. */
export const RECORD_FIELDS = [
  "id",
  "bid_id",
  "user_id",
  "site_domain",
  "win_status",
  "win_price",
  "bid_price",
  "currency",
  "enriched",
  "timestamp",
  "auction_timestamp",
  "user_interests",
  "is_winner",
  "profit_margin",
  "created_at",
  "updated_at",
] as const;

export type SortField = "timestamp" | "win_price" | "bid_price" | "created_at" | "id";
export type SortKey = [SortField, "asc" | "desc"];

function compareField(a: StoredOutcome, b: StoredOutcome, field: SortField): number {
  switch (field) {
    case "id":
      return a.id - b.id;
    case "win_price":
    case "bid_price":
      return compareDecimals(a[field], b[field]);
    case "timestamp":
    case "created_at":
      // Fixture instants share one fixed-width format, so text order is time order.
      return a[field] < b[field] ? -1 : a[field] > b[field] ? 1 : 0;
  }
}

/** Ids in the order of `keys` (the caller spells out the id tie-breaker it expects). */
export function sortedIds(rows: readonly StoredOutcome[], keys: SortKey[]): number[] {
  return [...rows]
    .sort((a, b) => {
      for (const [field, direction] of keys) {
        const c = compareField(a, b, field);
        if (c !== 0) return direction === "asc" ? c : -c;
      }
      return 0;
    })
    .map((row) => row.id);
}

/** The API's default order: newest first, then highest id first. */
export function newestFirst(rows: readonly StoredOutcome[]): number[] {
  return sortedIds(rows, [
    ["timestamp", "desc"],
    ["id", "desc"],
  ]);
}

export interface ExpectedStats {
  total_outcomes: number;
  total_wins: number;
  total_losses: number;
  total_revenue: number;
  average_win_price: number;
  average_bid_price: number;
  enriched_count: number;
  win_rate: number;
  revenue_by_currency: Record<string, string>;
}

/** Sum of win_price over wins per currency, every currency with outcomes, as the API renders money. */
export function revenueByCurrency(rows: readonly StoredOutcome[]): Record<string, string> {
  const currencies = [...new Set(rows.map((row) => row.currency))].sort();
  return Object.fromEntries(
    currencies.map((currency) => [currency, money(sumDecimals(rows.filter((row) => row.currency === currency && row.win_status).map((row) => row.win_price)))]),
  );
}

export function expectedStats(rows: readonly StoredOutcome[]): ExpectedStats {
  const wins = rows.filter((row) => row.win_status);
  return {
    total_outcomes: rows.length,
    total_wins: wins.length,
    total_losses: rows.length - wins.length,
    total_revenue: Number(sumDecimals(wins.map((row) => row.win_price))),
    average_win_price: wins.length === 0 ? 0 : meanAsNumber(wins.map((row) => row.win_price)),
    average_bid_price: rows.length === 0 ? 0 : meanAsNumber(rows.map((row) => row.bid_price)),
    enriched_count: rows.filter((row) => row.enriched).length,
    win_rate: winRate(wins.length, rows.length),
    revenue_by_currency: revenueByCurrency(rows),
  };
}

export interface ExpectedDay {
  date: string;
  total: number;
  wins: number;
  revenue: number | null;
  avg_win_price: number | null;
  revenue_by_currency: Record<string, string>;
}

/** One entry per UTC day that has outcomes, newest day first. */
export function expectedDailyStats(rows: readonly StoredOutcome[]): ExpectedDay[] {
  const days = [...new Set(rows.map((row) => row.timestamp.slice(0, 10)))].sort().reverse();
  return days.map((date) => {
    const ofDay = rows.filter((row) => row.timestamp.slice(0, 10) === date);
    const wins = ofDay.filter((row) => row.win_status).map((row) => row.win_price);
    return {
      date,
      total: ofDay.length,
      wins: wins.length,
      revenue: wins.length === 0 ? null : Number(sumDecimals(wins)),
      avg_win_price: wins.length === 0 ? null : meanAsNumber(wins),
      revenue_by_currency: revenueByCurrency(ofDay),
    };
  });
}

/**
 * Every filter parameter with a predicate written independently of the code under test.
 * Used on list, winners, stats and daily_stats alike.
 */
export const FILTER_CASES: { query: string; keep: (row: StoredOutcome) => boolean }[] = [
  { query: "", keep: () => true },
  { query: "user_id=u-alice", keep: (r) => r.user_id === "u-alice" },
  { query: "user_id=nobody", keep: () => false },
  { query: "user_id=", keep: () => true },
  { query: "site_domain=example.com", keep: (r) => r.site_domain === "example.com" },
  { query: "site_domain=news.example.org", keep: (r) => r.site_domain === "news.example.org" },
  { query: "site_domain=", keep: () => true },
  { query: "win_status=true", keep: (r) => r.win_status },
  { query: "win_status=false", keep: (r) => !r.win_status },
  { query: "win_status=1", keep: (r) => r.win_status },
  { query: "win_status=no", keep: (r) => !r.win_status },
  { query: "win_status=True", keep: (r) => r.win_status },
  { query: "win_status=NO", keep: (r) => !r.win_status },
  { query: "enriched=true", keep: (r) => r.enriched },
  { query: "enriched=0", keep: (r) => !r.enriched },
  { query: "enriched=yes", keep: (r) => r.enriched },
  { query: "min_price=0.2", keep: (r) => compareDecimals(r.win_price, "0.2") >= 0 },
  { query: "max_price=0.2", keep: (r) => compareDecimals(r.win_price, "0.2") <= 0 },
  { query: "min_price=0.1&max_price=0.7", keep: (r) => compareDecimals(r.win_price, "0.1") >= 0 && compareDecimals(r.win_price, "0.7") <= 0 },
  { query: "min_price=0.000001&max_price=0.000001", keep: (r) => r.win_price === "0.000001" },
  { query: "min_price=1000", keep: (r) => compareDecimals(r.win_price, "1000") >= 0 },
  { query: "currency=EUR", keep: (r) => r.currency === "EUR" },
  { query: "currency=usd", keep: (r) => r.currency === "USD" },
  { query: "currency=GBP", keep: () => false },
  // from is inclusive, to exclusive, to the microsecond, across UTC midnight.
  { query: "from=2025-10-25T00:00:00Z", keep: (r) => r.timestamp >= "2025-10-25T00:00:00.000000Z" },
  { query: "to=2025-10-25T00:00:00Z", keep: (r) => r.timestamp < "2025-10-25T00:00:00.000000Z" },
  { query: "from=2025-10-25T00:00:00.000001Z", keep: (r) => r.timestamp >= "2025-10-25T00:00:00.000001Z" },
  { query: "from=2025-10-24&to=2025-10-25", keep: (r) => r.timestamp >= "2025-10-24T00:00:00.000000Z" && r.timestamp < "2025-10-25T00:00:00.000000Z" },
  {
    query: "from=2025-10-24T23:59:59.999999Z&to=2025-10-25T00:00:00.000001Z",
    keep: (r) => r.timestamp >= "2025-10-24T23:59:59.999999Z" && r.timestamp < "2025-10-25T00:00:00.000001Z",
  },
  // 02:00 at +02:00 is midnight UTC; %2B is the + a client must encode.
  {
    query: "from=2025-10-25T02:00:00%2B02:00&to=2025-10-26T02:00:00%2B02:00",
    keep: (r) => r.timestamp >= "2025-10-25T00:00:00.000000Z" && r.timestamp < "2025-10-26T00:00:00.000000Z",
  },
  { query: "from=2025-10-25T12:00:00.123456Z&to=2025-10-25T12:00:00.123457Z", keep: (r) => r.timestamp === "2025-10-25T12:00:00.123456Z" },
  { query: "from=2025-10-26T09:30:00%2B01:00", keep: (r) => r.timestamp >= "2025-10-26T08:30:00.000000Z" },
  {
    query: "user_id=u-alice&site_domain=example.com&win_status=true&enriched=true&currency=USD&min_price=0.1&max_price=1&from=2025-10-24&to=2025-10-26",
    keep: (r) =>
      r.user_id === "u-alice" &&
      r.site_domain === "example.com" &&
      r.win_status &&
      r.enriched &&
      r.currency === "USD" &&
      compareDecimals(r.win_price, "0.1") >= 0 &&
      compareDecimals(r.win_price, "1") <= 0 &&
      r.timestamp >= "2025-10-24T00:00:00.000000Z" &&
      r.timestamp < "2025-10-26T00:00:00.000000Z",
  },
  {
    query: "site_domain=shop.example.net&from=2025-10-25&to=2025-10-27",
    keep: (r) => r.site_domain === "shop.example.net" && r.timestamp >= "2025-10-25T00:00:00.000000Z" && r.timestamp < "2025-10-27T00:00:00.000000Z",
  },
  { query: "site_domain=example.com&from=2025-10-24T12:00:00Z", keep: (r) => r.site_domain === "example.com" && r.timestamp >= "2025-10-24T12:00:00.000000Z" },
  {
    query: "enriched=false&currency=EUR&from=2025-10-26T08:00:00Z&to=2025-10-26T09:00:00Z",
    keep: (r) => !r.enriched && r.currency === "EUR" && r.timestamp >= "2025-10-26T08:00:00.000000Z" && r.timestamp < "2025-10-26T09:00:00.000000Z",
  },
];
