// GET /api/outcomes/stats/ and /api/outcomes/daily_stats/: every figure computed here with exact
// decimal arithmetic from the fixture rows (never by the code under test, never by SQL) and
// compared exactly.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { insertGeneratedOutcomes, insertOutcomes, type StoredOutcome } from "../support/fixtures";
import { testApp } from "../support/http";
import { expectedDailyStats, expectedStats, FILTER_CASES } from "../support/outcomes-model";

setDefaultTimeout(30_000);

let db: TestDatabase;
let rows: StoredOutcome[];
let api: ReturnType<typeof testApp>;

beforeAll(async () => {
  db = await createTestDatabase("outcomes_stats");
  rows = await insertOutcomes(db.setup);
  api = testApp(db.config, db.sql);
});

afterAll(async () => {
  await db.drop();
});

describe("GET /api/outcomes/stats/", () => {
  test("gives the totals of the whole table, exactly", async () => {
    const { status, body } = await api.get("/api/outcomes/stats/");
    expect(status).toBe(200);
    expect(body).toEqual({
      total_outcomes: 24,
      total_wins: 16,
      total_losses: 8,
      // 0.1+0.2+0.7+1.2345+0.80+0.5+0.1+0.2+12345.678901+0.000001+0.7+0.1+3+0.2+0.10+999.99
      total_revenue: 13353.603402,
      average_win_price: 834.600212625,
      average_bid_price: expectedStats(rows).average_bid_price,
      enriched_count: 13,
      win_rate: 66.67,
      // The mixed total_revenue, split: b-06 is the only EUR win.
      revenue_by_currency: { EUR: "0.80", USD: "13352.803402" },
    });
    expect(body).toEqual(expectedStats(rows));
  });

  test("sums 0.1 + 0.2 to exactly 0.3, where floats give 0.30000000000000004", async () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    const { body } = await api.get("/api/outcomes/stats/?win_status=true&from=2025-10-24T23:59:59.999999Z&to=2025-10-25T00:00:00.000001Z");
    expect(body).toMatchObject({ total_wins: 2, total_revenue: 0.3, average_win_price: 0.15 });
  });

  test("sums 0.1, 0.2 and 0.7 to exactly 1, where floats in some orders give 0.9999999999999999", async () => {
    expect(0.7 + 0.2 + 0.1).not.toBe(1);
    const { body } = await api.get("/api/outcomes/stats/?win_status=true&from=2025-10-24T23:59:59.999999Z&to=2025-10-25T00:00:00.000002Z");
    expect(body).toEqual({
      total_outcomes: 3,
      total_wins: 3,
      total_losses: 0,
      total_revenue: 1,
      average_win_price: 0.3333333333333333,
      average_bid_price: 0.3333333333333333,
      enriched_count: 2,
      win_rate: 100,
      revenue_by_currency: { USD: "1.00" },
    });
  });

  test("answers the same without the trailing slash", async () => {
    const { status, body } = await api.get("/api/outcomes/stats?user_id=u-carol");
    expect(status).toBe(200);
    expect(body).toEqual(expectedStats(rows.filter((row) => row.user_id === "u-carol")));
  });

  test("ignores list-only and unknown parameters", async () => {
    const { status, body } = await api.get("/api/outcomes/stats/?page=x&page_size=0&ordering=password&cursor=!&format=json");
    expect(status).toBe(200);
    expect(body).toEqual(expectedStats(rows));
  });

  for (const { query, keep } of FILTER_CASES) {
    test(`with ${query || "no filter"} gives the figures of exactly the matching outcomes`, async () => {
      const { status, body } = await api.get(`/api/outcomes/stats/?${query}`);
      expect(status).toBe(200);
      expect(body).toEqual(expectedStats(rows.filter(keep)));
    });
  }

  test("gives zeros, not nulls, when nothing matches", async () => {
    const { body, text } = await api.get("/api/outcomes/stats/?user_id=nobody");
    expect(body).toEqual({
      total_outcomes: 0,
      total_wins: 0,
      total_losses: 0,
      total_revenue: 0,
      average_win_price: 0,
      average_bid_price: 0,
      enriched_count: 0,
      win_rate: 0,
      revenue_by_currency: {},
    });
    expect(text).not.toContain("null");
  });

  test("gives zero revenue and average win price when only losses match", async () => {
    const { body } = await api.get("/api/outcomes/stats/?win_status=false&user_id=u-carol");
    expect(body).toEqual({
      total_outcomes: 2,
      total_wins: 0,
      total_losses: 2,
      total_revenue: 0,
      average_win_price: 0,
      average_bid_price: 1.525,
      enriched_count: 2,
      win_rate: 0,
      // A currency with outcomes but no wins is listed with zero revenue.
      revenue_by_currency: { USD: "0.00" },
    });
  });
});

