// GET /api/outcomes/breakdown/: every dimension and several pairs against figures computed here
// from the fixture rows with exact decimal arithmetic (tests/support/breakdown-model.ts), the
// rollup-served answers against the base table's, the filters, the orders, the limit and the
// exact error bodies.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { renderBreakdown } from "../../src/outcomes/outcomes.breakdown";
import { type Filters, parseFilters } from "../../src/outcomes/outcomes.filters";
import { type Dimension, type Grouping, groupedAggregates, planGrouped } from "../../src/outcomes/outcomes.grouped";
import { ALL_DIMS, ALL_METRICS, type Dim, expectMeans, figures, groupRows, type Metric, sortGroups } from "../support/breakdown-model";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { money, subtractDecimals } from "../support/exact-decimal";
import { insertOutcomes, type StoredOutcome } from "../support/fixtures";
import { testApp } from "../support/http";
import { FILTER_CASES } from "../support/outcomes-model";

setDefaultTimeout(30_000);

let db: TestDatabase;
let rows: StoredOutcome[];
let api: ReturnType<typeof testApp>;

beforeAll(async () => {
  db = await createTestDatabase("outcomes_breakdown");
  rows = await insertOutcomes(db.setup);
  api = testApp(db.config, db.sql);
});

afterAll(async () => {
  await db.drop();
});

/** Checks a breakdown body against the model: every group's key and figures, in order, and the total. */
function expectBreakdown(body: any, matching: StoredOutcome[], dims: Dim[], by: Metric | Dim = "revenue", desc = true, limit = 50) {
  const groups = sortGroups(groupRows(matching, dims), dims, by, desc);
  expect(body.by).toEqual(dims);
  expect(body.tz).toBe("UTC");
  expect(body.order).toBe(`${desc ? "-" : ""}${by}`);
  expect(body.limit).toBe(limit);
  expect(body.groups).toBe(groups.length);
  const shown = groups.slice(0, limit);
  expect(body.results.map((group: any) => group.key)).toEqual(shown.map((group) => group.key));
  body.results.forEach((group: any, i: number) => {
    const { avg_win_price, avg_bid_price, key: _key, ...rest } = group;
    expect(rest).toEqual(figures(shown[i]!.members));
    expectMeans({ avg_win_price, avg_bid_price }, shown[i]!.members);
  });
  const { avg_win_price, avg_bid_price, ...total } = body.total;
  expect(total).toEqual(figures(matching));
  expectMeans({ avg_win_price, avg_bid_price }, matching);
}

