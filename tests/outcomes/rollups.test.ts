// Rollups must give the same figures as the base table after any mix of inserts, duplicates,
// replays, updates and deletes, for every filter combination a client can send.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { countOutcomes } from "../../src/outcomes/outcomes.aggregates";
import { type Filters, parseFilters } from "../../src/outcomes/outcomes.filters";
import { groupedAggregates } from "../../src/outcomes/outcomes.grouped";
import { renderDailyStat, renderStats } from "../../src/outcomes/outcomes.render";
import type { AggregatePlan } from "../../src/outcomes/outcomes.rollup-plan";

/** stats/ and daily_stats/ as their routes compute them, on a given plan (else the chosen one). */
const outcomeStats = async (sql: TestDatabase["sql"], filters: Filters, plan?: AggregatePlan) =>
  (await groupedAggregates(sql, filters, { dims: [], tz: "UTC" }, { by: "outcomes", desc: true, limit: 0 }, plan))[0]!;
const dailyStats = async (sql: TestDatabase["sql"], filters: Filters, plan?: AggregatePlan) =>
  (await groupedAggregates(sql, filters, { dims: ["day"], tz: "UTC" }, { by: "day", desc: true }, plan)).filter((row) => row.rank !== "0");

import type { OutcomeFilterQuery } from "../../src/outcomes/outcomes.schema";
import { createTestDatabase, type TestDatabase } from "../support/db";

let db: TestDatabase;

// Deterministic pseudo-random rows (a tiny LCG keeps the test independent of the generator).
function rows(seed: number, count: number, prefix: string) {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const sites = ["a.example", "b.example", "c.example", null];
  const prices = ["0.10", "0.2", "0.35", "0.7", "1.255", "0.000001"];
  return Array.from({ length: count }, (_, i) => {
    const win = next() < 0.6;
    const bid = prices[Math.floor(next() * prices.length)]!;
    const ms = Date.UTC(2025, 9, 1) + Math.floor(next() * 5 * 86_400_000);
    const micros = String(Math.floor(next() * 1000)).padStart(3, "0");
    return {
      bid_id: `${prefix}-${i}`,
      user_id: `user-${Math.floor(next() * 7)}`,
      site_domain: sites[Math.floor(next() * sites.length)]!,
      win_status: win,
      win_price: win ? bid : "0",
      bid_price: bid,
      currency: next() < 0.9 ? "USD" : "EUR",
      enriched: next() < 0.85,
      timestamp: new Date(ms).toISOString().replace("Z", `${micros}Z`),
    };
  });
}

async function insert(batch: ReturnType<typeof rows>) {
  const col = <K extends keyof (typeof batch)[number]>(k: K) => batch.map((r) => r[k]);
  await db.setup`
    insert into auction_outcomes (bid_id, user_id, site_domain, win_status, win_price, bid_price, currency, enriched, "timestamp", raw_data)
    select b, u, s, w, wp, bp, c, e, t, '{}'::jsonb
    from unnest(${col("bid_id")}::text[], ${col("user_id")}::text[], ${col("site_domain") as (string | null)[]}::text[],
                ${col("win_status").map(String)}::text[]::boolean[], ${col("win_price")}::numeric[], ${col("bid_price")}::numeric[],
                ${col("currency")}::text[], ${col("enriched").map(String)}::text[]::boolean[], ${col("timestamp")}::timestamptz[])
         as x(b, u, s, w, wp, bp, c, e, t)
    on conflict do nothing`;
}

beforeAll(async () => {
  db = await createTestDatabase("rollups");
  const first = rows(7, 1500, "a");
  await insert(first);
  await insert(first.slice(200, 900)); // redelivery: must not count again
  await insert(rows(11, 800, "b"));
  await insert([...rows(7, 300, "a"), ...rows(13, 300, "c")]); // replay mixed with new rows
  await db.sql`update auction_outcomes set win_status = false, win_price = 0 where bid_id like 'b-1%'`;
  await db.sql`delete from auction_outcomes where bid_id like 'c-2%'`;
});

afterAll(async () => {
  await db.drop();
});

const queries: OutcomeFilterQuery[] = [
  {},
  { win_status: "true" },
  { win_status: "false", enriched: "true" },
  { currency: "eur" },
  { site_domain: "a.example" },
  { site_domain: "b.example", win_status: "true", enriched: "false" },
  { from: "2025-10-02" },
  { to: "2025-10-03T05:00:00Z" },
  { from: "2025-10-02T03:00:00Z", to: "2025-10-04T00:00:00Z" },
  { from: "2025-10-02T03:17:12.345678Z", to: "2025-10-04T22:59:59.999999Z" },
  { from: "2025-10-02T03:17:00+02:00", to: "2025-10-02T03:40:00Z" },
  { site_domain: "c.example", from: "2025-10-02T11:11:11Z", to: "2025-10-05" },
  { site_domain: "a.example", from: "2025-10-03", to: "2025-10-04" },
  { user_id: "user-3", from: "2025-10-02" },
  { min_price: "0.3", max_price: "1" },
  { enriched: "false", currency: "USD", from: "2025-10-01T00:30:00Z" },
];

describe("rollups answer exactly what the base table answers", () => {
  for (const query of queries) {
    test(`for filters ${JSON.stringify(query)}`, async () => {
      const filters: Filters = parseFilters(query);
      const onlyBase = { base: [filters] };
      // Compared as clients see them: numeric text may differ in trailing zeros, never in value.
      expect(renderStats(await outcomeStats(db.sql, filters))).toEqual(renderStats(await outcomeStats(db.sql, filters, onlyBase)));
      const daily = (await dailyStats(db.sql, filters)).map(renderDailyStat);
      expect(daily).toEqual((await dailyStats(db.sql, filters, onlyBase)).map(renderDailyStat));
      expect(await countOutcomes(db.sql, filters)).toBe(await countOutcomes(db.sql, filters, onlyBase));
    });
  }

  test("the base-table figures themselves match an independent count", async () => {
    const [row] = await db.sql<{ count: string }[]>`select count(*) as count from auction_outcomes`;
    const count = row!.count;
    // 1500 a-rows + 800 b-rows + 300 c-rows, minus the c-2* rows deleted (c-2 and c-20..c-299).
    const deleted = 1 + 10 + 100 + 0; // c-2, c-20..c-29, c-200..c-299
    expect(Number(count)).toBe(1500 + 800 + 300 - deleted);
    const stats = await outcomeStats(db.sql, {});
    expect(Number(stats.outcomes)).toBe(Number(count));
  });
});
