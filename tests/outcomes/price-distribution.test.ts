// GET /api/outcomes/price_distribution/ and the price rollup of migration 015: every percentile
// within the documented bound of PostgreSQL's own percentile_cont over the base table, the
// rollup's buckets equal to the base table's after writer, trigger, update and delete paths, the
// backfill of a populated database, and the 400s.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFile, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startChangeFeed } from "../../src/db/change-feed";
import { applyMigrations, MIGRATIONS_DIR } from "../../src/db/migrate";
import { writeBatch } from "../../src/ingest/batch-writer";
import type { Filters } from "../../src/outcomes/outcomes.filters";
import { binBounds, percentileFromBins, RELATIVE_ERROR_BOUND, significantText, ZERO_BIN } from "../../src/outcomes/outcomes.price-bins";
import { type PriceKind, priceBins } from "../../src/outcomes/outcomes.price-distribution";
import { renderPrice } from "../../src/values/decimals";
import { batchOf } from "../support/batches";
import { createTestDatabase, quietLog, type TestDatabase } from "../support/db";
import { testApp } from "../support/http";
import { parseMetrics, total } from "../support/metrics";

setDefaultTimeout(60_000);

let db: TestDatabase;
let api: ReturnType<typeof testApp>;

// Prices from 0 and the smallest the API takes to just under the largest the table takes, in
// clusters (as bidders price in tiers) and spread out.
const PRICES = ["0", "0.000001", "0.01", "0.10", "0.25", "0.35", "0.5", "0.75", "1.00", "1.2", "2.5", "7.123456", "19.99", "1000", "999999999999.999999"];
const CURRENCIES = ["USD", "EUR", "GBP"];
const SITES = ["a.example", "b.example", null];
const START_MS = Date.UTC(2025, 9, 1);

/** Deterministic pseudo-random outcomes over three days (a tiny LCG keeps the test independent of the generator). */
function outcomes(seed: number, count: number, prefix: string) {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  return Array.from({ length: count }, (_, i) => {
    const tiered = next() < 0.7;
    const bid = tiered ? PRICES[Math.floor(next() * PRICES.length)]! : (next() * 3).toFixed(6);
    const won = next() < 0.5;
    const ms = START_MS + Math.floor(next() * 3 * 86_400_000);
    return {
      bid_request_id: `${prefix}-${i}`,
      user_id: `user-${Math.floor(next() * 5)}`,
      site_domain: SITES[Math.floor(next() * SITES.length)],
      win_status: won,
      win_price: won ? (next() < 0.3 ? bid : (Number(bid) * next()).toFixed(6)) : "0",
      bid_price: bid,
      currency: CURRENCIES[Math.floor(next() * (next() < 0.8 ? 1 : 3))]!,
      enriched: next() < 0.5,
      timestamp: new Date(ms).toISOString(),
    };
  });
}

/** The same outcomes as a plain INSERT (the statement triggers' path, as psql or an ETL job would write). */
async function insertDirectly(sql: TestDatabase["setup"], rows: ReturnType<typeof outcomes>) {
  const col = <K extends keyof (typeof rows)[number]>(k: K) => rows.map((r) => r[k]);
  await sql`
    insert into auction_outcomes (bid_id, user_id, site_domain, win_status, win_price, bid_price, currency, enriched, "timestamp", raw_data)
    select b, u, s, w, wp, bp, c, e, t, '{}'::jsonb
    from unnest(${col("bid_request_id")}::text[], ${col("user_id")}::text[], ${col("site_domain") as (string | null)[]}::text[],
                ${col("win_status").map(String)}::text[]::boolean[], ${col("win_price")}::numeric[], ${col("bid_price")}::numeric[],
                ${col("currency")}::text[], ${col("enriched").map(String)}::text[]::boolean[], ${col("timestamp")}::timestamptz[])
         as x(b, u, s, w, wp, bp, c, e, t)
    on conflict do nothing`;
}

/** percentile_cont per currency, computed by PostgreSQL over the base table. */
async function exactFigures(filters: string, price: PriceKind) {
  const column = price === "bid" ? "bid_price" : "win_price";
  const rows = await db.setup.unsafe<{ currency: string; n: string; p50: number; p90: number; p99: number }[]>(`
    select currency, count(*) as n,
           percentile_cont(0.5) within group (order by ${column}) as p50,
           percentile_cont(0.9) within group (order by ${column}) as p90,
           percentile_cont(0.99) within group (order by ${column}) as p99
    from auction_outcomes where ${filters} group by currency order by currency`);
  return rows;
}

