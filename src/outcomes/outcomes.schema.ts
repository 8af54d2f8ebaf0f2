// TypeBox schemas of the outcomes API: the query parameters (validated from raw strings),
// the JSON records and aggregates. Validation, TS types and the OpenAPI document all use these.
import { type Static, Type } from "@sinclair/typebox";
import { PageParams, pageOf } from "../http/pagination";
import { choiceParam, param } from "../http/params";
import { filterParams } from "./outcomes.filters";
import { TzParam } from "./outcomes.zones";

export const ORDERING_FIELDS = ["timestamp", "win_price", "bid_price", "created_at", "id"] as const;
export type OrderingField = (typeof ORDERING_FIELDS)[number];

const orderingItem = `-?(${ORDERING_FIELDS.join("|")})`;

/** The filters of every outcomes endpoint, from the filter table (outcomes.filters.ts). */
export const FilterParams = filterParams(false);
/** The list endpoints' filters: the aggregates' plus prefix search. */
export const ListFilterParams = filterParams(true);

export const CursorParam = {
  cursor: param({
    pattern: "^[A-Za-z0-9_-]{0,512}$",
    maxLength: 512,
    description:
      "Keyset pagination: send an empty `cursor=` for the first page, then follow the opaque cursors in `next` / `previous`. Replaces `page` and stays fast at any depth.",
    accepts: "a cursor exactly as returned in next or previous",
  }),
};

export const OrderingParam = {
  ordering: param({
    pattern: `^${orderingItem}(,${orderingItem})*$`,
    maxLength: 120,
    description: `Sort order: comma-separated fields of ${ORDERING_FIELDS.join(", ")}, '-' for descending (default -timestamp). Ties are broken by id.`,
    accepts: `comma-separated fields of ${ORDERING_FIELDS.join(", ")}, each optionally prefixed with '-'`,
  }),
};

export const OutcomeListQuery = Type.Object({ ...ListFilterParams, ...PageParams, ...CursorParam, ...OrderingParam });
export type OutcomeListQuery = Static<typeof OutcomeListQuery>;
export const OutcomeFilterQuery = Type.Object(FilterParams);
export type OutcomeFilterQuery = Static<typeof OutcomeFilterQuery>;
export const DailyStatsQuery = Type.Object({ ...FilterParams, ...TzParam });
export type DailyStatsQuery = Static<typeof DailyStatsQuery>;

const Price = Type.String({ description: "Exact decimal, at least 2 fractional digits.", examples: ["0.80"] });
const Instant = Type.String({ description: "ISO-8601 in UTC with microseconds when stored.", examples: ["2025-10-25T12:00:00.123456Z"] });

export const OutcomeRecord = Type.Object(
  {
    id: Type.Integer(),
    bid_id: Type.String(),
    user_id: Type.String(),
    site_domain: Type.Union([Type.String(), Type.Null()]),
    win_status: Type.Boolean(),
    win_price: Price,
    bid_price: Price,
    currency: Type.String({ minLength: 3, maxLength: 3 }),
    enriched: Type.Boolean(),
    timestamp: { ...Instant, description: "When the auction happened." } as typeof Instant,
    auction_timestamp: Type.Union([Instant, Type.Null()]),
    user_interests: Type.Array(Type.Unknown()),
    is_winner: Type.Boolean({ description: "Same as win_status (kept for old clients)." }),
    profit_margin: Type.Number({ description: "bid_price − win_price when won, else 0.0." }),
    created_at: Instant,
    updated_at: Instant,
  },
  { title: "OutcomeRecord" },
);
export type OutcomeRecord = Static<typeof OutcomeRecord>;

export const OutcomeDetail = Type.Composite([OutcomeRecord, Type.Object({ raw_data: Type.Unknown({ description: "The message as received." }) })], {
  title: "OutcomeDetail",
});
export type OutcomeDetail = Static<typeof OutcomeDetail>;

export const OutcomePage = pageOf(OutcomeRecord, "OutcomePage");
export type OutcomePage = Static<typeof OutcomePage>;

/** Revenue per currency: the truth behind the mixed figures. One entry per currency with outcomes. */
export const RevenueByCurrency = Type.Record(Type.String({ pattern: "^[A-Z]{3}$" }), Type.String({ description: "Exact decimal." }), {
  description:
    "Sum of win_price over wins per currency code (exact decimal text), one entry per currency with outcomes; revenue, averages and profit margin add prices of different currencies as the original did.",
  examples: [{ EUR: "0.80", USD: "13352.80" }],
});

export const OutcomeStats = Type.Object(
  {
    total_outcomes: Type.Integer(),
    total_wins: Type.Integer(),
    total_losses: Type.Integer(),
    total_revenue: Type.Number({ description: "Sum of win_price over wins, currencies mixed as the original did: see revenue_by_currency." }),
    average_win_price: Type.Number({ description: "Mean win_price over wins, currencies mixed; 0.0 when none." }),
    average_bid_price: Type.Number({ description: "Mean bid_price over all outcomes, currencies mixed; 0.0 when none." }),
    enriched_count: Type.Integer(),
    win_rate: Type.Number({ description: "wins / total × 100, rounded to 2 places; 0.0 when empty." }),
    revenue_by_currency: RevenueByCurrency,
  },
  { title: "OutcomeStats" },
);
export type OutcomeStats = Static<typeof OutcomeStats>;

