// GET /api/outcomes/price_distribution/: percentiles and a histogram of bid or win prices per
// currency, for every filter of the aggregates (its own plugin, beside the outcomes routes).
import { Elysia } from "elysia";
import type { Sql } from "../db/client";
import { invalidParameterResponse, jsonResponse, openApiQueryParameters } from "../http/openapi";
import { validateQuery } from "../http/query";
import { renderPrice } from "../values/decimals";
import { AggregateCache } from "./aggregate-cache";
import { parseFilters } from "./outcomes.filters";
import { BIN_BASE, binBounds, extremes, PERCENTILES, type PercentileName, percentileFromBins, RELATIVE_ERROR_BOUND } from "./outcomes.price-bins";
import { type CurrencyBins, exactPercentiles, type PriceKind, planPriceDistribution, priceBins } from "./outcomes.price-distribution";
import { PriceDistribution, PriceDistributionQuery } from "./outcomes.price-distribution.schema";

/** The answer from the bins and, when the base table answered alone, its exact percentiles. */
export function renderPriceDistribution(
  price: PriceKind,
  currencies: readonly CurrencyBins[],
  exact: Map<string, Record<PercentileName, string>> | null,
): PriceDistribution {
  return {
    price,
    source: exact ? "exact" : "rollup",
    relative_error_bound: exact ? 0 : RELATIVE_ERROR_BOUND,
    bucket_base: BIN_BASE,
    results: currencies.map(({ currency, bins }) => {
      const range = extremes(bins)!;
      const percentile = (name: PercentileName, q: number) => {
        const value = exact ? (exact.get(currency)?.[name] ?? null) : percentileFromBins(bins, q);
        return value === null ? null : renderPrice(value);
      };
      const figures = Object.fromEntries(PERCENTILES.map(([name, q]) => [name, percentile(name, q)])) as Record<PercentileName, string | null>;
      return {
        currency,
        count: bins.reduce((sum, b) => sum + b.outcomes, 0),
        min: renderPrice(range.min),
        max: renderPrice(range.max),
        ...figures,
        buckets: bins.map((b) => {
          const { lower, upper } = binBounds(b.bin);
          return { lower: renderPrice(lower), upper: renderPrice(upper), count: b.outcomes };
        }),
      };
    }),
  };
}

/** `cache` keeps answers until the data changes, as for the other aggregates. */
export function priceDistributionRoutes(sql: Sql, cache: AggregateCache = AggregateCache.disabled()) {
  return new Elysia({ name: "price-distribution-routes" }).get(
    "/api/outcomes/price_distribution/",
    async ({ request }): Promise<PriceDistribution> => {
      const query = validateQuery(PriceDistributionQuery, new URL(request.url).searchParams);
      const filters = parseFilters(query);
      // Optional like every parameter of the API: bid prices by default, as interval= and by= have theirs.
      const price: PriceKind = query.price === "win" ? "win" : "bid";
      return cache.answer(`price-distribution ${JSON.stringify([filters, price])}`, async () => {
        const plan = planPriceDistribution(filters);
        const [currencies, exact] = await Promise.all([
          priceBins(sql, filters, price, plan),
          plan.rollup ? Promise.resolve(null) : exactPercentiles(sql, filters, price),
        ]);
        return renderPriceDistribution(price, currencies, exact);
      });
    },
    {
      detail: {
        tags: ["outcomes"],
        summary: "Bid or win price distribution per currency: p50, p90, p99 and a histogram",
        parameters: openApiQueryParameters(PriceDistributionQuery),
        responses: {
          200: jsonResponse(PriceDistribution, "Per currency: count, exact min and max, percentiles and the non-empty logarithmic buckets."),
          400: invalidParameterResponse,
        },
      },
    },
  );
}
