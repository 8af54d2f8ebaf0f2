// The aggregates and the search the console reads, usable by any script: timeseries/, top/ and
// the search parameter of the list. Every expected figure is computed here from the fixture rows with exact
// decimal arithmetic and plain text comparisons, never by the code under test.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { topBy } from "../../src/outcomes/outcomes.aggregates";
import { type Filters, whereClause } from "../../src/outcomes/outcomes.filters";
import { groupedAggregates } from "../../src/outcomes/outcomes.grouped";
import type { AggregatePlan } from "../../src/outcomes/outcomes.rollup-plan";
import { planAggregate } from "../../src/outcomes/outcomes.rollup-plan";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { compareDecimals, sumDecimals } from "../support/exact-decimal";
import { insertGeneratedOutcomes, insertOutcomes, type StoredOutcome } from "../support/fixtures";
import { testApp } from "../support/http";
import { newestFirst } from "../support/outcomes-model";

setDefaultTimeout(30_000);

/** Exact decimal text as the API renders money: no trailing zeros, at least 2 fractional digits. */
function money(text: string): string {
  const [whole, fraction = ""] = text.split(".");
  return `${whole}.${fraction.replace(/0+$/, "").padEnd(2, "0")}`;
}

/** Fixture timestamps share one fixed-width format, so a bound in that format compares as text. */
const within = (row: StoredOutcome, from?: string, to?: string) => (from === undefined || row.timestamp >= from) && (to === undefined || row.timestamp < to);

function expectedSeries(rows: StoredOutcome[], interval: "hour" | "day", first: string, last: string) {
  const unit = interval === "hour" ? 3_600_000 : 86_400_000;
  const keyOf = (row: StoredOutcome) => (interval === "hour" ? `${row.timestamp.slice(0, 13)}:00:00Z` : `${row.timestamp.slice(0, 10)}T00:00:00Z`);
  const points = [];
  for (let ms = Date.parse(first); ms <= Date.parse(last); ms += unit) {
    const bucket = new Date(ms).toISOString().replace(".000Z", "Z");
    const inBucket = rows.filter((row) => keyOf(row) === bucket);
    const wins = inBucket.filter((row) => row.win_status);
    points.push({ bucket, outcomes: inBucket.length, wins: wins.length, revenue: money(sumDecimals(wins.map((row) => row.win_price))) });
  }
  return points;
}

function expectedTop(rows: StoredOutcome[], by: "site_domain" | "user_id", limit: number) {
  const groups = new Map<string | null, StoredOutcome[]>();
  for (const row of rows) groups.set(row[by], [...(groups.get(row[by]) ?? []), row]);
  return [...groups.entries()]
    .map(([key, members]) => {
      const wins = members.filter((row) => row.win_status);
      return { key, outcomes: members.length, wins: wins.length, revenue: money(sumDecimals(wins.map((row) => row.win_price))) };
    })
    .sort(
      (a, b) =>
        compareDecimals(b.revenue, a.revenue) ||
        b.outcomes - a.outcomes ||
        (a.key === b.key ? 0 : a.key === null ? 1 : b.key === null ? -1 : a.key < b.key ? -1 : 1),
    )
    .slice(0, limit);
}