/** What the base table alone gives as bins: the plan with no rollup part. */
const baseOnly = (filters: Filters) => ({ base: [filters] });

/** Bins with their prices as values ("0" and "0.000000" are one price, stored at different scales). */
async function binsOf(...args: Parameters<typeof priceBins>) {
  const currencies = await priceBins(...args);
  return currencies.map(({ currency, bins }) => ({ currency, bins: bins.map((b) => ({ ...b, min: renderPrice(b.min), max: renderPrice(b.max) })) }));
}

const CASES: { query: string; filters: Filters; where: string; source: "rollup" | "exact" }[] = [
  { query: "", filters: {}, where: "true", source: "rollup" },
  { query: "&currency=eur", filters: { currency: "EUR" }, where: "currency = 'EUR'", source: "rollup" },
  { query: "&win_status=true", filters: { winStatus: true }, where: "win_status", source: "rollup" },
  { query: "&enriched=false&win_status=false", filters: { enriched: false, winStatus: false }, where: "not enriched and not win_status", source: "rollup" },
  {
    query: "&from=2025-10-01T05:17:00Z&to=2025-10-02T19:42:30.5Z",
    filters: { from: "2025-10-01T05:17:00Z", to: "2025-10-02T19:42:30.5Z" },
    where: `"timestamp" >= '2025-10-01T05:17:00Z' and "timestamp" < '2025-10-02T19:42:30.5Z'`,
    source: "rollup",
  },
  { query: "&site_domain=a.example", filters: { siteDomain: "a.example" }, where: "site_domain = 'a.example'", source: "exact" },
  {
    query: "&from=2025-10-02T10:05:00Z&to=2025-10-02T10:55:00Z",
    filters: { from: "2025-10-02T10:05:00Z", to: "2025-10-02T10:55:00Z" },
    where: `"timestamp" >= '2025-10-02T10:05:00Z' and "timestamp" < '2025-10-02T10:55:00Z'`,
    source: "exact",
  },
  { query: "&user_id=user-3", filters: { userId: "user-3" }, where: "user_id = 'user-3'", source: "exact" },
  { query: "&min_price=0.5", filters: { minPrice: "0.5" }, where: "win_price >= 0.5", source: "exact" },
];

beforeAll(async () => {
  db = await createTestDatabase("price_distribution");
  api = testApp(db.config, db.sql);
  // Half through the service's writer (which maintains the rollups in its own statement), half
  // by plain INSERT (the triggers' path), then a redelivery that must count nothing.
  const written = outcomes(7, 1500, "w");
  for (let i = 0; i < written.length; i += 250) await writeBatch(db.sql, batchOf(written.slice(i, i + 250)));
  await writeBatch(db.sql, batchOf(written.slice(0, 250)));
  await insertDirectly(db.setup, outcomes(11, 1500, "d"));
});

afterAll(async () => {
  await db.drop();
});

describe("price bins", () => {
  test("bounds are powers of 1.1 and price 0 has a bucket of its own", () => {
    expect(binBounds(0)).toEqual({ lower: "1", upper: "1.1" });
    expect(binBounds(-145)).toEqual({ lower: significantText(1.1 ** -145), upper: significantText(1.1 ** -144) });
    expect(Number(binBounds(-145).lower)).toBeLessThanOrEqual(0.000001);
    expect(Number(binBounds(289).upper)).toBeGreaterThan(1e12);
    expect(binBounds(ZERO_BIN)).toEqual({ lower: "0", upper: "0" });
  });

  test("significant digits are written out without an exponent", () => {
    expect(significantText(1234567.891)).toBe("1234570");
    expect(significantText(0.000000123456789)).toBe("0.000000123457");
    expect(significantText(0.5)).toBe("0.5");
  });

  test("a bin holding one distinct price gives that price exactly", () => {
    expect(percentileFromBins([{ bin: 0, outcomes: 10, min: "1.00", max: "1.00" }], 0.9)).toBe("1.00");
    expect(percentileFromBins([{ bin: ZERO_BIN, outcomes: 3, min: "0", max: "0" }], 0.5)).toBe("0");
    expect(percentileFromBins([], 0.5)).toBeNull();
  });
});

