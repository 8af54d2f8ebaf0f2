// tz=: days, weeks and months of a time zone on daily_stats/, the time series and breakdowns,
// across daylight-saving changes (a 23-hour and a 25-hour day in Europe/Berlin and in
// America/New_York) and in zones 30 and 45 minutes off the hour (Asia/Kolkata, Asia/Kathmandu).
// Each row's local day is computed here from the zones' 2025 rules written out by hand, never by
// the code under test or by PostgreSQL.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Sql } from "../../src/db/client";
import { exactPlan, type Grouping, groupedAggregates, planGrouped } from "../../src/outcomes/outcomes.grouped";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { meanAsNumber, money, sumDecimals } from "../support/exact-decimal";
import { OUTCOMES, type OutcomeFixture } from "../support/fixtures";
import { revenueByCurrency } from "../support/outcomes-model";

setDefaultTimeout(30_000);

const HOUR = 3_600_000;
const MINUTE = 60_000;

/** UTC offset (ms) of each zone at an instant, from its 2025 rules (the only year the rows are in). */
const ZONES: Record<string, (ms: number) => number> = {
  UTC: () => 0,
  // CET +1, CEST +2 from 2025-03-30T01:00Z to 2025-10-26T01:00Z.
  "Europe/Berlin": (ms) => (ms >= Date.parse("2025-03-30T01:00:00Z") && ms < Date.parse("2025-10-26T01:00:00Z") ? 2 : 1) * HOUR,
  // EST −5, EDT −4 from 2025-03-09T07:00Z to 2025-11-02T06:00Z.
  "America/New_York": (ms) => (ms >= Date.parse("2025-03-09T07:00:00Z") && ms < Date.parse("2025-11-02T06:00:00Z") ? -4 : -5) * HOUR,
  "Asia/Kolkata": () => 5 * HOUR + 30 * MINUTE,
  "Asia/Kathmandu": () => 5 * HOUR + 45 * MINUTE,
};

const msOf = (iso: string) => Date.parse(iso.replace(/(\.\d{3})\d*Z$/, "$1Z"));
const localDate = (iso: string, zone: string) => new Date(msOf(iso) + ZONES[zone]!(msOf(iso))).toISOString().slice(0, 10);
/** The instant a local midnight falls on (no zone here changes its offset at midnight). */
function midnightUtc(date: string, zone: string): string {
  const local = Date.parse(`${date}T00:00:00Z`);
  const guess = local - ZONES[zone]!(local);
  return new Date(local - ZONES[zone]!(guess)).toISOString().replace(".000Z", "Z");
}
function mondayOf(date: string): string {
  const ms = Date.parse(`${date}T00:00:00Z`);
  return new Date(ms - ((new Date(ms).getUTCDay() + 6) % 7) * 86_400_000).toISOString().slice(0, 10);
}

