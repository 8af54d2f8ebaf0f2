// GET /api/outcomes/timeseries/?interval=minute: minute buckets for short periods, counted from the
// outcomes themselves (no rollup keeps minutes), every figure computed here from the fixture rows;
// tz= is accepted and leaves them UTC minutes (every zone's offset is a whole number of minutes).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { planGrouped } from "../../src/outcomes/outcomes.grouped";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { testApp } from "../support/http";

setDefaultTimeout(30_000);

let db: TestDatabase;
let api: ReturnType<typeof testApp>;

// Minute m of 2025-11-01T10:00 holds m + 1 outcomes at second 7 of that minute; every third won at 0.35.
const MINUTES = 12;

beforeAll(async () => {
  db = await createTestDatabase("series_minutes");
  api = testApp(db.config, db.sql);
  await db.setup`
    insert into auction_outcomes (bid_id, user_id, site_domain, win_status, win_price, bid_price, currency, enriched, "timestamp", raw_data)
    select 'm-' || m || '-' || k, 'u', 'example.com', k % 3 = 0, case when k % 3 = 0 then 0.35 else 0 end, 0.5, 'USD', false,
           '2025-11-01T10:00:07Z'::timestamptz + make_interval(mins => m), '{}'::jsonb
    from generate_series(0, ${MINUTES - 1}::int) as m, generate_series(1, m + 1) as k`;
});

afterAll(async () => {
  await db.drop();
});

const expected = (m: number) => {
  const outcomes = m + 1;
  const wins = Math.floor(outcomes / 3);
  return { outcomes, wins, revenue: ((wins * 35) / 100).toFixed(2) };
};

describe("GET /api/outcomes/timeseries/?interval=minute", () => {
  test("gives one point per UTC minute of the period, empty minutes as zeros", async () => {
    const { status, body } = await api.get("/api/outcomes/timeseries/?interval=minute&from=2025-11-01T09:58:30Z&to=2025-11-01T10:14:00Z");
    expect(status).toBe(200);
    expect(body.interval).toBe("minute");
    const points = body.results as { bucket: string; outcomes: number; wins: number; revenue: string }[];
    expect(points).toHaveLength(16);
    expect(points[0]).toEqual({ bucket: "2025-11-01T09:58:00Z", outcomes: 0, wins: 0, revenue: "0.00" });
    for (let m = 0; m < MINUTES; m++) {
      expect(points[m + 2]).toEqual({ bucket: `2025-11-01T10:${String(m).padStart(2, "0")}:00Z`, ...expected(m) });
    }
    expect(points[15]).toEqual({ bucket: "2025-11-01T10:13:00Z", outcomes: 0, wins: 0, revenue: "0.00" });
  });

  test("cuts the partial minutes at either end exactly", async () => {
    const { body } = await api.get("/api/outcomes/timeseries/?interval=minute&from=2025-11-01T10:02:08Z&to=2025-11-01T10:04:07Z");
    expect(body.results).toEqual([
      { bucket: "2025-11-01T10:02:00Z", outcomes: 0, wins: 0, revenue: "0.00" },
      { bucket: "2025-11-01T10:03:00Z", ...expected(3) },
      { bucket: "2025-11-01T10:04:00Z", outcomes: 0, wins: 0, revenue: "0.00" },
    ]);
  });

  test("allows 360 minute buckets and refuses 361 with a 400 naming interval and the coarser choice", async () => {
    expect((await api.get("/api/outcomes/timeseries/?interval=minute&from=2025-11-01T06:00:00Z&to=2025-11-01T12:00:00Z")).body.results).toHaveLength(360);
    const { status, body } = await api.get("/api/outcomes/timeseries/?interval=minute&from=2025-11-01T06:00:00Z&to=2025-11-01T12:00:00.5Z");
    expect(status).toBe(400);
    expect(body).toEqual({
      detail: "Invalid query parameter: interval.",
      errors: { interval: ["The period spans 361 minute buckets: expected at most 360; narrow from/to or use interval=hour."] },
    });
  });

  test("gives the same UTC minutes with tz=Asia/Kolkata, tz=Asia/Kathmandu and tz=America/New_York as without", async () => {
    const period = "interval=minute&from=2025-11-01T09:58:30Z&to=2025-11-01T10:14:00Z";
    const utc = (await api.get(`/api/outcomes/timeseries/?${period}`)).body;
    for (const tz of ["Asia/Kolkata", "Asia/Kathmandu", "America/New_York"]) {
      const { status, body } = await api.get(`/api/outcomes/timeseries/?${period}&tz=${tz}`);
      expect(status).toBe(200);
      expect(body).toEqual(utc);
    }
  });

  test("refuses 361 minute buckets with tz as without", async () => {
    const { status, body } = await api.get("/api/outcomes/timeseries/?interval=minute&tz=Asia/Kolkata&from=2025-11-01T06:00:00Z&to=2025-11-01T12:00:00.5Z");
    expect(status).toBe(400);
    expect(body.errors).toEqual({ interval: ["The period spans 361 minute buckets: expected at most 360; narrow from/to or use interval=hour."] });
  });

  test("refuses minutes over an open period with a 400 naming from and to, before reading any outcome", async () => {
    for (const period of ["", "&from=2025-11-01T10:00:00Z", "&to=2025-11-01T11:00:00Z"]) {
      const { status, body } = await api.get(`/api/outcomes/timeseries/?interval=minute${period}`);
      expect(status).toBe(400);
      expect(body).toEqual({
        detail: "Invalid query parameter: interval.",
        errors: { interval: ["interval=minute needs both from and to, at most 360 minutes apart; or use interval=hour."] },
      });
    }
  });

  test("refuses an unknown zone with minutes too, naming tz", async () => {
    const { status, body } = await api.get("/api/outcomes/timeseries/?interval=minute&tz=Europe/Atlantis&from=2025-11-01T10:00:00Z&to=2025-11-01T11:00:00Z");
    expect(status).toBe(400);
    expect(Object.keys(body.errors)).toEqual(["tz"]);
  });

  test("is counted from the base table: no rollup serves minutes", () => {
    const filters = { from: "2025-11-01T10:00:00+00:00", to: "2025-11-01T16:00:00+00:00" };
    for (const tz of ["UTC", "Asia/Kolkata"]) expect(planGrouped(filters, { dims: ["minute"], tz })).toEqual({ base: [filters] });
  });

  test("equals the hourly series summed per hour", async () => {
    const minutes = (await api.get("/api/outcomes/timeseries/?interval=minute&from=2025-11-01T10:00:00Z&to=2025-11-01T11:00:00Z")).body.results;
    const hours = (await api.get("/api/outcomes/timeseries/?interval=hour&from=2025-11-01T10:00:00Z&to=2025-11-01T11:00:00Z")).body.results;
    const sum = (key: "outcomes" | "wins") => minutes.reduce((n: number, p: Record<string, number>) => n + p[key]!, 0);
    expect([sum("outcomes"), sum("wins")]).toEqual([hours[0].outcomes, hours[0].wins]);
  });
});