describe("GET /api/outcomes/breakdown/", () => {
  for (const dim of ALL_DIMS) {
    test(`by=${dim} gives every group's figures exactly, highest revenue first, and the total`, async () => {
      const { status, body } = await api.get(`/api/outcomes/breakdown/?by=${dim}`);
      expect(status).toBe(200);
      expectBreakdown(body, rows, [dim]);
    });
  }

  const PAIRS: [Dim, Dim][] = [
    ["site_domain", "day"],
    ["day", "site_domain"],
    ["site_domain", "month"],
    ["site_domain", "week"],
    ["currency", "win_status"],
    ["user_id", "hour"],
    ["enriched", "day"],
    ["week", "currency"],
    ["site_domain", "user_id"],
    ["hour", "win_status"],
  ];
  for (const [a, b] of PAIRS) {
    test(`by=${a},${b} gives every pair's figures exactly`, async () => {
      const { status, body } = await api.get(`/api/outcomes/breakdown/?by=${a},${b}&limit=1000`);
      expect(status).toBe(200);
      expectBreakdown(body, rows, [a, b], "revenue", true, 1000);
    });
  }

  test("gives the figures of a known group by hand: example.com on 2025-10-25", async () => {
    const { body } = await api.get("/api/outcomes/breakdown/?by=site_domain,day&site_domain=example.com&from=2025-10-25&to=2025-10-26");
    // b-02 (0.2 won), b-04 (lost, bid 0.55), b-15 (0.7 won), b-18 (0.1 won, bid 0.35), b-21 (lost, bid 1.5)
    expect(body.results).toEqual([
      {
        key: { site_domain: "example.com", day: "2025-10-25" },
        outcomes: 5,
        wins: 3,
        losses: 2,
        win_rate: 60,
        revenue: "1.00",
        avg_win_price: "0.33333333333333333333",
        avg_bid_price: "0.66",
        profit_margin: "0.25",
        enriched_count: 3,
        revenue_by_currency: { USD: "1.00" },
      },
    ]);
    expect(body.groups).toBe(1);
  });

  test("splits the revenue of each group per currency and keeps the mixed sum", async () => {
    const { body } = await api.get("/api/outcomes/breakdown/?by=day&from=2025-10-26&to=2025-10-27");
    expect(body.results[0]).toMatchObject({ key: { day: "2025-10-26" }, revenue: "4.40", revenue_by_currency: { EUR: "0.80", USD: "3.60" } });
    expect(body.total.revenue_by_currency).toEqual({ EUR: "0.80", USD: "3.60" });
  });

  test("reports a null site domain as a null key, sorted last among equals", async () => {
    const { body } = await api.get("/api/outcomes/breakdown/?by=site_domain&order=site_domain");
    expect(body.results.map((group: any) => group.key.site_domain)).toEqual(["example.com", "news.example.org", "shop.example.net", null]);
  });

  for (const metric of ALL_METRICS) {
    for (const desc of [true, false]) {
      test(`order=${desc ? "-" : ""}${metric} with limit=3 gives the first three groups of that order`, async () => {
        const { status, body } = await api.get(`/api/outcomes/breakdown/?by=user_id,currency&order=${desc ? "-" : ""}${metric}&limit=3`);
        expect(status).toBe(200);
        expectBreakdown(body, rows, ["user_id", "currency"], metric, desc, 3);
      });
    }
  }

  test("orders by a dimension of by, ascending or descending", async () => {
    for (const order of ["day", "-day"]) {
      const { body } = await api.get(`/api/outcomes/breakdown/?by=day,currency&order=${order}`);
      expectBreakdown(body, rows, ["day", "currency"], "day", order.startsWith("-"));
    }
  });

  for (const { query, keep } of [
    ...FILTER_CASES,
    { query: "search=u-a", keep: (r: StoredOutcome) => r.user_id.startsWith("u-a") || r.bid_id.startsWith("u-a") },
  ]) {
    test(`with ${query || "no filter"} breaks down exactly the matching outcomes`, async () => {
      const { status, body } = await api.get(`/api/outcomes/breakdown/?by=site_domain,currency&${query}`);
      expect(status).toBe(200);
      expectBreakdown(body, rows.filter(keep), ["site_domain", "currency"]);
    });
  }

  test("gives no groups and a zero total when nothing matches", async () => {
    const { status, body } = await api.get("/api/outcomes/breakdown/?by=day&currency=GBP");
    expect(status).toBe(200);
    expect(body).toEqual({
      by: ["day"],
      tz: "UTC",
      order: "-revenue",
      limit: 50,
      groups: 0,
      results: [],
      total: {
        outcomes: 0,
        wins: 0,
        losses: 0,
        win_rate: 0,
        revenue: "0.00",
        avg_win_price: null,
        avg_bid_price: null,
        profit_margin: "0.00",
        enriched_count: 0,
        revenue_by_currency: {},
      },
    });
  });

  test("answers the same without the trailing slash", async () => {
    const slash = await api.get("/api/outcomes/breakdown/?by=site_domain");
    const bare = await api.get("/api/outcomes/breakdown?by=site_domain");
    expect(bare.status).toBe(200);
    expect(bare.body).toEqual(slash.body);
  });

  test("takes limit from 1 to 1000 and counts every group whatever the limit", async () => {
    const one = await api.get("/api/outcomes/breakdown/?by=user_id&limit=1");
    expect(one.body.results).toHaveLength(1);
    expect(one.body.groups).toBe(5);
    expect((await api.get("/api/outcomes/breakdown/?by=user_id&limit=1000")).body.results).toHaveLength(5);
  });
});