describe("the price rollup", () => {
  for (const price of ["bid", "win"] as const) {
    test(`holds the same ${price} price buckets as the base table, per currency`, async () => {
      for (const { filters, source } of CASES) {
        if (source === "exact") continue;
        expect(await binsOf(db.sql, filters, price)).toEqual(await binsOf(db.sql, filters, price, baseOnly(filters)));
      }
    });
  }

  test("stays equal to the base table after UPDATE and DELETE by hand", async () => {
    await db.setup`update auction_outcomes set bid_price = bid_price * 3, currency = 'GBP' where bid_id like 'd-1%' and bid_price < 1000`;
    await db.setup`delete from auction_outcomes where bid_id like 'w-2%'`;
    for (const price of ["bid", "win"] as const) expect(await binsOf(db.sql, {}, price)).toEqual(await binsOf(db.sql, {}, price, baseOnly({})));
    const [left] = await db.setup<{ n: string }[]>`select count(*) as n from outcome_rollup_price_hourly where outcomes <= 0`;
    expect(left!.n).toBe("0");
  });

  test("stores a price below float8's range, counting it in the lowest bucket", async () => {
    const tiny = `0.${"0".repeat(400)}1`;
    const result = await writeBatch(db.sql, batchOf([{ ...outcomes(3, 1, "tiny")[0]!, bid_price: tiny, currency: "CHF" }]));
    expect(result.inserted).toBe(1);
    const [bins] = await binsOf(db.sql, { currency: "CHF" }, "bid");
    expect(bins!.bins.map((b) => [b.bin, b.outcomes, b.min === renderPrice(tiny)])).toEqual([[-7248, 1, true]]);
    await db.setup`delete from auction_outcomes where currency = 'CHF'`;
  });

  test("is backfilled by migration 015 on a populated database", async () => {
    const old = await createTestDatabase("price_backfill", { migrate: false });
    const dir = await mkdtemp(join(tmpdir(), "helios-015-"));
    try {
      for (const file of await readdir(MIGRATIONS_DIR)) if (file < "015") await copyFile(join(MIGRATIONS_DIR, file), join(dir, file));
      await applyMigrations(old.setup, quietLog, { dir });
      await insertDirectly(old.setup, outcomes(5, 800, "b"));
      const later = (await readdir(MIGRATIONS_DIR)).filter((file) => file.endsWith(".sql") && file >= "015").sort();
      // 015 and whatever came after it, in order.
      expect(await applyMigrations(old.setup, quietLog)).toEqual(later);
      for (const price of ["bid", "win"] as const) {
        const fromRollup = await binsOf(old.sql, {}, price);
        expect(fromRollup.reduce((n, c) => n + c.bins.reduce((m, b) => m + b.outcomes, 0), 0)).toBe(800);
        expect(fromRollup).toEqual(await binsOf(old.sql, {}, price, baseOnly({})));
      }
      // ROLLUP_RETENTION_DAYS: the retention function drops price buckets with the other rollups.
      await old.setup`select helios_drop_rollups_before('2025-10-02T00:00:00Z')`;
      const [kept] = await old.setup<{ before: string; after: string }[]>`
        select count(*) filter (where bucket < '2025-10-02') as before, count(*) filter (where bucket >= '2025-10-02') as after
        from outcome_rollup_price_hourly`;
      expect(kept!.before).toBe("0");
      expect(Number(kept!.after)).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await old.drop();
    }
  });
});

