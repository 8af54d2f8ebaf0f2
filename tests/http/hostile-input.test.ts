// Property-based hostile input: thousands of generated request targets at every endpoint, both
// slash forms — random parameter names and values, known names with garbage, huge values, unicode,
// NUL bytes, broken percent-encoding, repeated parameters, SQL fragments, hostile path ids, forged
// cursors, long paths, other methods. Whatever comes in: only 200/400/404 (405 for another method,
// 414 past the URL bound, 401 without a token where tokens are configured), every 4xx is the one
// JSON error body, and not one stored row changes.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import fc from "fast-check";
import type { Sql } from "../../src/db/client";
import { createTestDatabase, type TestDatabase, testConfig } from "../support/db";
import { insertOutcomes } from "../support/fixtures";
import { BASE, testApp } from "../support/http";

setDefaultTimeout(60_000);

// Sized so the file runs well under 30 s on a loaded 2-core machine (≈ 1–3 ms per request).
const RUNS = { endpoints: 4_000, paths: 1_200, cursors: 1_200, methods: 400, withTokens: 500 } as const;
/** Requests the runs above send at least (the token run sends three per input). */
const MIN_TRIED = RUNS.endpoints + RUNS.paths + RUNS.cursors + RUNS.methods + 3 * RUNS.withTokens;
const TOKEN = "hostile-input-token-0123456789";
const MAX_URL_LENGTH = 4096;

let db: TestDatabase;
let ids: number[];
/** Every GET route under /api/ the app has (both slash forms), and every query parameter its OpenAPI document names. */
let endpoints: string[];
let knownParams: string[];
let tried = 0;
const statusCounts: Record<number, number> = {};

/** Row count and md5 of every row, in id order, of each table the API reads; and the table list. */
async function fingerprint(sql: Sql) {
  const tables = ["auction_outcomes", "dead_letters", "outcome_rollup_hourly", "outcome_rollup_daily_site", "schema_migrations"];
  const out: Record<string, string> = {};
  for (const table of tables) {
    const [row] = await sql<{ rows: string; md5: string | null }[]>`
      select count(*) as rows, md5(string_agg(t::text, '|' order by t::text)) as md5 from ${sql(table)} t`;
    out[table] = `${row!.rows}:${row!.md5}`;
  }
  const names = await sql<{ names: string }[]>`
    select string_agg(tablename, ',' order by tablename) as names from pg_tables where schemaname = 'public'`;
  out.tables = names[0]!.names;
  return out;
}

beforeAll(async () => {
  db = await createTestDatabase("hostile");
  ids = (await insertOutcomes(db.setup)).map((row) => row.id);
  await db.setup`
    insert into dead_letters (topic, "partition", "offset", message_key, payload, reason)
    values ('auction_outcomes', 0, 7, null, '\\x7b6e6f74206a736f6e'::bytea, 'not JSON'),
           ('auction_outcomes', 1, 9, 'k'::bytea, '\\xff00'::bytea, 'not UTF-8')`;
});

afterAll(async () => {
  const kinds = Object.entries(statusCounts)
    .map(([status, n]) => `${status}×${n}`)
    .join(", ");
  console.log(`hostile-input: ${tried} generated requests tried (${kinds})`);
  await db.drop();
});

// ---- generators -------------------------------------------------------------------------------

const BASE_PARAMS = [
  "user_id",
  "site_domain",
  "win_status",
  "enriched",
  "min_price",
  "max_price",
  "currency",
  "from",
  "to",
  "page",
  "page_size",
  "cursor",
  "ordering",
];

const SQL_FRAGMENTS = [
  "' OR 1=1 --",
  "; DROP TABLE auction_outcomes",
  "1); DELETE FROM auction_outcomes; --",
  "' UNION SELECT * FROM pg_shadow --",
  "'; select pg_sleep(10); --",
  "$1",
  "\\x00",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: one of the hostile strings, literally.
  "${sql}",
  "1::bigint",
  "id desc; truncate dead_letters",
  '"id"',
  "-id,'",
];

