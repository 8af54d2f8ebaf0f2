// Bad input gets a 400 with the exact error body, the same shape on every route; never a 500,
// never a silent default.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { insertOutcomes } from "../support/fixtures";
import { testApp } from "../support/http";

setDefaultTimeout(30_000);

let db: TestDatabase;
let api: ReturnType<typeof testApp>;
let someId: number;

beforeAll(async () => {
  db = await createTestDatabase("outcomes_errors");
  someId = (await insertOutcomes(db.setup))[0]!.id;
  api = testApp(db.config, db.sql);
});

afterAll(async () => {
  await db.drop();
});

const BOOLEAN = "expected true or false (also 1/0, yes/no).";
const MIN_PRICE = "expected a decimal number ≥ 0 with at most 12 integer and 6 fractional digits, e.g. 0.50.";
const MAX_PRICE = "expected a decimal number ≥ 0 with at most 12 integer and 6 fractional digits, e.g. 1.00.";
const FROM = "expected an ISO-8601 date or date-time, e.g. 2025-10-01 or 2025-10-01T12:00:00Z.";
const TO = "expected an ISO-8601 date or date-time, e.g. 2025-10-02 or 2025-10-01T13:00:00Z.";
const PAGE = "expected an integer from 1 to 999999999.";
const PAGE_SIZE = "expected an integer from 1 to 1000.";
const ORDERING = "expected comma-separated fields of timestamp, win_price, bid_price, created_at, id, each optionally prefixed with '-'.";
const CURRENCY = "expected a 3-letter currency code such as USD.";

const one = (param: string, message: string) => ({ detail: `Invalid query parameter: ${param}.`, errors: { [param]: [message] } });

/** Error cases of the filter parameters: they apply on every outcomes route. */
const FILTER_ERRORS: [string, unknown][] = [
  ["win_status=maybe", one("win_status", `"maybe" is not valid: ${BOOLEAN}`)],
  ["win_status=", one("win_status", `"" is not valid: ${BOOLEAN}`)],
  ["enriched=maybe", one("enriched", `"maybe" is not valid: ${BOOLEAN}`)],
  ["min_price=abc", one("min_price", `"abc" is not valid: ${MIN_PRICE}`)],
  ["min_price=-1", one("min_price", `"-1" is not valid: ${MIN_PRICE}`)],
  ["min_price=1e3", one("min_price", `"1e3" is not valid: ${MIN_PRICE}`)],
  ["max_price=1.1234567", one("max_price", `"1.1234567" is not valid: ${MAX_PRICE}`)],
  ["max_price=NaN", one("max_price", `"NaN" is not valid: ${MAX_PRICE}`)],
  ["min_price=10&max_price=9", one("min_price", "min_price 10 is greater than max_price 9: expected min_price ≤ max_price.")],
  ["min_price=0.500001&max_price=0.5", one("min_price", "min_price 0.500001 is greater than max_price 0.5: expected min_price ≤ max_price.")],
  ["from=yesterday", one("from", `"yesterday" is not valid: ${FROM}`)],
  ["from=2025-02-30", one("from", `"2025-02-30" is not valid: ${FROM}`)],
  ["to=2025-13-01", one("to", `"2025-13-01" is not valid: ${TO}`)],
  ["to=2025-10-25T24:00:00Z", one("to", `"2025-10-25T24:00:00Z" is not valid: ${TO}`)],
  ["from=2025-10-26&to=2025-10-25", one("from", "from 2025-10-26 is after to 2025-10-25: expected from ≤ to.")],
  ["currency=EURO", one("currency", `"EURO" is not valid: ${CURRENCY}`)],
  ["currency=U1D", one("currency", `"U1D" is not valid: ${CURRENCY}`)],
  [`user_id=${"x".repeat(256)}`, one("user_id", `"${"x".repeat(64)}…" is not valid: expected a user id of at most 255 characters.`)],
];

/** Error cases of the list-only parameters. */
const LIST_ERRORS: [string, unknown][] = [
  ["page=0", one("page", `"0" is not valid: ${PAGE}`)],
  ["page=x", one("page", `"x" is not valid: ${PAGE}`)],
  ["page=-1", one("page", `"-1" is not valid: ${PAGE}`)],
  ["page=1.5", one("page", `"1.5" is not valid: ${PAGE}`)],
  ["page_size=5000", one("page_size", `"5000" is not valid: ${PAGE_SIZE}`)],
  ["page_size=1001", one("page_size", `"1001" is not valid: ${PAGE_SIZE}`)],
  ["page_size=0", one("page_size", `"0" is not valid: ${PAGE_SIZE}`)],
  ["ordering=password", one("ordering", `"password" is not valid: ${ORDERING}`)],
  ["ordering=-timestamp,password", one("ordering", `"-timestamp,password" is not valid: ${ORDERING}`)],
  ["ordering=win_price;drop table auction_outcomes", one("ordering", `"win_price;drop table auction_outcomes" is not valid: ${ORDERING}`)],
  ["ordering=", one("ordering", `"" is not valid: ${ORDERING}`)],
  ["cursor=!!!", one("cursor", '"!!!" is not valid: expected a cursor exactly as returned in next or previous.')],
  [
    "cursor=abc",
    one(
      "cursor",
      "The cursor is not valid for this ordering: expected a cursor exactly as returned in next or previous, or an empty cursor for the first page.",
    ),
  ],
];