describe("GET /api/outcomes/price_distribution/", () => {
  for (const price of ["bid", "win"] as const) {
    for (const { query, where, source } of CASES) {
      test(`gives ${price} percentiles within the bound of percentile_cont (${query || "no filter"}, ${source})`, async () => {
        const { status, body } = await api.get(`/api/outcomes/price_distribution/?price=${price}${query}`);
        expect(status).toBe(200);
        expect(body.source).toBe(source);
        expect(body.relative_error_bound).toBe(source === "rollup" ? RELATIVE_ERROR_BOUND : 0);
        const exact = await exactFigures(where, price);
        expect(body.results.map((r: { currency: string }) => r.currency)).toEqual(exact.map((r) => r.currency));
        for (const [i, figures] of exact.entries()) {
          const result = body.results[i];
          expect(result.count).toBe(Number(figures.n));
          expect(result.buckets.reduce((n: number, b: { count: number }) => n + b.count, 0)).toBe(Number(figures.n));
          for (const name of ["p50", "p90", "p99"] as const) {
            const error = Math.abs(Number(result[name]) - figures[name]);
            // exact answers are decimals; percentile_cont works in float8
            expect(error).toBeLessThanOrEqual(body.relative_error_bound * figures[name] + 1e-9 * Math.max(1, figures[name]));
          }
        }
      });
    }
  }

  test("gives the exact lowest and highest price, 0 and the table's largest included", async () => {
    const { body } = await api.get("/api/outcomes/price_distribution/?price=bid&currency=USD");
    const [range] = await db.setup<
      { min: string; max: string }[]
    >`select min(bid_price)::text as min, max(bid_price)::text as max from auction_outcomes where currency = 'USD'`;
    expect(range).toEqual({ min: "0", max: "999999999999.999999" });
    expect([body.results[0].min, body.results[0].max]).toEqual(["0.00", "999999999999.999999"]);
    expect(body.results[0].buckets[0]).toMatchObject({ lower: "0.00", upper: "0.00" });
  });

  test("keeps currencies apart: each entry counts only its own", async () => {
    const { body } = await api.get("/api/outcomes/price_distribution/?price=win");
    const counts = await db.setup<{ currency: string; n: string }[]>`select currency, count(*) as n from auction_outcomes group by 1 order by 1`;
    expect(body.results.map((r: { currency: string; count: number }) => [r.currency, r.count])).toEqual(counts.map((c) => [c.currency, Number(c.n)]));
  });

  test("answers an empty period with no results", async () => {
    const { status, body } = await api.get("/api/outcomes/price_distribution/?price=bid&from=2030-01-01&to=2030-01-02");
    expect(status).toBe(200);
    expect(body.results).toEqual([]);
  });

  test("gives bid prices when price is not given", async () => {
    const implicit = await api.get("/api/outcomes/price_distribution/?currency=GBP");
    expect(implicit.status).toBe(200);
    expect(implicit.body).toEqual((await api.get("/api/outcomes/price_distribution/?currency=GBP&price=bid")).body);
  });

  test("refuses price=median with 400 naming bid and win", async () => {
    const { status, body } = await api.get("/api/outcomes/price_distribution/?price=median&win_status=maybe");
    expect(status).toBe(400);
    expect(body.errors.price).toEqual(['"median" is not valid: expected bid or win.']);
    expect(body.errors.win_status[0]).toContain("expected true or false");
  });

  test("is in the OpenAPI document with its price parameter", async () => {
    const { body } = await api.get("/swagger/json");
    const operation = body.paths["/api/outcomes/price_distribution/"].get;
    expect(operation.parameters.map((p: { name: string }) => p.name)).toContain("price");
    expect(operation.responses["200"]).toBeDefined();
  });
});

describe("price distributions and the aggregate cache", () => {
  test("are served again from memory, then exactly the new figures once an insert commits", async () => {
    const feed = startChangeFeed(db.config.db, quietLog);
    try {
      await feed.ready();
      const cachedApi = testApp(db.config, db.sql, quietLog, feed);
      const path = "/api/outcomes/price_distribution/?price=bid&currency=JPY";
      const hits = async () => total(parseMetrics((await cachedApi.get("/metrics")).text), "aggregate_cache_lookups_total", { outcome: "hit" }) ?? 0;
      expect((await cachedApi.get(path)).body.results).toEqual([]);
      const hitsBefore = await hits();
      expect((await cachedApi.get(path)).body.results).toEqual([]);
      expect(await hits()).toBe(hitsBefore + 1);
      const before = feed.version;
      await writeBatch(db.sql, batchOf([{ ...outcomes(9, 1, "jpy")[0]!, bid_price: "150", currency: "JPY" }]));
      const deadline = Date.now() + 10_000;
      while (feed.version === before && Date.now() < deadline) await Bun.sleep(5);
      const after = (await cachedApi.get(path)).body;
      expect(after.results.map((r: { currency: string; count: number; p50: string }) => [r.currency, r.count, r.p50])).toEqual([["JPY", 1, "150.00"]]);
      await db.setup`delete from auction_outcomes where currency = 'JPY'`;
    } finally {
      await feed.close();
    }
  });
});
