// Page-number pagination (the original's) and keyset cursors: edges, links, and walks that
// must visit every row exactly once in order.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { insertGeneratedOutcomes, insertOutcomes, type StoredOutcome } from "../support/fixtures";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { BASE, testApp } from "../support/http";
import { newestFirst, sortedIds, type SortKey } from "../support/outcomes-model";

setDefaultTimeout(30_000);

let db: TestDatabase;
let rows: StoredOutcome[];
let api: ReturnType<typeof testApp>;

beforeAll(async () => {
  db = await createTestDatabase("outcomes_paging");
  rows = await insertOutcomes(db.sql);
  api = testApp(db.config, db.sql);
});

afterAll(async () => {
  await db.drop();
});

const ids = (body: { results: { id: number }[] }) => body.results.map((item) => item.id);
const relative = (url: string) => {
  expect(url.startsWith(BASE + "/")).toBe(true);
  return url.slice(BASE.length);
};

describe("page numbers", () => {
  test("first page: no previous, next is page 2 with the other parameters kept", async () => {
    const { status, body } = await api.get("/api/outcomes/?page_size=5");
    expect(status).toBe(200);
    expect(body.count).toBe(24);
    expect(body.previous).toBeNull();
    expect(body.next).toBe("http://localhost/api/outcomes/?page_size=5&page=2");
    expect(ids(body)).toEqual(newestFirst(rows).slice(0, 5));
  });

  test("second page: previous drops the page parameter, as DRF does", async () => {
    const { body } = await api.get("/api/outcomes/?page_size=5&page=2");
    expect(body.previous).toBe("http://localhost/api/outcomes/?page_size=5");
    expect(body.next).toBe("http://localhost/api/outcomes/?page_size=5&page=3");
    expect(ids(body)).toEqual(newestFirst(rows).slice(5, 10));
  });

  test("middle page", async () => {
    const { body } = await api.get("/api/outcomes/?page=3&page_size=5");
    expect(body.count).toBe(24);
    expect(body.previous).toBe("http://localhost/api/outcomes/?page=2&page_size=5");
    expect(body.next).toBe("http://localhost/api/outcomes/?page=4&page_size=5");
    expect(ids(body)).toEqual(newestFirst(rows).slice(10, 15));
  });

  test("last page: the remainder and no next", async () => {
    const { body } = await api.get("/api/outcomes/?page=5&page_size=5");
    expect(body.next).toBeNull();
    expect(body.previous).toBe("http://localhost/api/outcomes/?page=4&page_size=5");
    expect(ids(body)).toEqual(newestFirst(rows).slice(20, 24));
  });

  // 200000 × 5 skips 999,995 rows, just under the offset limit; beyond it see the next test.
  test.each(["6", "100", "200000"])("page %s past the end is 404 Invalid page.", async (page) => {
    const { status, body } = await api.get(`/api/outcomes/?page=${page}&page_size=5`);
    expect(status).toBe(404);
    expect(body).toEqual({ detail: "Invalid page." });
  });

  test("a page past the end is 404 Invalid page. even beyond the offset limit", async () => {
    const { status, body } = await api.get("/api/outcomes/?page=999999999&page_size=1000");
    expect(status).toBe(404);
    expect(body).toEqual({ detail: "Invalid page." });
  });

  test("page 2 of winners past the end is 404 Invalid page.", async () => {
    const { status, body } = await api.get("/api/outcomes/winners/?page=2");
    expect(status).toBe(404);
    expect(body).toEqual({ detail: "Invalid page." });
  });

  test("page 1 of nothing is an empty page, not 404", async () => {
    const { status, body } = await api.get("/api/outcomes/?user_id=nobody&page=1");
    expect(status).toBe(200);
    expect(body).toEqual({ count: 0, next: null, previous: null, results: [] });
  });

  test("page_size=1 walks every row once, one per page", async () => {
    const seen: number[] = [];
    let next: string | null = "/api/outcomes/?page_size=1";
    while (next !== null) {
      const { body } = await api.get(next);
      expect(body.results).toHaveLength(1);
      seen.push(...ids(body));
      next = body.next === null ? null : relative(body.next);
    }
    expect(seen).toEqual(newestFirst(rows));
  });

  test("next and previous keep every other parameter, unknown ones and encoded offsets included", async () => {
    const query = "user_id=u-alice&ordering=-win_price&page_size=2&from=2025-10-23T02:00:00%2B02:00&unknown=x";
    const first = await api.get(`/api/outcomes/?${query}`);
    expect(first.body.next).toBe(
      "http://localhost/api/outcomes/?user_id=u-alice&ordering=-win_price&page_size=2&from=2025-10-23T02%3A00%3A00%2B02%3A00&unknown=x&page=2",
    );
    const second = await api.get(relative(first.body.next));
    expect(second.status).toBe(200);
    expect(relative(second.body.previous)).toBe(
      "/api/outcomes/?user_id=u-alice&ordering=-win_price&page_size=2&from=2025-10-23T02%3A00%3A00%2B02%3A00&unknown=x",
    );
    const keep = (row: StoredOutcome) => row.user_id === "u-alice" && row.timestamp >= "2025-10-23T00:00:00.000000Z";
    const expected = sortedIds(rows.filter(keep), [["win_price", "desc"], ["id", "desc"]]);
    expect([...ids(first.body), ...ids(second.body)]).toEqual(expected.slice(0, 4));
  });

  test("links are absolute with the request's host and the proxy's scheme", async () => {
    // Under Bun.serve the request URL carries the Host header; in-process it is the URL itself.
    const response = await api.app.handle(
      new Request("http://analytics.example.com:8000/api/outcomes/?page_size=5", { headers: { "x-forwarded-proto": "https" } }),
    );
    const body = await response.json();
    expect(body.next).toBe("https://analytics.example.com:8000/api/outcomes/?page_size=5&page=2");
  });

  test("links on the path without a trailing slash keep that path", async () => {
    const { body } = await api.get("/api/outcomes/winners?page_size=5");
    expect(body.next).toBe("http://localhost/api/outcomes/winners?page_size=5&page=2");
  });
});