describe("list parameters", () => {
  for (const [query, body] of [...FILTER_ERRORS, ...LIST_ERRORS]) {
    test(`/api/outcomes/?${query.slice(0, 60)} is 400 with the exact body`, async () => {
      const response = await api.get(`/api/outcomes/?${query}`);
      expect(response.status).toBe(400);
      expect(response.headers.get("content-type")).toStartWith("application/json");
      expect(response.body).toEqual(body);
    });
  }
});

describe("the same 400 on every route, with and without the slash", () => {
  const routes = () => [
    "/api/outcomes/",
    "/api/outcomes",
    "/api/outcomes/winners/",
    "/api/outcomes/winners",
    "/api/outcomes/stats/",
    "/api/outcomes/stats",
    "/api/outcomes/daily_stats/",
    "/api/outcomes/daily_stats",
    `/api/outcomes/${someId}/`,
    `/api/outcomes/${someId}`,
  ];

  for (const [query, body] of FILTER_ERRORS) {
    test(`?${query.slice(0, 60)}`, async () => {
      for (const route of routes()) {
        const response = await api.get(`${route}?${query}`);
        expect({ route, status: response.status, body: response.body }).toEqual({ route, status: 400, body });
      }
    });
  }

  test("list-only errors apply on winners too", async () => {
    for (const [query, body] of LIST_ERRORS) {
      const response = await api.get(`/api/outcomes/winners/?${query}`);
      expect({ query, status: response.status, body: response.body }).toEqual({ query, status: 400, body });
    }
  });
});

describe("several bad parameters at once", () => {
  test("are all named in one 400, in the schema's order", async () => {
    const { status, body } = await api.get(
      "/api/outcomes/?ordering=password&page_size=5000&page=0&from=yesterday&currency=1&min_price=abc&win_status=maybe&enriched=x&to=2025-02-30&max_price=-2",
    );
    expect(status).toBe(400);
    expect(body).toEqual({
      detail: "Invalid query parameters: win_status, enriched, min_price, max_price, currency, from, to, page, page_size, ordering.",
      errors: {
        win_status: [`"maybe" is not valid: ${BOOLEAN}`],
        enriched: [`"x" is not valid: ${BOOLEAN}`],
        min_price: [`"abc" is not valid: ${MIN_PRICE}`],
        max_price: [`"-2" is not valid: ${MAX_PRICE}`],
        currency: [`"1" is not valid: ${CURRENCY}`],
        from: [`"yesterday" is not valid: ${FROM}`],
        to: [`"2025-02-30" is not valid: ${TO}`],
        page: [`"0" is not valid: ${PAGE}`],
        page_size: [`"5000" is not valid: ${PAGE_SIZE}`],
        ordering: [`"password" is not valid: ${ORDERING}`],
      },
    });
  });

  test("range conflicts are named together", async () => {
    const { status, body } = await api.get("/api/outcomes/stats/?min_price=3&max_price=1&from=2025-10-26&to=2025-10-25");
    expect(status).toBe(400);
    expect(body).toEqual({
      detail: "Invalid query parameters: min_price, from.",
      errors: {
        min_price: ["min_price 3 is greater than max_price 1: expected min_price ≤ max_price."],
        from: ["from 2025-10-26 is after to 2025-10-25: expected from ≤ to."],
      },
    });
  });

  test("are still refused when a good value follows a bad one of another parameter", async () => {
    const { status, body } = await api.get("/api/outcomes/daily_stats/?user_id=u-alice&win_status=maybe&site_domain=example.com");
    expect(status).toBe(400);
    expect(body).toEqual(one("win_status", `"maybe" is not valid: ${BOOLEAN}`));
  });
});

describe("not errors", () => {
  test("unknown parameters are ignored on every route", async () => {
    for (const route of ["/api/outcomes/", "/api/outcomes/winners/", "/api/outcomes/stats/", "/api/outcomes/daily_stats/", `/api/outcomes/${someId}/`]) {
      const { status } = await api.get(`${route}?format=json&search=anything&limit=5&offset=x`);
      expect({ route, status }).toEqual({ route, status: 200 });
    }
  });

  test("the edges of each range are accepted", async () => {
    for (const query of [
      "page=1",
      "page_size=1",
      "page_size=1000",
      "min_price=0",
      "max_price=999999999999.999999",
      "from=0001-01-01",
      "to=9999-12-31T23:59:59.999999Z",
      "currency=usd",
      "win_status=TRUE",
      "enriched=No",
    ]) {
      const { status } = await api.get(`/api/outcomes/?${query}`);
      expect({ query, status }).toEqual({ query, status: 200 });
    }
  });

  test("a page past the end far beyond the offset limit is still 404 Invalid page.", async () => {
    const { status, body } = await api.get("/api/outcomes/?page=999999999&page_size=1000");
    expect(status).toBe(404);
    expect(body).toEqual({ detail: "Invalid page." });
  });
});
