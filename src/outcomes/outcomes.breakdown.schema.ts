// TypeBox schemas of GET /api/outcomes/breakdown/: the query (validated from raw strings) and the
// response. Validation, TS types and the OpenAPI document all come from these.
import { type Static, Type } from "@sinclair/typebox";
import { choiceParam, param } from "../http/params";
import { DIMENSIONS, METRICS } from "./outcomes.grouped";
import { ListFilterParams, RevenueByCurrency } from "./outcomes.schema";
import { TzParam } from "./outcomes.zones";

export const MAX_BREAKDOWN_LIMIT = 1_000;
export const DEFAULT_BREAKDOWN_LIMIT = 50;
export const DEFAULT_BREAKDOWN_ORDER = "-revenue";

export const BY_ACCEPTS = `one or two of ${DIMENSIONS.join(", ")}, comma-separated, e.g. site_domain,day`;
export const ORDER_ACCEPTS = `one of ${METRICS.join(", ")} or a dimension named in by, optionally prefixed with '-' for descending`;

export const BreakdownQuery = Type.Object({
  ...ListFilterParams,
  by: param({ maxLength: 100, description: `The dimensions to group by: ${BY_ACCEPTS}. Required.`, accepts: BY_ACCEPTS }),
  order: param({
    maxLength: 40,
    description: `Order of the groups (default ${DEFAULT_BREAKDOWN_ORDER}); ties by the keys, ascending.`,
    accepts: ORDER_ACCEPTS,
  }),
  limit: param({
    pattern: "^([1-9][0-9]{0,2}|1000)$",
    maxLength: 4,
    description: `How many groups (default ${DEFAULT_BREAKDOWN_LIMIT}, at most ${MAX_BREAKDOWN_LIMIT}); the total covers every group.`,
    accepts: `an integer from 1 to ${MAX_BREAKDOWN_LIMIT}`,
  }),
  ...TzParam,
  compare: choiceParam(
    ["previous_period"],
    "previous_period: each group and the total also give the figures of the period of the same length just before from, and the change. Needs from and to, and dimensions other than hour, day, week and month.",
  ),
});
export type BreakdownQuery = Static<typeof BreakdownQuery>;

const Money = (description: string) => Type.String({ description: `${description} Exact decimal, at least 2 fractional digits.`, examples: ["12.30"] });
const MaybeMoney = (description: string) =>
  Type.Union([Money(description), Type.Null()], { description: `${description} Null when there is nothing to average.` });

export const BreakdownMetrics = Type.Object(
  {
    outcomes: Type.Integer(),
    wins: Type.Integer(),
    losses: Type.Integer(),
    win_rate: Type.Number({ description: "wins / outcomes × 100, rounded to 2 places as stats/ does; 0.0 when empty." }),
    revenue: Money("Sum of win_price over wins, currencies mixed (see revenue_by_currency)."),
    avg_win_price: MaybeMoney("Mean win_price over wins: revenue / wins in PostgreSQL numeric, the quotient stats/ rounds to a JSON number."),
    avg_bid_price: MaybeMoney("Mean bid_price over all outcomes: bid sum / outcomes in PostgreSQL numeric."),
    profit_margin: Type.String({ description: "Sum over wins of bid_price − win_price (each outcome's profit_margin), exact decimal; may be negative." }),
    enriched_count: Type.Integer(),
    revenue_by_currency: RevenueByCurrency,
  },
  { title: "BreakdownMetrics" },
);
export type BreakdownMetrics = Static<typeof BreakdownMetrics>;

/** The change from the previous period: this period's figure minus the previous one's. */
export const BreakdownChange = Type.Object(
  {
    outcomes: Type.Integer(),
    wins: Type.Integer(),
    losses: Type.Integer(),
    win_rate: Type.Number({ description: "Percentage points, rounded to 2 places." }),
    revenue: Type.String({ description: "Exact signed decimal." }),
    profit_margin: Type.String({ description: "Exact signed decimal." }),
    enriched_count: Type.Integer(),
  },
  { title: "BreakdownChange", description: "This period minus the previous one (compare=previous_period); a group absent before counts as zeros there." },
);
export type BreakdownChange = Static<typeof BreakdownChange>;

const Comparison = {
  previous: Type.Optional(
    Type.Union([BreakdownMetrics, Type.Null()], {
      description: "The figures of the previous period (compare=previous_period); null: the group had no outcomes then.",
    }),
  ),
  change: Type.Optional(BreakdownChange),
};

export const BreakdownGroup = Type.Composite(
  [
    Type.Object({
      key: Type.Record(Type.String(), Type.Union([Type.String(), Type.Boolean(), Type.Null()]), {
        description:
          "The group's value of each dimension of by: site_domain (null: none), user_id, currency, win_status and enriched (booleans); hour: its start, ISO-8601 UTC; day: the zone's date; week: the date of its Monday in the zone; month: YYYY-MM in the zone.",
        examples: [{ site_domain: "example.com", day: "2025-10-25" }],
      }),
    }),
    BreakdownMetrics,
    Type.Object(Comparison),
  ],
  { title: "BreakdownGroup" },
);
export type BreakdownGroup = Static<typeof BreakdownGroup>;

export const Breakdown = Type.Object(
  {
    by: Type.Array(Type.Union(DIMENSIONS.map((d) => Type.Literal(d))), { minItems: 1, maxItems: 2 }),
    tz: Type.String({ description: "The zone of the time buckets, as PostgreSQL spells it." }),
    order: Type.String({ description: "The order applied, e.g. -revenue." }),
    limit: Type.Integer(),
    groups: Type.Integer({ description: "How many groups there are in all; results holds the first `limit` of them." }),
    results: Type.Array(BreakdownGroup),
    total: Type.Composite([BreakdownMetrics, Type.Object(Comparison)], {
      title: "BreakdownTotal",
      description: "The figures over every matching outcome, as stats/ would give them.",
    }),
    previous_period: Type.Optional(
      Type.Object(
        { from: Type.String({ description: "ISO-8601 UTC, inclusive." }), to: Type.String({ description: "ISO-8601 UTC, exclusive: the request's from." }) },
        { description: "The period compared with (compare=previous_period)." },
      ),
    ),
  },
  { title: "Breakdown" },
);
export type Breakdown = Static<typeof Breakdown>;
