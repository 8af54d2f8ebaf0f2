// Rows → JSON records and aggregates. Prices stay decimal text; timestamps become ISO-8601 Z.
import { aggregateNumber, renderPrice } from "../values/decimals";
import { isoUtc } from "../values/timestamps";
import type { TopRow } from "./outcomes.aggregates";
import type { GroupRow } from "./outcomes.grouped";
import type { OutcomeRow } from "./outcomes.repository";
import type { DailyStat, OutcomeDetail, OutcomeRecord, OutcomeStats, TopList } from "./outcomes.schema";

export function renderOutcome(row: OutcomeRow): OutcomeRecord {
  return {
    id: Number(row.id),
    bid_id: row.bid_id,
    user_id: row.user_id,
    site_domain: row.site_domain,
    win_status: row.win_status,
    win_price: renderPrice(row.win_price),
    bid_price: renderPrice(row.bid_price),
    currency: row.currency,
    enriched: row.enriched,
    timestamp: isoUtc(row.timestamp),
    auction_timestamp: isoUtc(row.auction_timestamp),
    user_interests: row.user_interests,
    is_winner: row.win_status,
    profit_margin: Number(row.profit_margin),
    created_at: isoUtc(row.created_at),
    updated_at: isoUtc(row.updated_at),
  };
}

export function renderOutcomeDetail(row: OutcomeRow): OutcomeDetail {
  return { ...renderOutcome(row), raw_data: row.raw_data };
}

/**
 * Python's round(x, 2), which the original applied to wins / total * 100: rounds the double's
 * exact binary value, and an exact tie goes to the even digit (1/32 → 3.125 → 3.12, 1/160 → 0.62).
 * toFixed rounds the exact value too but sends ties up, so ties are settled here. A double with
 * a tie at the third decimal is n/8 with n odd, and then x * 8 and x * 100 are exact.
 */
export function roundLikePython2(x: number): number {
  const eighths = x * 8;
  if (Number.isInteger(eighths) && eighths % 2 !== 0) {
    const down = Math.floor(x * 100);
    return (down % 2 === 0 ? down : down + 1) / 100;
  }
  return Number(x.toFixed(2));
}

/** Revenue per currency code, each an exact decimal with at least 2 fractional digits. */
export function renderCurrencies(byCurrency: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(byCurrency).map(([currency, revenue]) => [currency, renderPrice(revenue)]));
}

/** The total row of groupedAggregates (rank 0) as stats/. */
export function renderStats(row: GroupRow): OutcomeStats {
  const total = Number(row.outcomes);
  const wins = Number(row.wins);
  return {
    total_outcomes: total,
    total_wins: wins,
    total_losses: total - wins,
    total_revenue: aggregateNumber(row.revenue) as number,
    average_win_price: aggregateNumber(row.avg_win_price) as number,
    average_bid_price: aggregateNumber(row.avg_bid_price) as number,
    enriched_count: Number(row.enriched),
    win_rate: total === 0 ? 0 : roundLikePython2((wins / total) * 100),
    revenue_by_currency: renderCurrencies(row.revenue_by_currency),
  };
}

/** A group of groupedAggregates by day as one entry of daily_stats/. */
export function renderDailyStat(row: GroupRow): DailyStat {
  return {
    date: row.k0!,
    total: Number(row.outcomes),
    wins: Number(row.wins),
    revenue: aggregateNumber(row.revenue, null),
    avg_win_price: aggregateNumber(row.avg_win_price, null),
    revenue_by_currency: renderCurrencies(row.revenue_by_currency),
  };
}

export function renderTopEntry(row: TopRow): TopList["results"][number] {
  return { key: row.key, outcomes: Number(row.total), wins: Number(row.wins), revenue: renderPrice(row.revenue ?? "0") };
}