/** Raw text placed in the URL as is: broken escapes, NULs, invalid UTF-8, separators. */
const RAW_GARBAGE = [
  "%zz",
  "%",
  "%0",
  "%00",
  "%ff",
  "%c3%28",
  "%ed%a0%80",
  "%f4%90%80%80",
  "%2e%2e%2f",
  "..%2F..%2F",
  "&&&",
  "==",
  "=&=",
  "+",
  "%2B",
  ";",
  "%0d%0aSet-Cookie:%20x=1",
  "%u0041",
  "%25",
  "%%",
  "a%00b",
  "%e2%80%ae",
];

const TEXT_VALUES = [
  "true",
  "false",
  "TRUE",
  "yes",
  "no",
  "maybe",
  "1",
  "0",
  "-1",
  "",
  " ",
  "null",
  "undefined",
  "NaN",
  "Infinity",
  "-Infinity",
  "-0",
  "1e308",
  "1e-400",
  "1e9999",
  "0x10",
  "0.000001",
  "999999999999999999999999999999",
  "9223372036854775808",
  "2025-10-25",
  "2025-13-45",
  "2025-02-30",
  "0000-01-01",
  "9999-12-31T23:59:59.9999999Z",
  "2025-10-25T25:00:00Z",
  "+275760-09-13",
  "2025-10-25T12:00:00+99:00",
  "usd",
  "EURO",
  "€",
  "-timestamp",
  "timestamp,-id",
  "--id",
  ",,",
  "win_price,win_price",
  "-",
  "id;drop",
  "__proto__",
  "constructor",
  "[]",
  "{}",
  "[object Object]",
];

const encode = (text: string) => encodeURIComponent(text);

const anyValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...TEXT_VALUES).map(encode) },
  { weight: 2, arbitrary: fc.constantFrom(...SQL_FRAGMENTS).map(encode) },
  { weight: 2, arbitrary: fc.constantFrom(...RAW_GARBAGE) },
  { weight: 3, arbitrary: fc.string({ unit: "grapheme", maxLength: 40 }).map(encode) },
  { weight: 1, arbitrary: fc.string({ unit: "binary-ascii", maxLength: 40 }).map(encode) },
  { weight: 2, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String) },
  { weight: 1, arbitrary: fc.double().map(String).map(encode) },
  {
    weight: 1,
    arbitrary: fc
      .date({ noInvalidDate: false })
      .map((d) => (Number.isNaN(d.getTime()) ? "Invalid Date" : d.toISOString()))
      .map(encode),
  },
  // Huge: past what any field accepts, sometimes past the URL bound (then 414).
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom("9", "a", "%00", "é", "'"), fc.integer({ min: 256, max: 6_000 })).map(([c, n]) => encode(c).repeat(n)) },
);

const anyName: fc.Arbitrary<string> = fc.oneof(
  // Lazy: the names are read from the app in beforeAll, after this module is loaded.
  { weight: 6, arbitrary: fc.constant(null).chain(() => fc.constantFrom(...knownParams)) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 12 }).map(encode) },
  { weight: 1, arbitrary: fc.constantFrom("", "%00", "a[]", "page[]", "__proto__", "constructor", "user_id%00", "PAGE", "page ", ...RAW_GARBAGE) },
);

/** name=value, a bare name, or name==value; repeated names come from the array. */
const pair = fc.tuple(anyName, anyValue, fc.constantFrom("=", "=", "=", "", "==")).map(([name, value, eq]) => (eq === "" ? name : `${name}${eq}${value}`));
const queryString = fc.array(pair, { minLength: 0, maxLength: 8 }).map((pairs) => (pairs.length === 0 ? "" : `?${pairs.join("&")}`));