export const DailyStat = Type.Object(
  {
    date: Type.String({ format: "date", description: "The day in the zone of tz (default UTC)." }),
    total: Type.Integer(),
    wins: Type.Integer(),
    revenue: Type.Union([Type.Number(), Type.Null()], { description: "Sum of win_price over wins, currencies mixed; null on a day without wins." }),
    avg_win_price: Type.Union([Type.Number(), Type.Null()], { description: "Mean win_price over wins, currencies mixed; null on a day without wins." }),
    revenue_by_currency: RevenueByCurrency,
  },
  { title: "DailyStat" },
);
export const DailyStats = Type.Array(DailyStat, { title: "DailyStats" });
export type DailyStat = Static<typeof DailyStat>;

export const ApiRoot = Type.Record(Type.String(), Type.String({ format: "uri" }), { title: "ApiRoot" });

/** At most this many buckets per series: 2,000 hours is 83 days, 2,000 days 5 ½ years. */
export const MAX_SERIES_BUCKETS = 2_000;
/** Minutes come from the outcomes themselves (no rollup has them): at most 6 hours of them. */
export const MAX_MINUTE_BUCKETS = 360;

export const TimeSeriesQuery = Type.Object({
  ...FilterParams,
  interval: choiceParam(
    ["minute", "hour", "day"],
    `Bucket width: one minute (at most ${MAX_MINUTE_BUCKETS} buckets, counted from the outcomes; the same in every zone), one hour or one day of the zone tz (default day).`,
  ),
  ...TzParam,
});
export type TimeSeriesQuery = Static<typeof TimeSeriesQuery>;

const Money = Type.String({ description: "Exact decimal sum of win_price over wins, at least 2 fractional digits.", examples: ["12.30"] });

export const TimeSeriesPoint = Type.Object(
  {
    bucket: Type.String({
      description: "Start of the bucket, ISO-8601 UTC (with tz, the start of the zone's hour or day, e.g. 2025-10-25T22:00:00Z for a day in Europe/Berlin).",
      examples: ["2025-10-25T12:00:00Z"],
    }),
    outcomes: Type.Integer(),
    wins: Type.Integer(),
    revenue: Money,
  },
  { title: "TimeSeriesPoint" },
);
export type TimeSeriesPoint = Static<typeof TimeSeriesPoint>;

export const TimeSeries = Type.Object(
  {
    interval: Type.Union([Type.Literal("minute"), Type.Literal("hour"), Type.Literal("day")]),
    results: Type.Array(TimeSeriesPoint, {
      description: `Every bucket from the one holding \`from\` (else the first with outcomes) to the one before \`to\` (else the last with outcomes), oldest first, empty buckets as zeros; at most ${MAX_SERIES_BUCKETS} (${MAX_MINUTE_BUCKETS} minutes).`,
    }),
  },
  { title: "TimeSeries" },
);
export type TimeSeries = Static<typeof TimeSeries>;

export const TOP_DIMENSIONS = ["site_domain", "user_id"] as const;
export type TopDimension = (typeof TOP_DIMENSIONS)[number];

export const TopQuery = Type.Object({
  ...FilterParams,
  by: choiceParam(TOP_DIMENSIONS, "Group by site_domain or user_id (default site_domain)."),
  limit: param({ pattern: "^([1-9][0-9]?|100)$", maxLength: 3, description: "How many groups (default 10).", accepts: "an integer from 1 to 100" }),
});
export type TopQuery = Static<typeof TopQuery>;

export const TopEntry = Type.Object(
  {
    key: Type.Union([Type.String(), Type.Null()], { description: "The site domain or user id; null for outcomes without a site domain." }),
    outcomes: Type.Integer(),
    wins: Type.Integer(),
    revenue: Money,
  },
  { title: "TopEntry" },
);

export const TopList = Type.Object(
  {
    by: Type.Union(TOP_DIMENSIONS.map((d) => Type.Literal(d))),
    results: Type.Array(TopEntry, { description: "Highest revenue first; ties by more outcomes, then by key." }),
  },
  { title: "TopList" },
);
export type TopList = Static<typeof TopList>;

/** The export's query: the list's filters and ordering, and the format (or the Accept header). */
export const OutcomeExportQuery = Type.Object({
  ...ListFilterParams,
  ...OrderingParam,
  format: choiceParam(["csv", "ndjson"], "csv (RFC 4180, a header line) or ndjson (one JSON record a line); without it the Accept header chooses, else csv."),
});
export type OutcomeExportQuery = Static<typeof OutcomeExportQuery>;
/** The list's paging parameters, which an export of every matching row refuses. */
export const PAGING_PARAM_NAMES = [...Object.keys(PageParams), ...Object.keys(CursorParam)];