describe("GET /api/outcomes/breakdown/?compare=previous_period", () => {
  const inPeriod = (row: StoredOutcome, from: string, to: string) => row.timestamp >= from && row.timestamp < to;

  test("gives each group's figures in the period of the same length just before, and the change", async () => {
    const { status, body } = await api.get("/api/outcomes/breakdown/?by=site_domain&from=2025-10-25&to=2025-10-27&compare=previous_period");
    expect(status).toBe(200);
    expect(body.previous_period).toEqual({ from: "2025-10-23T00:00:00Z", to: "2025-10-25T00:00:00Z" });
    const now = rows.filter((row) => inPeriod(row, "2025-10-25T00:00:00.000000Z", "2025-10-27T00:00:00.000000Z"));
    const before = rows.filter((row) => inPeriod(row, "2025-10-23T00:00:00.000000Z", "2025-10-25T00:00:00.000000Z"));
    const groups = sortGroups(groupRows(now, ["site_domain"]), ["site_domain"], "revenue", true);
    expect(body.results.map((group: any) => group.key)).toEqual(groups.map((group) => group.key));
    const compare = (actual: any, current: StoredOutcome[], previous: StoredOutcome[]) => {
      const was = figures(previous);
      const is = figures(current);
      if (previous.length === 0) expect(actual.previous).toBeNull();
      else {
        const { avg_win_price, avg_bid_price, ...rest } = actual.previous;
        expect(rest).toEqual(was);
        expectMeans({ avg_win_price, avg_bid_price }, previous);
      }
      expect(actual.change).toEqual({
        outcomes: is.outcomes - was.outcomes,
        wins: is.wins - was.wins,
        losses: is.losses - was.losses,
        win_rate: Number((is.win_rate - was.win_rate).toFixed(2)),
        revenue: money(subtractDecimals(is.revenue, was.revenue)),
        profit_margin: money(subtractDecimals(is.profit_margin, was.profit_margin)),
        enriched_count: is.enriched_count - was.enriched_count,
      });
    };
    body.results.forEach((group: any, i: number) => {
      compare(
        group,
        groups[i]!.members,
        before.filter((row) => row.site_domain === groups[i]!.key.site_domain),
      );
    });
    compare(body.total, now, before);
    // shop.example.net: 0.80 EUR + 3 USD + 999.99 USD now, 0.1 USD before.
    expect(body.results.find((group: any) => group.key.site_domain === "shop.example.net").change.revenue).toBe("1003.69");
  });

  test("shifts a period given to the microsecond by exactly its length, and gives null for a group absent before", async () => {
    const { body } = await api.get(
      "/api/outcomes/breakdown/?by=user_id&from=2025-10-24T23:59:59.999999Z&to=2025-10-25T00:00:00.000001Z&compare=previous_period",
    );
    expect(body.previous_period).toEqual({ from: "2025-10-24T23:59:59.999997Z", to: "2025-10-24T23:59:59.999999Z" });
    expect(body.results.length).toBeGreaterThan(0);
    for (const group of body.results) expect(group.previous).toBeNull();
    expect(body.total.previous).toEqual({
      outcomes: 0,
      wins: 0,
      losses: 0,
      win_rate: 0,
      revenue: "0.00",
      avg_win_price: null,
      avg_bid_price: null,
      profit_margin: "0.00",
      enriched_count: 0,
      revenue_by_currency: {},
    });
  });

  test("leaves previous and change out without compare", async () => {
    const { body } = await api.get("/api/outcomes/breakdown/?by=user_id&from=2025-10-25&to=2025-10-27");
    expect(body.previous_period).toBeUndefined();
    expect(body.results[0].previous).toBeUndefined();
    expect(body.total.change).toBeUndefined();
  });
});

describe("breakdowns from the rollups", () => {
  const CASES: { filters: Filters; grouping: Grouping; rollup: "hourly" | "daily_site" | undefined }[] = [
    { filters: {}, grouping: { dims: ["site_domain", "day"], tz: "UTC" }, rollup: "daily_site" },
    { filters: { from: "2025-10-24T06:00:00+00:00" }, grouping: { dims: ["site_domain", "month"], tz: "UTC" }, rollup: "daily_site" },
    { filters: { winStatus: true }, grouping: { dims: ["site_domain", "week"], tz: "UTC" }, rollup: "daily_site" },
    { filters: {}, grouping: { dims: ["hour"], tz: "UTC" }, rollup: "hourly" },
    {
      filters: { from: "2025-10-24T23:30:00.5+00:00", to: "2025-10-26T08:30:00.500001+00:00" },
      grouping: { dims: ["day", "currency"], tz: "UTC" },
      rollup: "hourly",
    },
    { filters: { currency: "USD", enriched: true }, grouping: { dims: ["win_status", "enriched"], tz: "UTC" }, rollup: "hourly" },
    { filters: { siteDomain: "example.com" }, grouping: { dims: ["day"], tz: "UTC" }, rollup: "daily_site" },
    { filters: {}, grouping: { dims: ["week", "enriched"], tz: "Europe/Berlin" }, rollup: "hourly" },
    // What no rollup holds: per-site hours, users, prices, and site days in another zone.
    { filters: {}, grouping: { dims: ["site_domain", "hour"], tz: "UTC" }, rollup: undefined },
    { filters: {}, grouping: { dims: ["user_id"], tz: "UTC" }, rollup: undefined },
    { filters: { minPrice: "0.2" }, grouping: { dims: ["day"], tz: "UTC" }, rollup: undefined },
    { filters: {}, grouping: { dims: ["site_domain", "day"], tz: "America/New_York" }, rollup: undefined },
  ];
  for (const { filters, grouping, rollup } of CASES) {
    test(`by ${grouping.dims.join(",")} in ${grouping.tz} with ${JSON.stringify(filters)}: ${rollup ?? "the base table"} answers, the same as the base table`, async () => {
      expect(planGrouped(filters, grouping).rollup?.table).toBe(rollup);
      const order = { by: "revenue" as const, desc: true, limit: 1000 };
      const request = { dims: grouping.dims as Dimension[], order, orderText: "-revenue", compare: false };
      const served = renderBreakdown(await groupedAggregates(db.sql, filters, grouping, order), request, grouping.tz);
      const base = renderBreakdown(await groupedAggregates(db.sql, filters, grouping, order, { base: [filters] }), request, grouping.tz);
      expect(served).toEqual(base);
      expect(served.total.outcomes).toBeGreaterThan(0);
    });
  }

  test("filters parsed from a query pick the same plan as the route", () => {
    expect(planGrouped(parseFilters({ site_domain: "example.com" }), { dims: ["currency"], tz: "UTC" }).rollup?.table).toBe("daily_site");
    expect(planGrouped(parseFilters({ user_id: "u-alice" }), { dims: ["currency"], tz: "UTC" }).rollup).toBeUndefined();
  });
});