describe("keyset cursors", () => {
  /** Follows next from `cursor=` to the end, then previous back to the start. */
  async function walkBothWays(query: string): Promise<{ forward: number[][]; backward: number[][] }> {
    const forward: number[][] = [];
    let response = await api.get(`/api/outcomes/?${query}&cursor=`);
    expect(response.status).toBe(200);
    expect(response.body.previous).toBeNull();
    forward.push(ids(response.body));
    while (response.body.next !== null) {
      response = await api.get(relative(response.body.next));
      expect(response.status).toBe(200);
      forward.push(ids(response.body));
      if (forward.length > 100) throw new Error("cursor walk does not end");
    }
    const backward: number[][] = [ids(response.body)];
    while (response.body.previous !== null) {
      response = await api.get(relative(response.body.previous));
      expect(response.status).toBe(200);
      expect(response.body.next).not.toBeNull();
      backward.push(ids(response.body));
      if (backward.length > 100) throw new Error("cursor walk back does not end");
    }
    return { forward, backward };
  }

  test("an empty cursor starts at the first page", async () => {
    const { status, body } = await api.get("/api/outcomes/?cursor=&page_size=5");
    expect(status).toBe(200);
    expect(body.count).toBe(24);
    expect(body.previous).toBeNull();
    expect(body.next).toStartWith("http://localhost/api/outcomes/?cursor=");
    expect(body.next).toEndWith("&page_size=5");
    expect(ids(body)).toEqual(newestFirst(rows).slice(0, 5));
  });

  test("a cursor link drops the page parameter and keeps the others", async () => {
    const { body } = await api.get("/api/outcomes/?page=3&user_id=u-bob&cursor=&page_size=2&ordering=win_price");
    expect(ids(body)).toEqual(sortedIds(rows.filter((row) => row.user_id === "u-bob"), [["win_price", "asc"], ["id", "asc"]]).slice(0, 2));
    const next = new URL(body.next);
    expect([...next.searchParams.keys()]).toEqual(["user_id", "cursor", "page_size", "ordering"]);
    expect(next.searchParams.get("user_id")).toBe("u-bob");
  });

  const ORDERINGS: [string, SortKey[]][] = [
    ["-timestamp", [["timestamp", "desc"], ["id", "desc"]]],
    ["timestamp", [["timestamp", "asc"], ["id", "asc"]]],
    ["win_price", [["win_price", "asc"], ["id", "asc"]]],
    ["-win_price", [["win_price", "desc"], ["id", "desc"]]],
    ["bid_price", [["bid_price", "asc"], ["id", "asc"]]],
    ["-bid_price", [["bid_price", "desc"], ["id", "desc"]]],
    ["created_at", [["created_at", "asc"], ["id", "asc"]]],
    ["-created_at", [["created_at", "desc"], ["id", "desc"]]],
    ["id", [["id", "asc"]]],
    ["-id", [["id", "desc"]]],
    // Mixed directions take the expanded keyset condition instead of a row comparison.
    ["-win_price,timestamp", [["win_price", "desc"], ["timestamp", "asc"], ["id", "asc"]]],
    ["-timestamp,id", [["timestamp", "desc"], ["id", "asc"]]],
    ["created_at,-bid_price", [["created_at", "asc"], ["bid_price", "desc"], ["id", "desc"]]],
  ];

  for (const [ordering, keys] of ORDERINGS) {
    test(`ordering=${ordering}: next visits every row once in order, previous walks back page by page`, async () => {
      const { forward, backward } = await walkBothWays(`ordering=${ordering}&page_size=5`);
      expect(forward.flat()).toEqual(sortedIds(rows, keys));
      expect(forward.map((page) => page.length)).toEqual([5, 5, 5, 5, 4]);
      expect(backward).toEqual([...forward].reverse());
    });
  }

  test("with filters, on winners, every matching row once", async () => {
    const query = "site_domain=example.com&from=2025-10-24&ordering=-bid_price&page_size=2";
    const forward: number[] = [];
    let response = await api.get(`/api/outcomes/winners/?${query}&cursor=`);
    forward.push(...ids(response.body));
    while (response.body.next !== null) {
      response = await api.get(relative(response.body.next));
      forward.push(...ids(response.body));
    }
    const keep = (row: StoredOutcome) => row.win_status && row.site_domain === "example.com" && row.timestamp >= "2025-10-24T00:00:00.000000Z";
    expect(forward).toEqual(sortedIds(rows.filter(keep), [["bid_price", "desc"], ["id", "desc"]]));
    expect(response.body.count).toBe(forward.length);
  });

  test("a page size that divides the rows exactly ends without an empty page", async () => {
    const { forward } = await walkBothWays("ordering=id&page_size=6");
    expect(forward.map((page) => page.length)).toEqual([6, 6, 6, 6]);
  });

  test("a cursor made for another ordering is refused", async () => {
    const { body } = await api.get("/api/outcomes/?cursor=&page_size=5&ordering=win_price");
    const cursor = new URL(body.next).searchParams.get("cursor");
    const { status, body: error } = await api.get(`/api/outcomes/?cursor=${cursor}&page_size=5&ordering=-win_price`);
    expect(status).toBe(400);
    expect(error).toEqual({
      detail: "Invalid query parameter: cursor.",
      errors: {
        cursor: ["The cursor is not valid for this ordering: expected a cursor exactly as returned in next or previous, or an empty cursor for the first page."],
      },
    });
  });

  test("a tampered cursor is refused, never reaching SQL", async () => {
    const { body } = await api.get("/api/outcomes/?cursor=&page_size=5");
    const cursor = new URL(body.next).searchParams.get("cursor")!;
    const [ordering, values, forward] = JSON.parse(Buffer.from(cursor, "base64url").toString());
    const tampered = Buffer.from(JSON.stringify([ordering, [values[0], "0) or (1=1"], forward])).toString("base64url");
    const { status, body: error } = await api.get(`/api/outcomes/?cursor=${tampered}&page_size=5`);
    expect(status).toBe(400);
    expect(error.errors).toEqual({
      cursor: ["The cursor is not valid for this ordering: expected a cursor exactly as returned in next or previous, or an empty cursor for the first page."],
    });
  });
});

