// GET /api/outcomes/ and /api/outcomes/winners/: every filter and every ordering, against
// expectations computed from the fixture rows (tests/support/outcomes-model.ts).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { insertOutcomes, type StoredOutcome } from "../support/fixtures";
import { BASE, testApp } from "../support/http";
import { FILTER_CASES, newestFirst, RECORD_FIELDS, type SortField, type SortKey, sortedIds } from "../support/outcomes-model";

setDefaultTimeout(30_000);

let db: TestDatabase;
let rows: StoredOutcome[];
let api: ReturnType<typeof testApp>;

beforeAll(async () => {
  db = await createTestDatabase("outcomes_list");
  rows = await insertOutcomes(db.setup);
  api = testApp(db.config, db.sql);
});

afterAll(async () => {
  await db.drop();
});

const ids = (body: { results: { id: number }[] }) => body.results.map((item) => item.id);

/** Follows `next` from `path` to the end; returns every page's ids. */
async function walkPages(path: string): Promise<number[][]> {
  const pages: number[][] = [];
  let next: string | null = path;
  while (next !== null) {
    const response = await api.get(next);
    expect(response.status).toBe(200);
    pages.push(ids(response.body));
    next = response.body.next === null ? null : response.body.next.slice(BASE.length);
    if (pages.length > 100) throw new Error("pagination does not end");
  }
  return pages;
}

describe("GET /api/outcomes/", () => {
  test("lists every outcome newest first, ties by highest id, 100 per page by default", async () => {
    const { status, body } = await api.get("/api/outcomes/");
    expect(status).toBe(200);
    expect(body.count).toBe(24);
    expect(body.next).toBeNull();
    expect(body.previous).toBeNull();
    expect(ids(body)).toEqual(newestFirst(rows));
  });

  test("answers the same without the trailing slash", async () => {
    const withSlash = await api.get("/api/outcomes/?user_id=u-bob");
    const without = await api.get("/api/outcomes?user_id=u-bob");
    expect(without.status).toBe(200);
    expect(without.body).toEqual(withSlash.body);
  });

  test("gives each item the full record, without raw_data", async () => {
    const { body } = await api.get("/api/outcomes/");
    for (const item of body.results) expect(Object.keys(item).sort()).toEqual([...RECORD_FIELDS].sort());
  });

  test("gives each item exactly the detail record minus raw_data", async () => {
    const { body } = await api.get("/api/outcomes/");
    for (const item of body.results) {
      const { raw_data, ...record } = (await api.get(`/api/outcomes/${item.id}/`)).body;
      expect(raw_data).toBeDefined();
      expect(item).toEqual(record);
    }
  });

  test("renders prices as exact decimal strings with at least 2 fractional digits", async () => {
    const { body } = await api.get("/api/outcomes/?ordering=id");
    const byBid = Object.fromEntries(
      body.results.map((item: { bid_id: string; win_price: string; bid_price: string }) => [item.bid_id, [item.win_price, item.bid_price]]),
    );
    expect(byBid["b-01"]).toEqual(["0.10", "0.10"]);
    expect(byBid["b-04"]).toEqual(["0.00", "0.55"]);
    expect(byBid["b-05"]).toEqual(["1.2345", "1.2345"]);
    expect(byBid["b-06"]).toEqual(["0.80", "0.80"]);
    expect(byBid["b-09"]).toEqual(["0.50", "0.75"]);
    expect(byBid["b-13"]).toEqual(["12345.678901", "12345.678901"]);
    expect(byBid["b-14"]).toEqual(["0.000001", "0.000001"]);
    expect(byBid["b-19"]).toEqual(["3.00", "3.00"]);
    expect(byBid["b-22"]).toEqual(["0.10", "0.10"]);
    expect(byBid["b-23"]).toEqual(["999.99", "999.99"]);
  });

  test("renders timestamps as ISO-8601 UTC with Z, microseconds kept", async () => {
    const { body } = await api.get("/api/outcomes/?ordering=id&page_size=3");
    expect(body.results.map((item: { timestamp: string; auction_timestamp: string | null }) => [item.timestamp, item.auction_timestamp])).toEqual([
      ["2025-10-24T23:59:59.999999Z", "2025-10-25T00:00:00.049Z"],
      ["2025-10-25T00:00:00Z", "2025-10-25T00:00:00.05Z"],
      ["2025-10-25T00:00:00.000001Z", "2025-10-25T00:00:00.051Z"],
    ]);
  });
});