describe("GET /api/outcomes/breakdown/ refuses", () => {
  const BY = "one or two of site_domain, user_id, currency, win_status, enriched, hour, day, week, month, comma-separated, e.g. site_domain,day";
  const ORDER =
    "one of outcomes, wins, losses, win_rate, revenue, avg_win_price, avg_bid_price, profit_margin, enriched_count or a dimension named in by, optionally prefixed with '-' for descending";
  const CASES: [string, object][] = [
    ["", { detail: "Invalid query parameter: by.", errors: { by: [`by is required: expected ${BY}.`] } }],
    ["by=country", { detail: "Invalid query parameter: by.", errors: { by: [`"country" is not a dimension: expected ${BY}.`] } }],
    ["by=country,os", { detail: "Invalid query parameter: by.", errors: { by: [`"country", "os" are not dimensions: expected ${BY}.`] } }],
    ["by=site_domain,day,hour", { detail: "Invalid query parameter: by.", errors: { by: [`"site_domain,day,hour" names 3 dimensions: expected ${BY}.`] } }],
    ["by=day,day", { detail: "Invalid query parameter: by.", errors: { by: ['"day,day" names day twice: expected two different dimensions.'] } }],
    ["by=day&order=price", { detail: "Invalid query parameter: order.", errors: { order: [`"price" is not valid: expected ${ORDER}.`] } }],
    ["by=day&order=-site_domain", { detail: "Invalid query parameter: order.", errors: { order: [`"-site_domain" is not valid: expected ${ORDER}.`] } }],
    ["by=day&limit=0", { detail: "Invalid query parameter: limit.", errors: { limit: ['"0" is not valid: expected an integer from 1 to 1000.'] } }],
    ["by=day&limit=1001", { detail: "Invalid query parameter: limit.", errors: { limit: ['"1001" is not valid: expected an integer from 1 to 1000.'] } }],
    [
      "by=day&tz=Mars/Olympus_Mons",
      {
        detail: "Invalid query parameter: tz.",
        errors: {
          tz: [
            '"Mars/Olympus_Mons" is not a time zone PostgreSQL knows: expected an IANA time zone name as in PostgreSQL\'s pg_timezone_names, e.g. Europe/Berlin, America/New_York, Asia/Kolkata or UTC.',
          ],
        },
      },
    ],
    [
      "by=day&tz=CET;drop",
      {
        detail: "Invalid query parameter: tz.",
        errors: {
          tz: [
            '"CET;drop" is not valid: expected an IANA time zone name as in PostgreSQL\'s pg_timezone_names, e.g. Europe/Berlin, America/New_York, Asia/Kolkata or UTC.',
          ],
        },
      },
    ],
    [
      "by=site_domain&from=2025-10-25&compare=previous_period",
      {
        detail: "Invalid query parameter: compare.",
        errors: { compare: ["compare=previous_period needs both from and to: the previous period is the one of the same length just before from."] },
      },
    ],
    [
      "by=site_domain,day&from=2025-10-25&to=2025-10-27&compare=previous_period",
      {
        detail: "Invalid query parameter: compare.",
        errors: {
          compare: [
            "compare=previous_period matches each group with the same group before, which a day bucket never has: expected by without hour, day, week or month.",
          ],
        },
      },
    ],
    ["by=day&compare=next_year", { detail: "Invalid query parameter: compare.", errors: { compare: ['"next_year" is not valid: expected previous_period.'] } }],
    [
      "by=a,b,c&order=nope&win_status=maybe",
      {
        detail: "Invalid query parameters: win_status, by, order.",
        errors: {
          win_status: ['"maybe" is not valid: expected true or false (also 1/0, yes/no).'],
          by: [`"a", "b", "c" are not dimensions: expected ${BY}.`],
          order: [`"nope" is not valid: expected ${ORDER}.`],
        },
      },
    ],
  ];
  for (const [query, expected] of CASES) {
    test(`${query || "no by"} with 400 and a body naming what is accepted`, async () => {
      const { status, body } = await api.get(`/api/outcomes/breakdown/?${query}`);
      expect(status).toBe(400);
      expect(body).toEqual(expected);
    });
  }
});
