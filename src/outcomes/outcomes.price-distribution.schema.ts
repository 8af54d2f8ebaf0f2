// TypeBox schemas of the price distribution endpoint: its query and its answer.
import { type Static, Type } from "@sinclair/typebox";
import { choiceParam } from "../http/params";
import { PRICE_KINDS } from "./outcomes.price-distribution";
import { FilterParams } from "./outcomes.schema";

export const PriceDistributionQuery = Type.Object({
  ...FilterParams,
  price: choiceParam(
    PRICE_KINDS,
    "Which price: bid (bid_price of every matching outcome) or win (win_price; add win_status=true for the prices paid). Default bid.",
  ),
});
export type PriceDistributionQuery = Static<typeof PriceDistributionQuery>;

const Decimal = (description: string) => Type.String({ description, examples: ["0.35"] });
const Estimate = Type.Union([Decimal("Decimal text."), Type.Null()], {
  description: "percentile_cont at this fraction, as decimal text (at least 2 fractional digits); within relative_error_bound of the exact figure.",
});

export const PriceBucket = Type.Object(
  {
    lower: Decimal("Lowest price of the bucket, inclusive (1.1^k to 6 significant digits; 0 for the bucket of price 0)."),
    upper: Decimal("Upper bound, exclusive (1.1^(k+1)); 0 for the bucket of price 0, which holds exactly 0."),
    count: Type.Integer({ description: "Prices in the bucket." }),
  },
  { title: "PriceBucket" },
);

export const CurrencyDistribution = Type.Object(
  {
    currency: Type.String({ minLength: 3, maxLength: 3 }),
    count: Type.Integer({ description: "Prices counted: the matching outcomes in this currency." }),
    min: Decimal("Lowest price, exact."),
    max: Decimal("Highest price, exact."),
    p50: Estimate,
    p90: Estimate,
    p99: Estimate,
    buckets: Type.Array(PriceBucket, { description: "The non-empty buckets, lowest first." }),
  },
  { title: "CurrencyDistribution" },
);

export const PriceDistribution = Type.Object(
  {
    price: Type.Union(PRICE_KINDS.map((k) => Type.Literal(k))),
    source: Type.Union([Type.Literal("rollup"), Type.Literal("exact")], {
      description:
        "rollup: whole hours from the hourly price rollup and the partial hours at from/to from the outcomes, percentiles estimated from the buckets; exact: the outcomes alone (a filter the rollup does not carry: user_id, site_domain, min_price, max_price; or a period holding no whole hour), percentiles exact.",
    }),
    relative_error_bound: Type.Number({
      description: "The largest relative error of p50, p90 and p99 against percentile_cont over the same outcomes: 0.0489 from the rollup, 0 when exact.",
    }),
    bucket_base: Type.Number({ description: "Buckets are [1.1^k, 1.1^(k+1)) plus one bucket for price 0.", examples: [1.1] }),
    results: Type.Array(CurrencyDistribution, { description: "One entry per currency with outcomes, in code order; currencies are never mixed." }),
  },
  { title: "PriceDistribution" },
);
export type PriceDistribution = Static<typeof PriceDistribution>;
