// Price distributions per currency: the price bins of the matching outcomes, from the hourly
// price rollup (migration 015) for whole hours and the base table for the edges, or, for a filter
// the rollup does not carry, from the base table alone with exact percentiles.
import type { Sql } from "../db/client";
import { unionAll } from "../db/fragments";
import { rollupWhere } from "./outcomes.aggregates";
import { type Filters, whereClause } from "./outcomes.filters";
import { type BinRow, PERCENTILES, type PercentileName } from "./outcomes.price-bins";
import { type AggregatePlan, planAggregateOn } from "./outcomes.rollup-plan";

export const PRICE_KINDS = ["bid", "win"] as const;
export type PriceKind = (typeof PRICE_KINDS)[number];

/** Public name → column: user text never reaches SQL. */
const PRICE_COLUMN: Record<PriceKind, "bid_price" | "win_price"> = { bid: "bid_price", win: "win_price" };

export interface CurrencyBins {
  currency: string;
  bins: BinRow[];
}

/**
 * The plan: the price rollup keeps exactly the hourly rollup's key (hour, currency, win_status,
 * enriched), so the hourly plan's whole hours are its own; no plan means the base table alone.
 */
export function planPriceDistribution(filters: Filters): AggregatePlan {
  return planAggregateOn(filters, "hourly");
}

interface BinSqlRow {
  currency: string;
  bin: number;
  outcomes: string;
  min_price: string;
  max_price: string;
}

/** Every currency's bins over the outcomes matching `filters`, currencies in code order. */
export async function priceBins(sql: Sql, filters: Filters, price: PriceKind, plan = planPriceDistribution(filters)): Promise<CurrencyBins[]> {
  const column = sql(PRICE_COLUMN[price]);
  const parts = plan.base.map(
    (f) => sql`
      select currency, helios_price_bin(${column}) as bin, count(*) as outcomes, min(${column}) as min_price, max(${column}) as max_price
      from auction_outcomes ${whereClause(sql, f)} group by 1, 2`,
  );
  if (plan.rollup) {
    parts.push(sql`
      select currency, bin, sum(outcomes) as outcomes, min(min_price) as min_price, max(max_price) as max_price
      from outcome_rollup_price_hourly ${rollupWhere(sql, "hourly", plan.rollup.filters)} and price = ${price}
      group by 1, 2`);
  }
  const rows = await sql<BinSqlRow[]>`
    select currency, bin::int as bin, sum(outcomes)::text as outcomes, min(min_price)::text as min_price, max(max_price)::text as max_price
    from (${unionAll(sql, parts)}) parts
    group by 1, 2 having sum(outcomes) > 0 order by 1, 2`;
  const byCurrency = new Map<string, BinRow[]>();
  for (const row of rows) {
    const bins = byCurrency.get(row.currency) ?? [];
    bins.push({ bin: row.bin, outcomes: Number(row.outcomes), min: row.min_price, max: row.max_price });
    byCurrency.set(row.currency, bins);
  }
  return [...byCurrency].map(([currency, bins]) => ({ currency, bins }));
}

/**
 * percentile_cont's p50, p90 and p99 per currency in exact decimals, from the base table: the two
 * order statistics around q·(n − 1), interpolated in numeric (percentile_cont itself works in
 * float8). Sorts every matching row: only for filters the rollup does not carry.
 */
export async function exactPercentiles(sql: Sql, filters: Filters, price: PriceKind): Promise<Map<string, Record<PercentileName, string>>> {
  const column = sql(PRICE_COLUMN[price]);
  const names = PERCENTILES.map(([name]) => name);
  const quantiles = PERCENTILES.map(([, q]) => String(q));
  const rows = await sql<{ currency: string; name: PercentileName; value: string }[]>`
    with v as (
      select currency, ${column} as value,
             row_number() over (partition by currency order by ${column}) - 1 as rank,
             count(*) over (partition by currency) as n
      from auction_outcomes ${whereClause(sql, filters)}
    ), wanted as (
      select c.currency, q.name, q.q * (c.n - 1) as h
      from (select distinct currency, n from v) c
           cross join unnest(${names}::text[], ${quantiles}::numeric[]) as q (name, q)
    )
    select w.currency, w.name,
           (min(v.value) filter (where v.rank = floor(w.h))
             + (w.h - floor(w.h)) * (min(v.value) filter (where v.rank = ceil(w.h)) - min(v.value) filter (where v.rank = floor(w.h))))::text as value
    from wanted w join v on v.currency = w.currency and v.rank in (floor(w.h), ceil(w.h))
    group by w.currency, w.name, w.h`;
  const out = new Map<string, Record<PercentileName, string>>();
  for (const row of rows) {
    const entry = out.get(row.currency) ?? ({} as Record<PercentileName, string>);
    entry[row.name] = row.value;
    out.set(row.currency, entry);
  }
  return out;
}