const HOSTILE_IDS = [
  "-1",
  "0",
  "00",
  "01",
  "1e9999",
  "1.5",
  "NaN",
  "Infinity",
  "..",
  "../",
  "%2e%2e%2f",
  "..%2F..%2Fetc%2Fpasswd",
  "%00",
  "%zz",
  "9223372036854775807",
  "9223372036854775808",
  "99999999999999999999999",
  "999999999999999999",
  " 1",
  "1 ",
  "%201",
  "1;DROP TABLE auction_outcomes",
  "1'%20OR%20'1'='1",
  "winners",
  "stats",
  "daily_stats",
  "%E2%80%AE",
  "0x1",
  "+1",
];

const pathId: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...HOSTILE_IDS),
  fc.integer().map(String),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }).map(encode),
  fc.integer({ min: 100, max: 5_000 }).map((n) => "9".repeat(n)),
);

/** Read from the app itself, so a route or parameter added later is attacked without editing this file. */
async function discoverEndpoints(api: ReturnType<typeof testApp>): Promise<void> {
  const paths = [...new Set(api.app.routes.filter((route) => route.method === "GET" && route.path.startsWith("/api")).map((route) => route.path))].map((path) =>
    path.replace(":id", String(ids[0])),
  );
  expect(paths).toContain("/api/outcomes/");
  endpoints = [...paths, ...paths.map((path) => (path.endsWith("/") ? path.slice(0, -1) : `${path}/`))];
  const doc = (await api.get("/swagger/json")).body as { paths: Record<string, { get?: { parameters?: { in: string; name: string }[] } }> };
  const documented = Object.values(doc.paths).flatMap((item) => (item.get?.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name));
  knownParams = [...new Set([...BASE_PARAMS, ...documented])];
}

/** Query ordering → the ordering a cursor records (id appended as tie-breaker) and the type of each value. */
const CURSOR_ORDERINGS: [string, string, ("timestamp" | "numeric" | "id")[]][] = [
  ["", "-timestamp,-id", ["timestamp", "id"]],
  ["-timestamp", "-timestamp,-id", ["timestamp", "id"]],
  ["timestamp", "timestamp,id", ["timestamp", "id"]],
  ["win_price", "win_price,id", ["numeric", "id"]],
  ["-bid_price", "-bid_price,-id", ["numeric", "id"]],
  ["created_at,-win_price", "created_at,-win_price,id", ["timestamp", "numeric", "id"]],
  ["id", "id", ["id"]],
];

const twoDigits = fc.integer({ min: 0, max: 99 }).map((n) => String(n).padStart(2, "0"));
const cursorValue = {
  // The shape decodeCursor checks, with impossible calendar values and the edges of the range.
  timestamp: fc.oneof(
    fc.constantFrom(
      "2025-13-45 12:00:00+00",
      "2025-02-30 24:60:61+00",
      "0000-00-00 00:00:00+00",
      "9999-12-31 23:59:59.999999+00",
      "2025-10-25 12:00:00.123456+00",
      "0001-01-01 00:00:00+00",
    ),
    fc
      .tuple(fc.integer({ min: 0, max: 9999 }), twoDigits, twoDigits, twoDigits, twoDigits, twoDigits)
      .map(([y, mo, d, h, mi, se]) => `${String(y).padStart(4, "0")}-${mo}-${d} ${h}:${mi}:${se}+00`),
  ),
  numeric: fc.oneof(
    fc.constantFrom("9999999999999.9", "0.000000000000000000000000000001", "0", "1e5", "-1"),
    fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 13n - 1n }), fc.bigInt({ min: 0n, max: 10n ** 30n - 1n })).map(([i, f]) => `${i}.${f}`),
  ),
  id: fc.oneof(
    fc.constantFrom("9999999999999999999", "9223372036854775807", "9223372036854775808", "0", "-1", "00000000000000000001"),
    fc.bigInt({ min: 0n, max: 10n ** 19n - 1n }).map(String),
  ),
};