describe("filters on /api/outcomes/ and /api/outcomes/winners/", () => {
  for (const { query, keep } of FILTER_CASES) {
    test(`list with ${query || "no filter"} returns exactly the matching outcomes`, async () => {
      const { status, body } = await api.get(`/api/outcomes/?page_size=1000&${query}`);
      expect(status).toBe(200);
      const expected = newestFirst(rows.filter(keep));
      expect(body.count).toBe(expected.length);
      expect(ids(body)).toEqual(expected);
    });

    test(`winners with ${query || "no filter"} returns exactly the matching wins`, async () => {
      const { status, body } = await api.get(`/api/outcomes/winners/?page_size=1000&${query}`);
      expect(status).toBe(200);
      const expected = newestFirst(rows.filter((row) => keep(row) && row.win_status));
      expect(body.count).toBe(expected.length);
      expect(ids(body)).toEqual(expected);
    });
  }

  test("every filter case selects something different from everything, so each one is really tested", () => {
    const selective = FILTER_CASES.filter(({ query }) => query !== "" && !/=(&|$)/.test(query));
    for (const { query, keep } of selective) expect({ query, n: rows.filter(keep).length }).not.toEqual({ query, n: rows.length });
  });

  test("winners with win_status=false is empty", async () => {
    const { status, body } = await api.get("/api/outcomes/winners/?win_status=false");
    expect(status).toBe(200);
    expect(body).toEqual({ count: 0, next: null, previous: null, results: [] });
  });

  test("winners answers without the trailing slash", async () => {
    const { status, body } = await api.get("/api/outcomes/winners?user_id=u-erin");
    expect(status).toBe(200);
    expect(ids(body)).toEqual(newestFirst(rows.filter((row) => row.user_id === "u-erin" && row.win_status)));
  });

  test("the last of a repeated parameter wins, as in Django's QueryDict", async () => {
    const { body } = await api.get("/api/outcomes/?user_id=u-alice&user_id=u-bob&page_size=1000");
    expect(ids(body)).toEqual(newestFirst(rows.filter((row) => row.user_id === "u-bob")));
  });

  test("unknown parameters are ignored", async () => {
    const { status, body } = await api.get("/api/outcomes/?format=json&q=x&limit=3&page_size=1000");
    expect(status).toBe(200);
    expect(ids(body)).toEqual(newestFirst(rows));
  });
});

describe("ordering", () => {
  const FIELDS: SortField[] = ["timestamp", "win_price", "bid_price", "created_at", "id"];

  for (const field of FIELDS) {
    for (const direction of ["asc", "desc"] as const) {
      const ordering = `${direction === "desc" ? "-" : ""}${field}`;
      const keys: SortKey[] =
        field === "id"
          ? [["id", direction]]
          : [
              [field, direction],
              ["id", direction],
            ];

      test(`ordering=${ordering} walks every row once across pages, ties by id ${direction}`, async () => {
        const pages = await walkPages(`/api/outcomes/?ordering=${ordering}&page_size=4`);
        expect(pages.map((page) => page.length)).toEqual([4, 4, 4, 4, 4, 4]);
        expect(pages.flat()).toEqual(sortedIds(rows, keys));
      });

      test(`ordering=${ordering} on winners walks every win once`, async () => {
        const pages = await walkPages(`/api/outcomes/winners/?ordering=${ordering}&page_size=3`);
        expect(pages.flat()).toEqual(
          sortedIds(
            rows.filter((row) => row.win_status),
            keys,
          ),
        );
      });
    }
  }

  test("the fixture has ties on every ordering field but id", () => {
    for (const field of ["timestamp", "win_price", "bid_price", "created_at"] as const) {
      expect(new Set(rows.map((row) => row[field])).size).toBeLessThan(rows.length);
    }
  });

  test.each([
    [
      "-win_price,timestamp",
      [
        ["win_price", "desc"],
        ["timestamp", "asc"],
        ["id", "asc"],
      ],
    ],
    [
      "bid_price,-created_at",
      [
        ["bid_price", "asc"],
        ["created_at", "desc"],
        ["id", "desc"],
      ],
    ],
    [
      "-timestamp,id",
      [
        ["timestamp", "desc"],
        ["id", "asc"],
      ],
    ],
    [
      "created_at,-win_price,bid_price",
      [
        ["created_at", "asc"],
        ["win_price", "desc"],
        ["bid_price", "asc"],
        ["id", "asc"],
      ],
    ],
    [
      "timestamp,-timestamp",
      [
        ["timestamp", "asc"],
        ["id", "asc"],
      ],
    ],
  ] as [string, SortKey[]][])("ordering=%s sorts by each key in turn", async (ordering, keys) => {
    const pages = await walkPages(`/api/outcomes/?ordering=${ordering}&page_size=5`);
    expect(pages.flat()).toEqual(sortedIds(rows, keys));
  });

  test("ordering combines with filters", async () => {
    const pages = await walkPages("/api/outcomes/?ordering=-bid_price&site_domain=example.com&enriched=true&page_size=2");
    const keep = (row: StoredOutcome) => row.site_domain === "example.com" && row.enriched;
    expect(pages.flat()).toEqual(
      sortedIds(rows.filter(keep), [
        ["bid_price", "desc"],
        ["id", "desc"],
      ]),
    );
  });
});