describe("with the fixture outcomes", () => {
  let db: TestDatabase;
  let rows: StoredOutcome[];
  let api: ReturnType<typeof testApp>;

  beforeAll(async () => {
    db = await createTestDatabase("console_endpoints");
    rows = await insertOutcomes(db.setup);
    api = testApp(db.config, db.sql);
  });

  afterAll(async () => {
    await db.drop();
  });

  describe("GET /api/outcomes/timeseries/", () => {
    test("gives one point per UTC day from the first to the last day with outcomes, oldest first", async () => {
      const { status, body } = await api.get("/api/outcomes/timeseries/?interval=day");
      expect(status).toBe(200);
      expect(body).toEqual({ interval: "day", results: expectedSeries(rows, "day", "2025-10-23T00:00:00Z", "2025-10-26T00:00:00Z") });
      expect(body.results[1]).toEqual({ bucket: "2025-10-24T00:00:00Z", outcomes: 6, wins: 5, revenue: "0.600001" });
    });

    test("is per day by default", async () => {
      expect((await api.get("/api/outcomes/timeseries/")).body.interval).toBe("day");
    });

    test("counts hours between unaligned bounds exactly, the partial first and last hours included", async () => {
      const from = "2025-10-24T23:30:00.000000Z",
        to = "2025-10-25T12:30:00.000000Z";
      const { status, body } = await api.get(`/api/outcomes/timeseries/?interval=hour&from=${from}&to=${to}`);
      expect(status).toBe(200);
      const inRange = rows.filter((row) => within(row, from, to));
      expect(body.results).toEqual(expectedSeries(inRange, "hour", "2025-10-24T23:00:00Z", "2025-10-25T12:00:00Z"));
      expect(body.results).toHaveLength(14);
      expect(body.results[0]).toEqual({ bucket: "2025-10-24T23:00:00Z", outcomes: 2, wins: 1, revenue: "0.10" });
      expect(body.results[13]).toEqual({ bucket: "2025-10-25T12:00:00Z", outcomes: 3, wins: 2, revenue: "1.9345" });
    });

    test("answers per site per hour from the base table, with every filter applied", async () => {
      const query = "interval=hour&site_domain=example.com&win_status=true&from=2025-10-24T00:00:00Z&to=2025-10-27T00:00:00Z";
      const { body } = await api.get(`/api/outcomes/timeseries/?${query}`);
      const matching = rows.filter((row) => row.site_domain === "example.com" && row.win_status);
      expect(body.results).toEqual(expectedSeries(matching, "hour", "2025-10-24T00:00:00Z", "2025-10-26T23:00:00Z"));
      expect(body.results).toHaveLength(72);
    });

    test("applies user, price, currency and enriched filters", async () => {
      const { body } = await api.get("/api/outcomes/timeseries/?interval=day&user_id=u-alice&min_price=0.1&currency=usd&enriched=true");
      const matching = rows.filter((row) => row.user_id === "u-alice" && compareDecimals(row.win_price, "0.1") >= 0 && row.currency === "USD" && row.enriched);
      expect(body.results).toEqual(expectedSeries(matching, "day", "2025-10-24T00:00:00Z", "2025-10-25T00:00:00Z"));
    });

    test("gives the same points from the rollups as from the base table", async () => {
      const cases: Filters[] = [
        { from: "2025-10-24T23:30:00.5+00:00", to: "2025-10-26T08:30:00.500001+00:00" },
        { winStatus: true, currency: "USD" },
        { siteDomain: "shop.example.net", from: "2025-10-24T06:00:00+00:00" },
        { enriched: false, to: "2025-10-26T00:00:00.000001+00:00" },
      ];
      for (const filters of cases) {
        for (const interval of ["hour", "day"] as const) {
          const series = (plan?: AggregatePlan) => groupedAggregates(db.sql, filters, { dims: [interval], tz: "UTC" }, { by: interval, desc: false }, plan);
          expect(await series()).toEqual(await series({ base: [filters] }));
        }
      }
    });

    test("fills a period without outcomes with zeros, and gives nothing for an open period without outcomes", async () => {
      const closed = await api.get("/api/outcomes/timeseries/?interval=day&from=2025-01-01&to=2025-01-03");
      expect(closed.body.results).toEqual([
        { bucket: "2025-01-01T00:00:00Z", outcomes: 0, wins: 0, revenue: "0.00" },
        { bucket: "2025-01-02T00:00:00Z", outcomes: 0, wins: 0, revenue: "0.00" },
      ]);
      expect((await api.get("/api/outcomes/timeseries/?user_id=nobody")).body).toEqual({ interval: "day", results: [] });
    });

    test("allows exactly 2,000 buckets", async () => {
      const { status, body } = await api.get("/api/outcomes/timeseries/?interval=hour&from=2025-01-01T00:00:00Z&to=2025-03-25T08:00:00Z");
      expect(status).toBe(200);
      expect(body.results).toHaveLength(2000);
    });

    test("refuses a period of more than 2,000 buckets with a 400 naming interval", async () => {
      const hourly = await api.get("/api/outcomes/timeseries/?interval=hour&from=2025-01-01T00:00:00Z&to=2025-03-25T08:00:00.000001Z");
      expect(hourly.status).toBe(400);
      expect(hourly.body).toEqual({
        detail: "Invalid query parameter: interval.",
        errors: { interval: ["The period spans 2001 hourly buckets: expected at most 2000; narrow from/to or use interval=day."] },
      });
      const daily = await api.get("/api/outcomes/timeseries/?interval=day&from=2020-01-01&to=2025-06-24");
      expect(daily.status).toBe(400);
      expect(daily.body.errors.interval[0]).toStartWith("The period spans 2001 daily buckets");
    });

    test("refuses an open-ended period whose outcomes span more than 2,000 buckets", async () => {
      const { status, body } = await api.get("/api/outcomes/timeseries/?interval=hour&from=2025-07-01");
      expect(status).toBe(400);
      // 2025-07-01T00 up to the last fixture hour, 2025-10-26T23:00.
      expect(body.errors.interval).toEqual(["The period spans 2832 hourly buckets: expected at most 2000; narrow from/to or use interval=day."]);
    });

    test("refuses an unknown interval and a bad filter in one 400", async () => {
      const { status, body } = await api.get("/api/outcomes/timeseries/?interval=week&win_status=maybe");
      expect(status).toBe(400);
      expect(Object.keys(body.errors).sort()).toEqual(["interval", "win_status"]);
      expect(body.errors.interval).toEqual(['"week" is not valid: expected minute or hour or day.']);
    });
  });

  describe("GET /api/outcomes/top/", () => {
    test("ranks site domains by revenue, outcomes without a site as a null key", async () => {
      const { status, body } = await api.get("/api/outcomes/top/");
      expect(status).toBe(200);
      expect(body).toEqual({ by: "site_domain", results: expectedTop(rows, "site_domain", 10) });
      expect(body.results.map((entry: { key: string | null }) => entry.key)).toEqual(["news.example.org", "shop.example.net", "example.com", null]);
      expect(body.results[0]).toEqual({ key: "news.example.org", outcomes: 4, wins: 3, revenue: "12346.578901" });
    });

    test("ranks sites within unaligned bounds exactly (rollup days plus base-table edges)", async () => {
      const from = "2025-10-24T12:00:00.000000Z",
        to = "2025-10-26T06:00:00.000000Z";
      const { body } = await api.get(`/api/outcomes/top/?by=site_domain&from=${from}&to=${to}`);
      expect(body.results).toEqual(
        expectedTop(
          rows.filter((row) => within(row, from, to)),
          "site_domain",
          10,
        ),
      );
    });

    test("ranks users by revenue with the filters applied and the limit kept", async () => {
      const { body } = await api.get("/api/outcomes/top/?by=user_id&limit=3&win_status=true");
      expect(body).toEqual({
        by: "user_id",
        results: expectedTop(
          rows.filter((row) => row.win_status),
          "user_id",
          3,
        ),
      });
      expect(body.results.map((entry: { key: string }) => entry.key)).toEqual(["u-erin", "u-carol", "u-bob"]);
    });

    test("breaks revenue ties by more outcomes, then by key", async () => {
      const { body } = await api.get("/api/outcomes/top/?by=user_id&win_status=false");
      expect(body.results).toEqual(
        expectedTop(
          rows.filter((row) => !row.win_status),
          "user_id",
          10,
        ),
      );
      expect(body.results.map((entry: { key: string }) => entry.key)).toEqual(["u-alice", "u-bob", "u-carol", "u-dave", "u-erin"]);
    });

    test("gives the same ranking from the per-day-and-site rollup as from the base table", async () => {
      for (const filters of [{}, { from: "2025-10-24T12:00:00+00:00" }, { winStatus: true, to: "2025-10-26T00:00:00.5+00:00" }] as Filters[]) {
        expect(await topBy(db.sql, filters, "site_domain", 10)).toEqual(await topBy(db.sql, filters, "site_domain", 10, { base: [filters] }));
      }
    });

    test("refuses by and limit outside what it accepts", async () => {
      const { status, body } = await api.get("/api/outcomes/top/?by=currency&limit=101");
      expect(status).toBe(400);
      expect(body.errors).toEqual({
        by: ['"currency" is not valid: expected site_domain or user_id.'],
        limit: ['"101" is not valid: expected an integer from 1 to 100.'],
      });
      expect((await api.get("/api/outcomes/top/?limit=0")).status).toBe(400);
    });
  });

  describe("search on the outcomes list", () => {
    const ids = (body: { results: { id: number }[] }) => body.results.map((outcome) => outcome.id);

    test("matches a prefix of user_id", async () => {
      const { status, body } = await api.get("/api/outcomes/?search=u-a");
      expect(status).toBe(200);
      expect(body.count).toBe(7);
      expect(ids(body)).toEqual(newestFirst(rows.filter((row) => row.user_id.startsWith("u-a"))));
    });

    test("matches a prefix of bid_id or site_domain, whichever starts with it", async () => {
      expect(ids((await api.get("/api/outcomes/?search=b-1")).body)).toEqual(newestFirst(rows.filter((row) => row.bid_id.startsWith("b-1"))));
      expect(ids((await api.get("/api/outcomes/?search=news")).body)).toEqual(newestFirst(rows.filter((row) => row.site_domain?.startsWith("news"))));
      expect((await api.get("/api/outcomes/?search=example")).body.count).toBe(13); // example.com, not news.example.org
      expect((await api.get("/api/outcomes/?search=com")).body.count).toBe(0); // a prefix, not a substring
    });

    test("is case-sensitive and ignored when empty", async () => {
      expect((await api.get("/api/outcomes/?search=U-A")).body.count).toBe(0);
      expect((await api.get("/api/outcomes/?search=")).body.count).toBe(24);
    });

    test("combines with the filters, winners/, ordering and both kinds of pages", async () => {
      const expected = newestFirst(rows.filter((row) => row.user_id === "u-alice" && row.win_status));
      const winners = await api.get("/api/outcomes/winners/?search=u-alice&page_size=2");
      expect(winners.body.count).toBe(expected.length);
      const seen = [...ids(winners.body)];
      let next = winners.body.next;
      while (next) {
        const page = await api.get(next.replace("http://localhost", ""));
        seen.push(...ids(page.body));
        next = page.body.next;
      }
      expect(seen).toEqual(expected);
      const cursorSeen: number[] = [];
      let link: string | null = "/api/outcomes/?search=u-alice&win_status=true&page_size=2&cursor=";
      while (link) {
        const page = await api.get(link.replace("http://localhost", ""));
        cursorSeen.push(...ids(page.body));
        link = page.body.next;
      }
      expect(cursorSeen).toEqual(expected);
    });

    test("refuses a NUL character with a 400 naming search", async () => {
      const { status, body } = await api.get("/api/outcomes/?search=a%00b");
      expect(status).toBe(400);
      expect(Object.keys(body.errors)).toEqual(["search"]);
    });

    test("sends a count with a search to the base table, which alone can match a prefix", () => {
      expect(planAggregate({ search: "u-a" })).toEqual({ base: [{ search: "u-a" }] });
      expect(planAggregate({ search: "u-a", siteDomain: "example.com" })).toEqual({ base: [{ search: "u-a", siteDomain: "example.com" }] });
    });
  });
});