/** Keyset cursors with the right shape and wrong contents: what decodeCursor must refuse with 400. */
const forgedCursor: fc.Arbitrary<{ ordering: string; cursor: string }> = fc
  .constantFrom(...CURSOR_ORDERINGS)
  .chain(([ordering, recorded, types]) =>
    fc.tuple(
      fc.constant(ordering),
      fc.constant(recorded),
      fc.oneof(
        { weight: 4, arbitrary: fc.tuple(...types.map((type) => cursorValue[type] as fc.Arbitrary<string>)) },
        { weight: 1, arbitrary: fc.array(fc.oneof(fc.string({ maxLength: 70 }), fc.constantFrom("' OR 1=1 --", "", "null")), { maxLength: 4 }) },
      ),
      fc.constantFrom<unknown>(0, 1, 1, 2, "1", null),
      fc.constantFrom("array", "array", "array", "object", "garbage"),
    ),
  )
  .map(([ordering, recorded, values, forward, form]) => {
    const json = form === "array" ? JSON.stringify([recorded, values, forward]) : form === "object" ? JSON.stringify({ recorded, values }) : '["';
    return { ordering, cursor: Buffer.from(json).toString("base64url") };
  });

// ---- the checks -------------------------------------------------------------------------------

type App = ReturnType<typeof testApp>["app"];

interface Expectation {
  allowed: number[];
  method?: string;
  headers?: Record<string, string>;
}

/** Sends one generated request and checks the status and the error body; returns the status. */
async function check(app: App, target: string, { allowed, method = "GET", headers = {} }: Expectation): Promise<number> {
  let request: Request;
  try {
    request = new Request(BASE + target, { method, headers });
  } catch {
    return -1; // Not a URL any client could send; nothing to check.
  }
  tried += 1;
  const response = await app.handle(request);
  const status = response.status;
  statusCounts[status] = (statusCounts[status] ?? 0) + 1;
  const text = await response.text();
  // Measured as sent: the URL parser percent-encodes some characters (a quote in the query becomes %27).
  const tooLong = request.url.length - BASE.length > MAX_URL_LENGTH;
  const expected = tooLong ? [...allowed, 414] : allowed;
  if (!expected.includes(status)) throw new Error(`${method} ${target.slice(0, 300)} → ${status}: ${text.slice(0, 500)}`);
  if (status >= 400 && method !== "HEAD") {
    expect(response.headers.get("content-type")).toStartWith("application/json");
    const body = JSON.parse(text);
    expect(typeof body.detail).toBe("string");
    expect(Object.keys(body).filter((key) => key !== "detail" && key !== "errors")).toEqual([]);
    if (body.errors !== undefined) {
      for (const messages of Object.values(body.errors)) {
        expect(Array.isArray(messages) && messages.every((message) => typeof message === "string")).toBe(true);
      }
    }
  }
  if (status === 200 && method === "GET") JSON.parse(text);
  return status;
}

describe("what the generators found (fixed), kept as plain examples", () => {
  test("a NUL in a text parameter is a 400 naming it, not a database error", async () => {
    const api = testApp(db.config, db.sql);
    const { status, body } = await api.get("/api/outcomes/winners/?user_id=a%00b");
    expect(status).toBe(400);
    expect(body).toEqual({
      detail: "Invalid query parameter: user_id.",
      errors: { user_id: ['"a\\u0000b" is not valid: expected text without NUL characters (%00).'] },
    });
    expect((await api.get("/api/outcomes/daily_stats/?site_domain=%00")).status).toBe(400);
  });

  test("a forged cursor with an impossible date or an id past bigint is a 400, not a database error", async () => {
    const api = testApp(db.config, db.sql);
    const cursor = (values: string[], ordering = "-timestamp,-id") => Buffer.from(JSON.stringify([ordering, values, 1])).toString("base64url");
    for (const values of [
      ["0000-00-00 00:00:00+00", "1"],
      ["2025-02-30 12:00:00+00", "1"],
      ["2025-10-25 24:00:00+00", "1"],
      ["2025-10-25 12:00:00+00", "9223372036854775808"],
    ]) {
      const { status, body } = await api.get(`/api/outcomes/?cursor=${cursor(values)}`);
      expect({ values, status, detail: body.detail }).toEqual({ values, status: 400, detail: "Invalid query parameter: cursor." });
    }
    expect((await api.get(`/api/outcomes/?cursor=${cursor(["2025-10-25 12:00:00+00", "9223372036854775807"])}`)).status).toBe(200);
  });
});