type Row = [bid: string, timestamp: string, won: boolean, price: string, currency: string];
const BOUNDARY_ROWS: Row[] = [
  // Europe/Berlin, spring: 2025-03-30 is [2025-03-29T23:00Z, 2025-03-30T22:00Z), 23 hours.
  ["be-1", "2025-03-29T22:59:59.999999Z", true, "0.01", "EUR"],
  ["be-2", "2025-03-29T23:00:00.000000Z", true, "0.02", "EUR"],
  ["be-3", "2025-03-30T01:30:00.000000Z", false, "0", "EUR"],
  ["be-4", "2025-03-30T21:59:59.999999Z", true, "0.04", "USD"],
  ["be-5", "2025-03-30T22:00:00.000000Z", true, "0.05", "EUR"],
  // Europe/Berlin, autumn: 2025-10-26 is [2025-10-25T22:00Z, 2025-10-26T23:00Z), 25 hours; 02:30 happens twice.
  ["be-6", "2025-10-25T21:59:59.999999Z", true, "0.06", "EUR"],
  ["be-7", "2025-10-25T22:00:00.000000Z", true, "0.07", "EUR"],
  ["be-8", "2025-10-26T00:30:00.000000Z", true, "0.08", "USD"],
  ["be-9", "2025-10-26T01:30:00.000000Z", false, "0", "EUR"],
  ["be-10", "2025-10-26T22:59:59.999999Z", true, "0.10", "EUR"],
  ["be-11", "2025-10-26T23:00:00.000000Z", true, "0.11", "EUR"],
  // America/New_York, spring: 2025-03-09 is [2025-03-09T05:00Z, 2025-03-10T04:00Z), 23 hours.
  ["ny-1", "2025-03-09T04:59:59.999999Z", true, "1.01", "USD"],
  ["ny-2", "2025-03-09T05:00:00.000000Z", true, "1.02", "USD"],
  ["ny-3", "2025-03-09T07:30:00.000000Z", false, "0", "USD"],
  ["ny-4", "2025-03-10T03:59:59.999999Z", true, "1.04", "USD"],
  ["ny-5", "2025-03-10T04:00:00.000000Z", true, "1.05", "USD"],
  // America/New_York, autumn: 2025-11-02 is [2025-11-02T04:00Z, 2025-11-03T05:00Z), 25 hours; 01:30 happens twice.
  ["ny-6", "2025-11-02T03:59:59.999999Z", true, "1.06", "USD"],
  ["ny-7", "2025-11-02T04:00:00.000000Z", true, "1.07", "USD"],
  ["ny-8", "2025-11-02T05:30:00.000000Z", true, "1.08", "EUR"],
  ["ny-9", "2025-11-02T06:30:00.000000Z", false, "0", "USD"],
  ["ny-10", "2025-11-03T04:59:59.999999Z", true, "1.10", "USD"],
  ["ny-11", "2025-11-03T05:00:00.000000Z", true, "1.11", "USD"],
  // Asia/Kolkata (+05:30): 2025-06-11 is [2025-06-10T18:30Z, 2025-06-11T18:30Z).
  ["in-1", "2025-06-10T18:29:59.999999Z", true, "2.01", "USD"],
  ["in-2", "2025-06-10T18:30:00.000000Z", true, "2.02", "USD"],
  ["in-3", "2025-06-10T18:59:59.999999Z", false, "0", "USD"],
  ["in-4", "2025-06-11T18:29:59.999999Z", true, "2.04", "USD"],
  // Asia/Kathmandu (+05:45): 2025-06-12 starts at 2025-06-11T18:15Z.
  ["np-1", "2025-06-11T18:14:59.999999Z", true, "3.01", "USD"],
  ["np-2", "2025-06-11T18:15:00.000000Z", true, "3.02", "USD"],
];

const ROWS: OutcomeFixture[] = BOUNDARY_ROWS.map(([bid_id, timestamp, won, price, currency], i) => ({
  ...OUTCOMES[0]!,
  bid_id,
  user_id: `u-${i % 3}`,
  site_domain: i % 2 === 0 ? "even.example" : "odd.example",
  win_status: won,
  win_price: price,
  bid_price: won ? price : "0.5",
  currency,
  enriched: i % 3 === 0,
  timestamp,
  auction_timestamp: null,
}));

let db: TestDatabase;
let api: { get: (path: string) => Promise<{ status: number; body: any }> };

async function insertRows(sql: Sql, rows: readonly OutcomeFixture[]): Promise<void> {
  for (const row of rows) {
    await sql`
      insert into auction_outcomes (bid_id, user_id, site_domain, win_status, win_price, bid_price, currency, enriched, "timestamp", raw_data)
      values (${row.bid_id}, ${row.user_id}, ${row.site_domain}, ${row.win_status}, ${row.win_price}::numeric, ${row.bid_price}::numeric,
              ${row.currency}, ${row.enriched}, ${row.timestamp}::timestamptz, '{}'::jsonb)`;
  }
}

beforeAll(async () => {
  db = await createTestDatabase("outcomes_local_time");
  await insertRows(db.setup, ROWS);
  const { testApp } = await import("../support/http");
  api = testApp(db.config, db.sql);
});

afterAll(async () => {
  await db.drop();
});

/** daily_stats/ as it must be in `zone`: one entry per local day with outcomes, newest first. */
function expectedDaily(rows: readonly OutcomeFixture[], zone: string) {
  const days = [...new Set(rows.map((row) => localDate(row.timestamp, zone)))].sort().reverse();
  return days.map((date) => {
    const ofDay = rows.filter((row) => localDate(row.timestamp, zone) === date);
    const wins = ofDay.filter((row) => row.win_status).map((row) => row.win_price);
    return {
      date,
      total: ofDay.length,
      wins: wins.length,
      revenue: wins.length === 0 ? null : Number(sumDecimals(wins)),
      avg_win_price: wins.length === 0 ? null : meanAsNumber(wins),
      revenue_by_currency: revenueByCurrency(ofDay as never),
    };
  });
}

/** Microseconds since the epoch of an ISO-8601 Z instant (Date.parse stops at the millisecond). */
const microsOf = (iso: string) => {
  const fraction = /\.(\d+)Z$/.exec(iso)?.[1] ?? "";
  return BigInt(Date.parse(iso.replace(/\.\d+Z$/, "Z"))) * 1000n + BigInt(fraction.padEnd(6, "0").slice(0, 6));
};
const within = (row: OutcomeFixture, from: string, to: string) => microsOf(row.timestamp) >= microsOf(from) && microsOf(row.timestamp) < microsOf(to);