describe("search over thousands of rows", () => {
  let db: TestDatabase;
  let api: ReturnType<typeof testApp>;

  beforeAll(async () => {
    db = await createTestDatabase("console_search");
    await insertGeneratedOutcomes(db.setup, 5_000, { userId: "gen" });
    // Characters that are wildcards or the escape in LIKE, and a non-ASCII prefix.
    await db.setup`
      insert into auction_outcomes (bid_id, user_id, site_domain, win_status, "timestamp", raw_data)
      values ('promo_%1', 'u_x', 'a%b.example', false, '2025-11-02T00:00:00Z', '{}'),
             ('promoA1', 'uxx', 'ab.example', false, '2025-11-02T00:00:01Z', '{}'),
             ('back\\slash', 'über-user', null, false, '2025-11-02T00:00:02Z', '{}')`;
    await db.setup`analyze auction_outcomes`;
    api = testApp(db.config, db.sql);
  });

  afterAll(async () => {
    await db.drop();
  });

  const bids = async (search: string) =>
    (await api.get(`/api/outcomes/?search=${encodeURIComponent(search)}`)).body.results.map((outcome: { bid_id: string }) => outcome.bid_id);

  test("takes %, _ and \\ literally", async () => {
    expect(await bids("promo_")).toEqual(["promo_%1"]);
    expect(await bids("promo_%")).toEqual(["promo_%1"]);
    expect(await bids("u_")).toEqual(["promo_%1"]);
    expect(await bids("a%")).toEqual(["promo_%1"]);
    expect(await bids("back\\")).toEqual(["back\\slash"]);
    expect(await bids("%")).toEqual([]);
    expect(await bids("_")).toEqual([]);
  });

  test("matches a non-ASCII prefix", async () => {
    expect(await bids("ü")).toEqual(["back\\slash"]);
  });

  test("counts exactly on the base table", async () => {
    const { body } = await api.get("/api/outcomes/?search=gen-12&page_size=1");
    // gen-12, gen-120…gen-129, gen-1200…gen-1299
    expect(body.count).toBe(1 + 10 + 100);
  });

  type PlanNode = { "Node Type": string; "Index Name"?: string; Plans?: PlanNode[] };
  const nodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodes)];

  async function planOf(filters: Filters, generic: boolean): Promise<PlanNode[]> {
    return db.sql.begin(async (tx) => {
      if (generic) await tx`set local plan_cache_mode = force_generic_plan`;
      const [row] = await tx<{ "QUERY PLAN": [{ Plan: PlanNode }] }[]>`
        explain (format json) select id from auction_outcomes ${whereClause(tx as never, filters)}`;
      return nodes(row!["QUERY PLAN"][0].Plan);
    });
  }

  for (const generic of [false, true]) {
    test(`walks the three btree indexes in a BitmapOr (${generic ? "generic" : "custom"} plan)`, async () => {
      const plan = await planOf({ search: "gen-12" }, generic);
      expect(plan.some((node) => node["Node Type"] === "BitmapOr")).toBe(true);
      // Per partition scanned: its bid_id, site_domain and user_id indexes, by leading column.
      const scanned = plan.filter((node) => node["Node Type"] === "Bitmap Index Scan").map((node) => node["Index Name"]!);
      const leads = await db.sql<{ name: string; lead: string }[]>`
        select c.relname as name, a.attname as lead from pg_index i
        join pg_class c on c.oid = i.indexrelid
        join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
        where c.relname = any(${scanned}::text[])`;
      const leadOf = new Map(leads.map((row) => [row.name, row.lead]));
      expect(scanned.length % 3).toBe(0);
      expect(scanned.length).toBeGreaterThan(0);
      expect(scanned.map((name) => leadOf.get(name)).sort()).toEqual(
        Array.from({ length: scanned.length / 3 }, () => ["bid_id", "site_domain", "user_id"])
          .flat()
          .sort(),
      );
      expect(plan.some((node) => node["Node Type"] === "Seq Scan")).toBe(false);
    });
  }
});