describe("page_size at its bounds", () => {
  let bulk: TestDatabase;
  let bulkApi: ReturnType<typeof testApp>;

  beforeAll(async () => {
    bulk = await createTestDatabase("outcomes_paging_bulk");
    bulkApi = testApp(bulk.config, bulk.sql);
  });

  afterAll(async () => {
    await bulk.drop();
  });

  test("an empty table gives an empty first page and 404 after it", async () => {
    expect((await bulkApi.get("/api/outcomes/")).body).toEqual({ count: 0, next: null, previous: null, results: [] });
    expect((await bulkApi.get("/api/outcomes/?cursor=")).body).toEqual({ count: 0, next: null, previous: null, results: [] });
    const past = await bulkApi.get("/api/outcomes/?page=2");
    expect(past.status).toBe(404);
    expect(past.body).toEqual({ detail: "Invalid page." });
  });

  test("page_size=1000 gives 1000 rows, then the last one on page 2", async () => {
    await insertGeneratedOutcomes(bulk.sql, 1001, { userId: "bulk" });
    const [oldest] = await bulk.sql<{ id: string }[]>`select id from auction_outcomes where bid_id = 'bulk-1'`;
    const first = await bulkApi.get("/api/outcomes/?page_size=1000");
    expect(first.body.count).toBe(1001);
    expect(first.body.results).toHaveLength(1000);
    expect(first.body.next).toBe("http://localhost/api/outcomes/?page_size=1000&page=2");
    const second = await bulkApi.get("/api/outcomes/?page_size=1000&page=2");
    expect(ids(second.body)).toEqual([Number(oldest!.id)]);
    expect(second.body.next).toBeNull();
    expect(second.body.previous).toBe("http://localhost/api/outcomes/?page_size=1000");
    expect((await bulkApi.get("/api/outcomes/?page_size=1000&page=3")).status).toBe(404);
  });

  test("the default page holds 100 rows", async () => {
    const { body } = await bulkApi.get("/api/outcomes/");
    expect(body.results).toHaveLength(100);
    expect(body.next).toBe("http://localhost/api/outcomes/?page=2");
  });
});
