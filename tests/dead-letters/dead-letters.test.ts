// GET /api/dead_letters/: what ingest set aside, newest first, paged like the outcomes.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { BASE, testApp } from "../support/http";

setDefaultTimeout(30_000);

let db: TestDatabase;
let api: ReturnType<typeof testApp>;

beforeAll(async () => {
  db = await createTestDatabase("dead_letters_api");
  api = testApp(db.config, db.sql);
  // 5 letters: received one second apart, the last two in the same instant (id breaks the tie).
  const letters = [
    { offset: 10, key: "k-0", payload: Buffer.from("not json"), reason: "value is not valid JSON (x)", at: "2025-10-25T12:00:00.000001Z" },
    { offset: 11, key: null, payload: Buffer.from([0x7b, 0xff, 0xfe]), reason: "value is not valid UTF-8", at: "2025-10-25T12:00:01Z" },
    { offset: 12, key: "k-2", payload: null, reason: "message has no value (a tombstone or an empty record)", at: "2025-10-25T12:00:02Z" },
    {
      offset: 13,
      key: "k-3",
      payload: Buffer.from('{"bid_request_id":"k-3","win_price":"ten"}'),
      reason: 'win_price is not a number: got "ten"',
      at: "2025-10-25T12:00:03Z",
    },
    { offset: 14, key: "k-4", payload: Buffer.from("[]"), reason: "value is JSON but not an object (got an array)", at: "2025-10-25T12:00:03Z" },
  ];
  for (const l of letters) {
    await db.setup`
      insert into dead_letters (topic, "partition", "offset", message_key, payload, reason, received_at)
      values ('auction_outcomes', 1, ${l.offset}, ${l.key === null ? null : Buffer.from(l.key)}, ${l.payload}, ${l.reason}, ${l.at}::timestamptz)`;
  }
}, 30_000);

afterAll(async () => {
  await db.drop();
}, 30_000);

describe("GET /api/dead_letters/", () => {
  test("lists dead letters newest first, id breaking ties, with payloads as text or base64", async () => {
    const { status, body } = await api.get("/api/dead_letters/");
    expect(status).toBe(200);
    expect(body.count).toBe(5);
    expect(body.next).toBeNull();
    expect(body.previous).toBeNull();
    expect(body.results.map((r: any) => r.offset)).toEqual([14, 13, 12, 11, 10]);
    expect(body.results[1]).toEqual({
      id: expect.any(Number),
      topic: "auction_outcomes",
      partition: 1,
      offset: 13,
      key: "k-3",
      key_encoding: "utf-8",
      payload: '{"bid_request_id":"k-3","win_price":"ten"}',
      payload_encoding: "utf-8",
      reason: 'win_price is not a number: got "ten"',
      received_at: "2025-10-25T12:00:03Z",
      replay_count: 0,
      last_replay: null,
    });
    expect(body.results[3]).toMatchObject({
      key: null,
      key_encoding: null,
      payload: Buffer.from([0x7b, 0xff, 0xfe]).toString("base64"),
      payload_encoding: "base64",
    });
    expect(body.results[2]).toMatchObject({ payload: null, payload_encoding: null });
    expect(body.results[4].received_at).toBe("2025-10-25T12:00:00.000001Z");
  });

  test("answers without the trailing slash too", async () => {
    const { status, body } = await api.get("/api/dead_letters");
    expect(status).toBe(200);
    expect(body.count).toBe(5);
  });

  test("pages with page and page_size and absolute next/previous links", async () => {
    const first = await api.get("/api/dead_letters/?page_size=2");
    expect(first.body).toMatchObject({ count: 5, next: `${BASE}/api/dead_letters/?page_size=2&page=2`, previous: null });
    expect(first.body.results.map((r: any) => r.offset)).toEqual([14, 13]);
    const second = await api.get("/api/dead_letters/?page_size=2&page=2");
    expect(second.body).toMatchObject({ next: `${BASE}/api/dead_letters/?page_size=2&page=3`, previous: `${BASE}/api/dead_letters/?page_size=2` });
    expect(second.body.results.map((r: any) => r.offset)).toEqual([12, 11]);
    const last = await api.get("/api/dead_letters/?page_size=2&page=3");
    expect(last.body).toMatchObject({ next: null, previous: `${BASE}/api/dead_letters/?page_size=2&page=2` });
    expect(last.body.results.map((r: any) => r.offset)).toEqual([10]);
  });

  test("answers 404 Invalid page past the end", async () => {
    const { status, body } = await api.get("/api/dead_letters/?page=4&page_size=2");
    expect(status).toBe(404);
    expect(body).toEqual({ detail: "Invalid page." });
  });

  test("rejects a bad page or page_size with 400 naming each parameter", async () => {
    const { status, body } = await api.get("/api/dead_letters/?page=0&page_size=1001");
    expect(status).toBe(400);
    expect(body).toEqual({
      detail: "Invalid query parameters: page, page_size.",
      errors: {
        page: ['"0" is not valid: expected an integer from 1 to 999999999.'],
        page_size: ['"1001" is not valid: expected an integer from 1 to 1000.'],
      },
    });
  });

  test("is linked from the API root and documented in the OpenAPI document", async () => {
    const root = await api.get("/api/");
    expect(root.body.dead_letters).toBe(`${BASE}/api/dead_letters/`);
    const doc = await api.get("/swagger/json");
    expect(doc.status).toBe(200);
    const operation = doc.body.paths["/api/dead_letters/"].get;
    expect(operation.parameters.map((p: any) => p.name)).toEqual(["page", "page_size"]);
    expect(Object.keys(operation.responses).sort()).toEqual(["200", "400", "404"]);
  });
});