describe("daily_stats/ with tz", () => {
  for (const zone of Object.keys(ZONES)) {
    test(`gives the days of ${zone}, exactly`, async () => {
      const { status, body } = await api.get(`/api/outcomes/daily_stats/?tz=${zone}`);
      expect(status).toBe(200);
      expect(body).toEqual(expectedDaily(ROWS, zone));
    });
  }

  test("puts the 23-hour spring day and the 25-hour autumn day of Europe/Berlin together, by hand", async () => {
    const { body } = await api.get("/api/outcomes/daily_stats/?tz=Europe/Berlin&from=2025-03-29&to=2025-04-01");
    expect(body.map((day: any) => [day.date, day.total])).toEqual([
      ["2025-03-31", 1],
      ["2025-03-30", 3],
      ["2025-03-29", 1],
    ]);
    const autumn = await api.get("/api/outcomes/daily_stats/?tz=Europe/Berlin&from=2025-10-25&to=2025-10-28");
    expect(autumn.body.map((day: any) => [day.date, day.total, day.revenue_by_currency])).toEqual([
      ["2025-10-27", 1, { EUR: "0.11" }],
      ["2025-10-26", 4, { EUR: "0.17", USD: "0.08" }],
      ["2025-10-25", 1, { EUR: "0.06" }],
    ]);
  });

  test("cuts a period at unaligned bounds exactly (rollup hours plus base-table edges)", async () => {
    for (const zone of ["Europe/Berlin", "America/New_York", "Asia/Kolkata"]) {
      const [from, to] = ["2025-03-29T23:00:00.000001Z", "2025-11-02T05:59:59.5Z"];
      const { body } = await api.get(`/api/outcomes/daily_stats/?tz=${zone}&from=${from}&to=${to}`);
      expect(body).toEqual(
        expectedDaily(
          ROWS.filter((row) => within(row, from, to)),
          zone,
        ),
      );
    }
  });

  test("refuses an unknown zone with 400 naming the accepted form", async () => {
    for (const path of ["/api/outcomes/daily_stats/?tz=Europe/Atlantis", "/api/outcomes/timeseries/?tz=Europe/Atlantis"]) {
      const { status, body } = await api.get(path);
      expect(status).toBe(400);
      expect(body).toEqual({
        detail: "Invalid query parameter: tz.",
        errors: {
          tz: [
            '"Europe/Atlantis" is not a time zone PostgreSQL knows: expected an IANA time zone name as in PostgreSQL\'s pg_timezone_names, e.g. Europe/Berlin, America/New_York, Asia/Kolkata or UTC.',
          ],
        },
      });
    }
  });

  test("takes a zone name in any case, as PostgreSQL does", async () => {
    const { status, body } = await api.get("/api/outcomes/daily_stats/?tz=europe/berlin");
    expect(status).toBe(200);
    expect(body).toEqual(expectedDaily(ROWS, "Europe/Berlin"));
    expect((await api.get("/api/outcomes/breakdown/?by=day&tz=america/new_york")).body.tz).toBe("America/New_York");
  });
});