describe("GET /api/outcomes/daily_stats/", () => {
  test("gives one entry per UTC day, newest first, exactly", async () => {
    const { status, body } = await api.get("/api/outcomes/daily_stats/");
    expect(status).toBe(200);
    expect(body).toEqual([
      // The mixed revenue, split: 0.80 EUR + 3.60 USD is no 4.4 of anything.
      { date: "2025-10-26", total: 6, wins: 4, revenue: 4.4, avg_win_price: 1.1, revenue_by_currency: { EUR: "0.80", USD: "3.60" } },
      { date: "2025-10-25", total: 9, wins: 7, revenue: 13348.603401, avg_win_price: 1906.943343, revenue_by_currency: { USD: "13348.603401" } },
      { date: "2025-10-24", total: 6, wins: 5, revenue: 0.600001, avg_win_price: 0.1200002, revenue_by_currency: { USD: "0.600001" } },
      // Losses only: revenue and average are null, as in the original.
      { date: "2025-10-23", total: 3, wins: 0, revenue: null, avg_win_price: null, revenue_by_currency: { USD: "0.00" } },
    ]);
    expect(body).toEqual(expectedDailyStats(rows));
  });

  test("puts 23:59:59.999999 and 00:00:00 UTC on different days", async () => {
    const { body } = await api.get("/api/outcomes/daily_stats/?from=2025-10-24T23:59:59.999999Z&to=2025-10-25T00:00:00.000001Z");
    expect(body).toEqual([
      { date: "2025-10-25", total: 1, wins: 1, revenue: 0.2, avg_win_price: 0.2, revenue_by_currency: { USD: "0.20" } },
      { date: "2025-10-24", total: 2, wins: 1, revenue: 0.1, avg_win_price: 0.1, revenue_by_currency: { USD: "0.10" } },
    ]);
  });

  test("answers the same without the trailing slash", async () => {
    const { status, body } = await api.get("/api/outcomes/daily_stats?site_domain=news.example.org");
    expect(status).toBe(200);
    expect(body).toEqual(expectedDailyStats(rows.filter((row) => row.site_domain === "news.example.org")));
  });

  for (const { query, keep } of FILTER_CASES) {
    test(`with ${query || "no filter"} gives the days of exactly the matching outcomes`, async () => {
      const { status, body } = await api.get(`/api/outcomes/daily_stats/?${query}`);
      expect(status).toBe(200);
      expect(body).toEqual(expectedDailyStats(rows.filter(keep)));
    });
  }

  test("gives [] when nothing matches", async () => {
    const { status, body } = await api.get("/api/outcomes/daily_stats/?currency=GBP");
    expect(status).toBe(200);
    expect(body).toEqual([]);
  });
});

describe("on an empty table", () => {
  let empty: TestDatabase;
  let emptyApi: ReturnType<typeof testApp>;

  beforeAll(async () => {
    empty = await createTestDatabase("outcomes_stats_empty");
    emptyApi = testApp(empty.config, empty.sql);
  });

  afterAll(async () => {
    await empty.drop();
  });

  test("stats are all zero", async () => {
    const { status, body } = await emptyApi.get("/api/outcomes/stats/");
    expect(status).toBe(200);
    expect(body).toEqual({
      total_outcomes: 0,
      total_wins: 0,
      total_losses: 0,
      total_revenue: 0,
      average_win_price: 0,
      average_bid_price: 0,
      enriched_count: 0,
      win_rate: 0,
      revenue_by_currency: {},
    });
  });

  test("daily_stats is []", async () => {
    const { status, body } = await emptyApi.get("/api/outcomes/daily_stats/");
    expect(status).toBe(200);
    expect(body).toEqual([]);
  });
});

describe("win_rate rounding", () => {
  let generated: TestDatabase;
  let generatedApi: ReturnType<typeof testApp>;
  // [user, outcomes, wins, win_rate]. The expected figures are what the original computed,
  // Python's round(wins / total * 100, 2): ties go to the even digit, and it rounds the float,
  // so 23/160 (14.375 exactly, but 14.374999999999998 as a float) gives 14.37.
  const CASES: [string, number, number, number][] = [
    ["third", 3, 1, 33.33],
    ["two-thirds", 3, 2, 66.67],
    ["eighth", 8, 1, 12.5],
    ["one-of-32", 32, 1, 3.12],
    ["three-of-32", 32, 3, 9.38],
    ["five-of-32", 32, 5, 15.62],
    ["one-of-160", 160, 1, 0.62],
    ["23-of-160", 160, 23, 14.37],
    ["49-of-160", 160, 49, 30.63],
    ["all", 7, 7, 100],
    ["none", 7, 0, 0],
  ];

  beforeAll(async () => {
    generated = await createTestDatabase("outcomes_stats_win_rate");
    generatedApi = testApp(generated.config, generated.sql);
    for (const [user, total, wins] of CASES) await insertGeneratedOutcomes(generated.setup, total, { userId: user, wins });
  });

  afterAll(async () => {
    await generated.drop();
  });

  for (const [user, total, wins, rate] of CASES) {
    test(`${wins} wins of ${total} give win_rate ${rate}`, async () => {
      const { body } = await generatedApi.get(`/api/outcomes/stats/?user_id=${user}`);
      expect(body).toMatchObject({ total_outcomes: total, total_wins: wins, win_rate: rate });
    });
  }
});
