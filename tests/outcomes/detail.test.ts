// GET /api/outcomes/{id}/: the full record with raw_data, and 404 for anything that is not one.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { insertOutcomes, type StoredOutcome } from "../support/fixtures";
import { testApp } from "../support/http";

setDefaultTimeout(30_000);

let db: TestDatabase;
let rows: StoredOutcome[];
let api: ReturnType<typeof testApp>;
const idOf = (bid: string) => rows.find((row) => row.bid_id === bid)!.id;

beforeAll(async () => {
  db = await createTestDatabase("outcomes_detail");
  rows = await insertOutcomes(db.setup);
  api = testApp(db.config, db.sql);
});

afterAll(async () => {
  await db.drop();
});

describe("GET /api/outcomes/{id}/", () => {
  test("gives a winner that paid less than it bid, with its profit margin and raw_data", async () => {
    const id = idOf("b-09");
    const { status, body } = await api.get(`/api/outcomes/${id}/`);
    expect(status).toBe(200);
    expect(body).toEqual({
      id,
      bid_id: "b-09",
      user_id: "u-bob",
      site_domain: "example.com",
      win_status: true,
      win_price: "0.50",
      bid_price: "0.75",
      currency: "USD",
      enriched: true,
      timestamp: "2025-10-26T00:00:00Z",
      auction_timestamp: "2025-10-26T00:00:00.048Z",
      user_interests: ["technology"],
      is_winner: true,
      profit_margin: 0.25,
      created_at: "2025-10-27T10:00:04Z",
      updated_at: "2025-10-27T10:00:04Z",
      raw_data: {
        bid_request_id: "b-09",
        user_id: "u-bob",
        site_domain: "example.com",
        bid_price: 0.75,
        currency: "USD",
        timestamp: "2025-10-26T00:00:00.000000+00:00",
        enriched: true,
        user_interests: ["technology"],
        ad_creative: { creative_id: "c-b-09", bid_tier: "premium", targeted: "true" },
        win_status: true,
        win_price: 0.5,
        auction_timestamp: "2025-10-26T00:00:00.048Z",
      },
    });
  });

  test("gives a loser with profit margin 0.0, a null site_domain and microseconds", async () => {
    const id = idOf("b-17");
    const { body } = await api.get(`/api/outcomes/${id}/`);
    expect(body).toMatchObject({
      id,
      bid_id: "b-17",
      site_domain: null,
      win_status: false,
      is_winner: false,
      win_price: "0.00",
      bid_price: "0.90",
      profit_margin: 0,
      timestamp: "2025-10-24T23:59:59.999999Z",
      auction_timestamp: "2025-10-25T00:00:00.03Z",
    });
    expect(body.raw_data).not.toHaveProperty("site_domain");
  });

  test("keeps a non-USD currency and a half-second timestamp", async () => {
    const { body } = await api.get(`/api/outcomes/${idOf("b-06")}/`);
    expect(body).toMatchObject({ currency: "EUR", timestamp: "2025-10-26T08:30:00.5Z", win_price: "0.80" });
  });

  test("gives a null auction_timestamp when there was none", async () => {
    const { body } = await api.get(`/api/outcomes/${idOf("b-07")}/`);
    expect(body.auction_timestamp).toBeNull();
  });

  test("keeps raw_data exactly as stored for every row", async () => {
    for (const row of rows) {
      const { body } = await api.get(`/api/outcomes/${row.id}/`);
      expect(body.raw_data).toEqual(row.raw_data);
      expect(body.bid_id).toBe(row.bid_id);
    }
  });

  test("answers the same without the trailing slash", async () => {
    const id = idOf("b-13");
    const withSlash = await api.get(`/api/outcomes/${id}/`);
    const without = await api.get(`/api/outcomes/${id}`);
    expect(without.status).toBe(200);
    expect(without.body).toEqual(withSlash.body);
    expect(without.body.win_price).toBe("12345.678901");
  });

  test.each(["999999", "0", "abc", "-1", "1.5", "1e3", "99999999999999999999", "%20", "1%3B%20drop%20table%20auction_outcomes"])(
    "answers 404 Not found. for the id %s",
    async (id) => {
      for (const path of [`/api/outcomes/${id}/`, `/api/outcomes/${id}`]) {
        const { status, body } = await api.get(path);
        expect(status).toBe(404);
        expect(body).toEqual({ detail: "Not found." });
      }
    },
  );

  test("applies the list filters, as the original's queryset did", async () => {
    const id = idOf("b-09");
    expect((await api.get(`/api/outcomes/${id}/?user_id=u-bob&win_status=true`)).status).toBe(200);
    const filtered = await api.get(`/api/outcomes/${id}/?user_id=u-alice`);
    expect(filtered.status).toBe(404);
    expect(filtered.body).toEqual({ detail: "Not found." });
    expect((await api.get(`/api/outcomes/${id}/?to=2025-10-26`)).status).toBe(404);
  });

  test("refuses a bad filter with 400 before looking the id up", async () => {
    const { status, body } = await api.get(`/api/outcomes/${idOf("b-09")}/?win_status=maybe`);
    expect(status).toBe(400);
    expect(body).toEqual({
      detail: "Invalid query parameter: win_status.",
      errors: { win_status: ['"maybe" is not valid: expected true or false (also 1/0, yes/no).'] },
    });
  });

  test("ignores list-only parameters such as page and ordering", async () => {
    expect((await api.get(`/api/outcomes/${idOf("b-01")}/?page=x&ordering=password&page_size=0`)).status).toBe(200);
  });
});

describe("GET /api/", () => {
  test("links to the outcomes collection with an absolute URL, with and without the slash", async () => {
    for (const path of ["/api/", "/api"]) {
      const { status, body } = await api.get(path);
      expect(status).toBe(200);
      // Other collections may be listed beside it; outcomes is the one the original had.
      expect(body.outcomes).toBe("http://localhost/api/outcomes/");
    }
  });
});

describe("unknown paths", () => {
  test.each(["/api/nothing/", "/api/outcomes/winners/5/", "/api/outcomes/stats/extra", "/"])("%s is 404 Not found.", async (path) => {
    const { status, body } = await api.get(path);
    expect(status).toBe(404);
    expect(body).toEqual({ detail: "Not found." });
  });
});