describe("timeseries/ with tz", () => {
  const DAYS: [string, string, string, string[]][] = [
    // zone, from, to, the bucket starts: a 23-hour day then a 24-hour one.
    ["Europe/Berlin", "2025-03-29T23:00:00Z", "2025-03-31T22:00:00Z", ["2025-03-29T23:00:00Z", "2025-03-30T22:00:00Z"]],
    // a 25-hour day.
    ["Europe/Berlin", "2025-10-25T22:00:00Z", "2025-10-27T23:00:00Z", ["2025-10-25T22:00:00Z", "2025-10-26T23:00:00Z"]],
    ["America/New_York", "2025-03-09T05:00:00Z", "2025-03-11T04:00:00Z", ["2025-03-09T05:00:00Z", "2025-03-10T04:00:00Z"]],
    ["America/New_York", "2025-11-02T04:00:00Z", "2025-11-04T05:00:00Z", ["2025-11-02T04:00:00Z", "2025-11-03T05:00:00Z"]],
    ["Asia/Kolkata", "2025-06-10T18:30:00Z", "2025-06-12T18:30:00Z", ["2025-06-10T18:30:00Z", "2025-06-11T18:30:00Z"]],
    ["Asia/Kathmandu", "2025-06-10T18:15:00Z", "2025-06-12T18:15:00Z", ["2025-06-10T18:15:00Z", "2025-06-11T18:15:00Z"]],
  ];
  for (const [zone, from, to, starts] of DAYS) {
    test(`gives days of ${zone} from ${from}, each starting at its local midnight`, async () => {
      const { status, body } = await api.get(`/api/outcomes/timeseries/?interval=day&tz=${zone}&from=${from}&to=${to}`);
      expect(status).toBe(200);
      expect(starts).toEqual(starts.map((start) => midnightUtc(localDate(`${start.replace("Z", ".000000Z")}`, zone), zone)));
      expect(body.results).toEqual(
        starts.map((bucket, i) => {
          const end = starts[i + 1] ?? to;
          const inBucket = ROWS.filter((row) => within(row, bucket, end));
          const wins = inBucket.filter((row) => row.win_status);
          return { bucket, outcomes: inBucket.length, wins: wins.length, revenue: money(sumDecimals(wins.map((row) => row.win_price))) };
        }),
      );
    });
  }

  test("gives the hours of Asia/Kolkata starting at half past each UTC hour", async () => {
    const { body } = await api.get("/api/outcomes/timeseries/?interval=hour&tz=Asia/Kolkata&from=2025-06-10T17:30:00Z&to=2025-06-10T19:30:00Z");
    expect(body.results).toEqual([
      { bucket: "2025-06-10T17:30:00Z", outcomes: 1, wins: 1, revenue: "2.01" },
      { bucket: "2025-06-10T18:30:00Z", outcomes: 2, wins: 1, revenue: "2.02" },
    ]);
  });

  test("without from and to spans the zone's days from the first outcome to the last", async () => {
    const { body } = await api.get("/api/outcomes/timeseries/?interval=day&tz=Asia/Kolkata&currency=EUR");
    const eur = ROWS.filter((row) => row.currency === "EUR");
    expect(body.results[0].bucket).toBe(midnightUtc(localDate(eur[0]!.timestamp, "Asia/Kolkata"), "Asia/Kolkata"));
    expect(body.results.reduce((n: number, point: any) => n + point.outcomes, 0)).toBe(eur.length);
  });
});

describe("breakdowns by day, week and month with tz", () => {
  const keyOf = (row: OutcomeFixture, dim: "day" | "week" | "month", zone: string) =>
    dim === "day" ? localDate(row.timestamp, zone) : dim === "week" ? mondayOf(localDate(row.timestamp, zone)) : localDate(row.timestamp, zone).slice(0, 7);

  for (const zone of Object.keys(ZONES)) {
    for (const dim of ["day", "week", "month"] as const) {
      test(`by=${dim},currency in ${zone} groups each outcome in its local ${dim}`, async () => {
        const { status, body } = await api.get(`/api/outcomes/breakdown/?by=${dim},currency&tz=${zone}&order=${dim}&limit=1000`);
        expect(status).toBe(200);
        expect(body.tz).toBe(zone);
        const groups = new Map<string, OutcomeFixture[]>();
        for (const row of ROWS) {
          const id = `${keyOf(row, dim, zone)} ${row.currency}`;
          groups.set(id, [...(groups.get(id) ?? []), row]);
        }
        const expected = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
        expect(body.results.map((group: any) => [`${group.key[dim]} ${group.key.currency}`, group.outcomes, group.revenue])).toEqual(
          expected.map(([id, members]) => [id, members.length, money(sumDecimals(members.filter((row) => row.win_status).map((row) => row.win_price)))]),
        );
        expect(body.total.outcomes).toBe(ROWS.length);
      });
    }
  }
});

describe("which path answers a zone", () => {
  const cases: [string, "hourly" | undefined][] = [
    ["UTC", "hourly"],
    ["Europe/Berlin", "hourly"],
    ["America/New_York", "hourly"],
    // An hour of the rollup holds a local midnight: the base table answers instead.
    ["Asia/Kolkata", undefined],
    ["Asia/Kathmandu", undefined],
  ];
  for (const [tz, rollup] of cases) {
    test(`${tz}: ${rollup ? "the hourly rollup" : "the base table"} answers, the same as the base table`, async () => {
      for (const dims of [["day"], ["week", "win_status"], ["month"], ["hour"]] as Grouping["dims"][]) {
        const grouping: Grouping = { dims, tz };
        const filters = { from: "2025-03-01T00:00:00.5+00:00" };
        const plan = await exactPlan(db.sql, filters, planGrouped(filters, grouping), grouping);
        // Hours of a half-hour zone cross UTC hours too; hours of whole-hour zones never do.
        expect(plan.rollup?.table).toBe(rollup);
        const order = { by: "revenue" as const, desc: true };
        expect(await groupedAggregates(db.sql, filters, grouping, order)).toEqual(
          await groupedAggregates(db.sql, filters, grouping, order, { base: [filters] }),
        );
      }
    });
  }
});