describe("GET /api/dead_letters/ on an empty table", () => {
  test("answers an empty first page", async () => {
    const empty = await createTestDatabase("dead_letters_empty");
    try {
      const { status, body } = await testApp(empty.config, empty.sql).get("/api/dead_letters/");
      expect(status).toBe(200);
      expect(body).toEqual({ count: 0, next: null, previous: null, results: [] });
    } finally {
      await empty.drop();
    }
  });
});

describe("page depth", () => {
  // A database of its own: the depth is counted on exactly the rows inserted here.
  let deep: TestDatabase;
  beforeAll(async () => {
    deep = await createTestDatabase("dead_letters_depth");
  });
  afterAll(async () => {
    await deep.drop();
  });

  test("refuses the same depth on dead letters with 400, and keeps 404 for a page past their end", async () => {
    const api = testApp(deep.config, deep.sql);
    expect((await api.get("/api/dead_letters/?page=999999999&page_size=1000")).body).toEqual({ detail: "Invalid page." });
    // Set-up through the pool without a statement timeout: a million rows take seconds on a busy machine.
    await deep.setup`
      insert into dead_letters (topic, "partition", "offset", reason)
      select 'depth-test', 0, n, 'generated' from generate_series(1, 1000002) as n`;
    try {
      // One row per page: page 1,000,002 would skip 1,000,001 rows, one more than the bound.
      const { status, body } = await api.get("/api/dead_letters/?page=1000002&page_size=1");
      expect(status).toBe(400);
      expect(body).toEqual({
        detail: "Invalid query parameter: page.",
        errors: { page: ["page 1000002 × page_size 1 skips more than 1000000 rows: expected a smaller page."] },
      });
      // At the bound, OFFSET still serves the page.
      const atBound = await api.get("/api/dead_letters/?page=1000001&page_size=1");
      expect(atBound.status).toBe(200);
      expect(atBound.body.count).toBe(1_000_002);
      expect(atBound.body.results.length).toBe(1);
    } finally {
      await deep.setup`delete from dead_letters where topic = 'depth-test'`;
    }
  });
});