describe("hostile input", () => {
  let before: Record<string, string>;
  let api: ReturnType<typeof testApp>;

  beforeAll(async () => {
    before = await fingerprint(db.sql);
    api = testApp(testConfig(db.url, { MAX_URL_LENGTH: String(MAX_URL_LENGTH) }), db.sql);
    await discoverEndpoints(api);
  });

  test("generated query strings at every endpoint get only 200, 400, 404 (414 past the URL bound) and the JSON error body", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...endpoints), queryString, async (path, query) => {
        await check(api.app, path + query, { allowed: [200, 400, 404] });
      }),
      { numRuns: RUNS.endpoints },
    );
  });

  test("hostile path ids and long or odd paths get 404 (or 200 for a real id), never anything else", async () => {
    const oddPaths = fc.oneof(
      pathId.map((id) => `/api/outcomes/${id}/`),
      pathId.map((id) => `/api/outcomes/${id}`),
      fc.tuple(pathId, queryString).map(([id, query]) => `/api/outcomes/${id}/${query}`),
      fc.array(fc.oneof(pathId, fc.constantFrom("..", ".", "", "api", "outcomes", "%2F", "%5C")), { maxLength: 8 }).map((parts) => `/api/${parts.join("/")}`),
      fc.array(fc.constantFrom(...RAW_GARBAGE, "a", "..", "%00"), { maxLength: 12 }).map((parts) => `/${parts.join("/")}`),
      fc.integer({ min: 1_000, max: 8_000 }).map((n) => `/api/outcomes/${"a/".repeat(n / 2)}`),
    );
    await fc.assert(
      fc.asyncProperty(oddPaths, async (target) => {
        await check(api.app, target, { allowed: [200, 400, 404] });
      }),
      { numRuns: RUNS.paths },
    );
  });

  test("forged keyset cursors are refused 400 (or served 200), never a database error", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("/api/outcomes/", "/api/outcomes/winners/"), forgedCursor, async (path, { ordering, cursor }) => {
        await check(api.app, `${path}?cursor=${cursor}&ordering=${ordering}`, { allowed: [200, 400] });
      }),
      { numRuns: RUNS.cursors },
    );
  });

  test("other methods get 405 with the JSON body; HEAD is answered like GET", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"),
        fc.constantFrom(...endpoints),
        queryString,
        async (method, path, query) => {
          await check(api.app, path + query, { method, allowed: method === "HEAD" ? [200, 400, 404] : [405] });
        },
      ),
      { numRuns: RUNS.methods },
    );
  });

  test("with API_TOKENS: 401 without a token, and with the token the same answers as the open API", async () => {
    const locked = testApp(testConfig(db.url, { API_TOKENS: TOKEN, MAX_URL_LENGTH: String(MAX_URL_LENGTH) }), db.sql);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...endpoints), queryString, async (path, query) => {
        await check(locked.app, path + query, { allowed: [401] });
        const withToken = await check(locked.app, path + query, { allowed: [200, 400, 404], headers: { authorization: `Bearer ${TOKEN}` } });
        const open = await check(api.app, path + query, { allowed: [200, 400, 404] });
        expect(withToken).toBe(open);
      }),
      { numRuns: RUNS.withTokens },
    );
  });

  test("left every stored row, rollup and table exactly as it was", async () => {
    expect(await fingerprint(db.sql)).toEqual(before);
    expect(tried).toBeGreaterThanOrEqual(MIN_TRIED);
  });
});
