// Paging of the outcomes list: page numbers (the original's), their depth bound, keyset cursors
// (edges, links, walks that visit every row exactly once, also while rows arrive), and the pure
// ordering and cursor codec.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { ApiError } from "../../src/http/errors";
import { decodeCursor, encodeCursor, type OrderKey, orderingText, parseOrdering } from "../../src/outcomes/outcomes.paging";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { insertGeneratedOutcomes, insertOutcomes, type StoredOutcome } from "../support/fixtures";
import { BASE, testApp } from "../support/http";
import { newestFirst, type SortKey, sortedIds } from "../support/outcomes-model";

setDefaultTimeout(30_000);

let db: TestDatabase;
let rows: StoredOutcome[];
let api: ReturnType<typeof testApp>;

beforeAll(async () => {
  db = await createTestDatabase("outcomes_paging");
  rows = await insertOutcomes(db.setup);
  api = testApp(db.config, db.sql);
});

afterAll(async () => {
  await db.drop();
});

const ids = (body: { results: { id: number }[] }) => body.results.map((item) => item.id);
const relative = (url: string) => {
  expect(url.startsWith(`${BASE}/`)).toBe(true);
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
    const expected = sortedIds(rows.filter(keep), [
      ["win_price", "desc"],
      ["id", "desc"],
    ]);
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
    expect(ids(body)).toEqual(
      sortedIds(
        rows.filter((row) => row.user_id === "u-bob"),
        [
          ["win_price", "asc"],
          ["id", "asc"],
        ],
      ).slice(0, 2),
    );
    const next = new URL(body.next);
    expect([...next.searchParams.keys()]).toEqual(["user_id", "cursor", "page_size", "ordering"]);
    expect(next.searchParams.get("user_id")).toBe("u-bob");
  });

  const ORDERINGS: [string, SortKey[]][] = [
    [
      "-timestamp",
      [
        ["timestamp", "desc"],
        ["id", "desc"],
      ],
    ],
    [
      "timestamp",
      [
        ["timestamp", "asc"],
        ["id", "asc"],
      ],
    ],
    [
      "win_price",
      [
        ["win_price", "asc"],
        ["id", "asc"],
      ],
    ],
    [
      "-win_price",
      [
        ["win_price", "desc"],
        ["id", "desc"],
      ],
    ],
    [
      "bid_price",
      [
        ["bid_price", "asc"],
        ["id", "asc"],
      ],
    ],
    [
      "-bid_price",
      [
        ["bid_price", "desc"],
        ["id", "desc"],
      ],
    ],
    [
      "created_at",
      [
        ["created_at", "asc"],
        ["id", "asc"],
      ],
    ],
    [
      "-created_at",
      [
        ["created_at", "desc"],
        ["id", "desc"],
      ],
    ],
    ["id", [["id", "asc"]]],
    ["-id", [["id", "desc"]]],
    // Mixed directions take the expanded keyset condition instead of a row comparison.
    [
      "-win_price,timestamp",
      [
        ["win_price", "desc"],
        ["timestamp", "asc"],
        ["id", "asc"],
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
      "created_at,-bid_price",
      [
        ["created_at", "asc"],
        ["bid_price", "desc"],
        ["id", "desc"],
      ],
    ],
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
    expect(forward).toEqual(
      sortedIds(rows.filter(keep), [
        ["bid_price", "desc"],
        ["id", "desc"],
      ]),
    );
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
        cursor: [
          "The cursor is not valid for this ordering: expected a cursor exactly as returned in next or previous, or an empty cursor for the first page.",
        ],
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
    await insertGeneratedOutcomes(bulk.setup, 1001, { userId: "bulk" });
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

describe("page depth", () => {
  test("refuses page × page_size past 1,000,000 rows with 400 pointing to cursor, when that many rows match", async () => {
    // The unfiltered count comes from the rollups: one rollup row stands for two million outcomes.
    await db.setup`
      insert into outcome_rollup_hourly (bucket, currency, win_status, enriched, outcomes, win_price_sum, bid_price_sum)
      values ('2001-01-01T00:00:00Z', 'USD', false, false, 2000000, 0, 0)`;
    try {
      const api = testApp(db.config, db.sql);
      const { status, body } = await api.get("/api/outcomes/?page=10002&page_size=100");
      expect(status).toBe(400);
      expect(body).toEqual({
        detail: "Invalid query parameter: page.",
        errors: { page: ["page 10002 × page_size 100 skips more than 1000000 rows: expected a smaller page, or keyset pagination with cursor=."] },
      });
      // Exactly at the bound is still served by offset (here: a page past the real rows, so 404).
      expect((await api.get("/api/outcomes/?page=10001&page_size=100")).status).toBe(404);
    } finally {
      await db.setup`delete from outcome_rollup_hourly where bucket = '2001-01-01T00:00:00Z'`;
    }
  });

  test("keeps the original's 404 for a deep page past the end of a small result", async () => {
    const { status, body } = await testApp(db.config, db.sql).get("/api/outcomes/?page=999999999&page_size=1000");
    expect(status).toBe(404);
    expect(body).toEqual({ detail: "Invalid page." });
  });
});

describe("keyset cursors while rows arrive", () => {
  let concurrent: TestDatabase;

  async function insertRows(prefix: string, count: number, baseMs: number, spreadMs: number) {
    const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
    // Many rows share a timestamp on purpose: the id tie-breaker must keep pages apart.
    const times = ids.map((_, i) => new Date(baseMs + (i % 40) * spreadMs).toISOString());
    await concurrent.sql`
      insert into auction_outcomes (bid_id, user_id, win_status, win_price, bid_price, "timestamp", raw_data)
      select b, 'u', true, 0.5, 0.5, t, '{}'::jsonb from unnest(${ids}::text[], ${times}::timestamptz[]) as x(b, t)`;
  }

  beforeAll(async () => {
    concurrent = await createTestDatabase("cursor");
    await insertRows("seed", 400, Date.UTC(2025, 9, 10), 60_000);
  });
  afterAll(async () => concurrent.drop());

  for (const ordering of ["-timestamp", "timestamp", "win_price,-id", "-bid_price,timestamp"]) {
    test(`cursor pages over ordering=${ordering} visit every initial row once while rows are inserted`, async () => {
      const { get } = testApp(concurrent.config, concurrent.sql);
      const initial = new Set((await concurrent.sql<{ bid_id: string }[]>`select bid_id from auction_outcomes`).map((r) => r.bid_id));
      const seen: string[] = [];
      let url: string | null = `/api/outcomes/?cursor=&page_size=37&ordering=${ordering}`;
      let round = 0;
      while (url) {
        const response = await get(url.replace("http://localhost", ""));
        expect(response.status).toBe(200);
        seen.push(...response.body.results.map((r: { bid_id: string }) => r.bid_id));
        // New rows before, inside and after the walked range, between every two pages.
        await insertRows(`${ordering}-r${round++}`, 5, Date.UTC(2025, 9, 10) + ((round % 3) - 1) * 30 * 60_000, 61_000);
        url = response.body.next;
      }
      expect(new Set(seen).size).toBe(seen.length);
      for (const id of initial) expect(seen).toContain(id);
    });
  }

  test("previous links walk back to exactly the pages seen going forward", async () => {
    const { get } = testApp(concurrent.config, concurrent.sql);
    const forward: string[][] = [];
    let response = await get("/api/outcomes/?cursor=&page_size=50&ordering=timestamp");
    forward.push(response.body.results.map((r: { id: number }) => r.id));
    for (let i = 0; i < 3; i++) {
      response = await get(response.body.next.replace("http://localhost", ""));
      forward.push(response.body.results.map((r: { id: number }) => r.id));
    }
    for (let i = forward.length - 2; i >= 0; i--) {
      response = await get(response.body.previous.replace("http://localhost", ""));
      expect(response.body.results.map((r: { id: number }) => r.id)).toEqual(forward[i]!);
    }
    expect(response.body.previous).toBeNull();
  });
});

const BAD_CURSOR = {
  detail: "Invalid query parameter: cursor.",
  errors: {
    cursor: ["The cursor is not valid for this ordering: expected a cursor exactly as returned in next or previous, or an empty cursor for the first page."],
  },
};

function refusalOf(text: string, keys: OrderKey[]): unknown {
  try {
    decodeCursor(text, keys);
  } catch (error) {
    if (error instanceof ApiError) return { status: error.status, body: error.body() };
    throw error;
  }
  throw new Error(`decodeCursor accepted ${text}`);
}

const raw = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("parseOrdering", () => {
  test("defaults to newest first, ties by highest id", () => {
    expect(parseOrdering(undefined)).toEqual([
      { field: "timestamp", desc: true },
      { field: "id", desc: true },
    ]);
    expect(parseOrdering("")).toEqual([
      { field: "timestamp", desc: true },
      { field: "id", desc: true },
    ]);
  });

  test.each([
    [
      "win_price",
      [
        { field: "win_price", desc: false },
        { field: "id", desc: false },
      ],
    ],
    [
      "-bid_price",
      [
        { field: "bid_price", desc: true },
        { field: "id", desc: true },
      ],
    ],
    [
      "created_at",
      [
        { field: "created_at", desc: false },
        { field: "id", desc: false },
      ],
    ],
    ["id", [{ field: "id", desc: false }]],
    ["-id", [{ field: "id", desc: true }]],
    [
      "-win_price,timestamp",
      [
        { field: "win_price", desc: true },
        { field: "timestamp", desc: false },
        { field: "id", desc: false },
      ],
    ],
    [
      "-timestamp,id",
      [
        { field: "timestamp", desc: true },
        { field: "id", desc: false },
      ],
    ],
    [
      "timestamp,-timestamp",
      [
        { field: "timestamp", desc: false },
        { field: "id", desc: false },
      ],
    ],
  ])("parses %s with the id tie-breaker in the last key's direction", (text, keys) => {
    expect(parseOrdering(text)).toEqual(keys as OrderKey[]);
  });

  test("writes the keys back as ordering text", () => {
    expect(orderingText(parseOrdering("-win_price,timestamp"))).toBe("-win_price,timestamp,id");
  });
});

describe("cursors", () => {
  const keys = parseOrdering("-timestamp");

  test("decode what encode made", () => {
    const cursor = { ordering: "-timestamp,-id", values: ["2025-10-25 12:00:00.123456+00", "42"], forward: true };
    expect(decodeCursor(encodeCursor(cursor), keys)).toEqual(cursor);
    const back = { ...cursor, forward: false };
    expect(decodeCursor(encodeCursor(back), keys)).toEqual(back);
  });

  test("are URL-safe text", () => {
    const text = encodeCursor({ ordering: "win_price,id", values: ["12345.678901", "9007199254740993"], forward: true });
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(text, parseOrdering("win_price")).values).toEqual(["12345.678901", "9007199254740993"]);
  });

  test("are refused under another ordering", () => {
    const text = encodeCursor({ ordering: "-timestamp,-id", values: ["2025-10-25 12:00:00+00", "42"], forward: true });
    expect(refusalOf(text, parseOrdering("timestamp"))).toEqual({ status: 400, body: BAD_CURSOR });
  });

  test.each([
    ["text that is not base64 JSON", "bm90IGpzb24"],
    ["a JSON object instead of the array", raw({ ordering: "-timestamp,-id" })],
    ["a missing direction", raw(["-timestamp,-id", ["2025-10-25 12:00:00+00", "42"]])],
    ["a direction other than 0 or 1", raw(["-timestamp,-id", ["2025-10-25 12:00:00+00", "42"], 2])],
    ["too few values", raw(["-timestamp,-id", ["42"], 1])],
    ["a number instead of text", raw(["-timestamp,-id", ["2025-10-25 12:00:00+00", 42], 1])],
    ["SQL in the id", raw(["-timestamp,-id", ["2025-10-25 12:00:00+00", "1 or 1=1"], 1])],
    ["SQL in the timestamp", raw(["-timestamp,-id", ["2025-10-25 12:00:00+00'; drop table auction_outcomes; --", "1"], 1])],
    ["an ISO timestamp instead of PostgreSQL's text", raw(["-timestamp,-id", ["2025-10-25T12:00:00Z", "1"], 1])],
    ["a negative id", raw(["-timestamp,-id", ["2025-10-25 12:00:00+00", "-1"], 1])],
    ["a value longer than 64 characters", raw(["-timestamp,-id", ["2025-10-25 12:00:00+00", "1".repeat(65)], 1])],
  ])("refuse %s", (_label, text) => {
    expect(refusalOf(text, keys)).toEqual({ status: 400, body: BAD_CURSOR });
  });

  test("refuse a price that is not a decimal", () => {
    const priceKeys = parseOrdering("win_price");
    expect(refusalOf(raw(["win_price,id", ["-1", "1"], 1]), priceKeys)).toEqual({ status: 400, body: BAD_CURSOR });
    expect(refusalOf(raw(["win_price,id", ["1e5", "1"], 1]), priceKeys)).toEqual({ status: 400, body: BAD_CURSOR });
    expect(decodeCursor(raw(["win_price,id", ["0.000001", "1"], 1]), priceKeys).values).toEqual(["0.000001", "1"]);
  });
});
