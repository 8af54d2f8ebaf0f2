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
import { insertOutcomes, OUTCOMES } from "../support/fixtures";
import { BASE, testApp } from "../support/http";

setDefaultTimeout(60_000);

// Sized so the file runs well under 30 s on a loaded 2-core machine (≈ 1–3 ms per request).
const RUNS = { endpoints: 4_000, edges: 1_500, paths: 1_200, cursors: 1_200, methods: 400, withTokens: 500 } as const;
/** Requests the runs above send at least (the token run sends three per input). */
const MIN_TRIED = RUNS.endpoints + RUNS.edges + RUNS.paths + RUNS.cursors + RUNS.methods + 3 * RUNS.withTokens;
const TOKEN = "hostile-input-token-0123456789";
const MAX_URL_LENGTH = 4096;

let db: TestDatabase;
let ids: number[];
/** Every GET route under /api/ the app has (both slash forms), and every query parameter its OpenAPI document names. */
let endpoints: string[];
/** The console's page routes, which take the same query strings. */
let consolePages: string[];
let knownParams: string[];
let tried = 0;
const statusCounts: Record<number, number> = {};

/** Row count and md5 of every row, in id order, of each table the API reads; and the table list. */
async function fingerprint(sql: Sql) {
  const tables = ["auction_outcomes", "dead_letters", "outcome_rollup_hourly", "outcome_rollup_daily_site", "outcome_rollup_price_hourly", "schema_migrations"];
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

/** Outcomes at the first and last instants PostgreSQL and the API both accept, at the highest prices: cursors are built from them. */
const EXTREME_ROWS = [
  {
    ...OUTCOMES[0]!,
    bid_id: "extreme-first",
    timestamp: "0001-01-01T00:00:00Z",
    auction_timestamp: "0001-01-01T00:00:00Z",
    created_at: "0001-01-01T00:00:00Z",
  },
  {
    ...OUTCOMES[0]!,
    bid_id: "extreme-last",
    timestamp: "9999-12-31T23:59:59.999999Z",
    auction_timestamp: "9999-12-31T23:59:59.999999Z",
    created_at: "9999-12-31T23:59:59.999999Z",
    win_price: "999999999999.999999",
    bid_price: "999999999999.999999",
  },
];

beforeAll(async () => {
  db = await createTestDatabase("hostile");
  ids = (await insertOutcomes(db.setup, [...OUTCOMES, ...EXTREME_ROWS])).map((row) => row.id);
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

// ---- edge values, drawn on purpose: the ends of each parameter's range and one step past ----

/** Every offset from −14:00 to +14:00 in half hours, both spellings of UTC, and the odd ones ISO allows. */
const OFFSETS = [
  "Z",
  "z",
  "+00:00",
  "-00:00",
  "+0000",
  "+00",
  "+05:45",
  "+12:45",
  "-09:30",
  "+14:00",
  "-14:00",
  "+14:01",
  "-14:30",
  ...Array.from({ length: 57 }, (_, i) => {
    const minutes = i * 30 - 14 * 60;
    const abs = Math.abs(minutes);
    return `${minutes < 0 ? "-" : "+"}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
  }),
];
const EDGE_CLOCKS = [
  "0001-01-01T00:00:00",
  "0001-01-01T13:59:59",
  "0001-01-02T00:00:00",
  "9999-12-31T23:59:59",
  "9999-12-31T10:00:00",
  "9999-12-30T23:00:00",
  "1970-01-01T00:00:00",
];
const FRACTIONS = ["", ".0", ".5", ".999", ".999999", ".999999000", ".999999999", ".000000001", ".000001", ".123456789"];
const edgeInstant: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(fc.constantFrom(...EDGE_CLOCKS), fc.constantFrom(...FRACTIONS), fc.constantFrom(...OFFSETS))
      .map(([clock, fraction, offset]) => clock + fraction + offset),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "0001-01-01",
      "9999-12-31",
      "0000-12-31",
      "10000-01-01",
      "9999-12-31T24:00:00Z",
      "0001-01-01T00:00:00+14:00",
      "9999-12-31T23:59:59.999999-14:00",
    ),
  },
);
/** The largest price the filters accept, a step past it in each direction, and the smallest. */
const EDGE_PRICES = [
  "999999999999.999999",
  "1000000000000",
  "999999999999.9999999",
  "9999999999999",
  "0",
  "0.000001",
  "0.0000001",
  "000000000000.000000",
  "1.",
];
const EDGE_PAGES = ["1", "2", "10", "1000", "1001", "2147483647", "2147483648", "9007199254740991", "9007199254740992", "99999999999999999999", "0", "-1"];
const EDGE_PAGE_SIZES = ["1", "999", "1000", "1001", "0", "01", "10000"];

/** A value for a known parameter at its edge, sent with + as %2B and, sometimes, as a raw + (a space once decoded). */
const edgePair: fc.Arbitrary<string> = fc
  .oneof(
    fc.tuple(fc.constantFrom("from", "to"), edgeInstant),
    fc.tuple(fc.constantFrom("min_price", "max_price"), fc.constantFrom(...EDGE_PRICES)),
    fc.tuple(fc.constant("page"), fc.constantFrom(...EDGE_PAGES)),
    fc.tuple(fc.constant("page_size"), fc.constantFrom(...EDGE_PAGE_SIZES)),
    fc.tuple(
      fc.constantFrom("interval", "limit", "ordering", "by"),
      fc.constantFrom("hour", "day", "1", "1000", "1001", "-timestamp", "timestamp", "site_domain"),
    ),
  )
  .chain(([name, value]) => fc.constantFrom(`${name}=${encode(value)}`, `${name}=${value}`));
const edgeQuery = fc.array(edgePair, { minLength: 1, maxLength: 4 }).map((pairs) => `?${pairs.join("&")}`);

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
  const served = (prefix: string) => {
    const paths = [
      ...new Set(
        api.app.routes
          .filter((route) => route.method === "GET" && route.path.startsWith(prefix) && !route.path.includes("/assets/"))
          .map((route) => route.path),
      ),
    ];
    const filled = paths.map((path) => path.replace(":id", String(ids[0])).replace("*", "outcomes"));
    return [...new Set([...filled, ...filled.map((path) => (path.endsWith("/") ? path.slice(0, -1) : `${path}/`))])];
  };
  endpoints = served("/api");
  expect(endpoints).toContain("/api/outcomes/");
  // The console's pages read the same parameters in the browser; the server must still answer them.
  consolePages = served("/console");
  expect(consolePages).toContain("/console/outcomes");
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
  if (status === 200 && method === "GET") {
    if (target.startsWith("/console")) expect(response.headers.get("content-type")).toStartWith("text/html");
    // The export answers a file: CSV (the default) or NDJSON, each line of which is JSON.
    else if (/^\/api\/outcomes\/export\/?(\?|$)/.test(target)) expect(response.headers.get("content-type")).toMatch(/^(text\/csv|application\/x-ndjson)/);
    else JSON.parse(text);
  }
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

describe("the ends of the representable range (fixed: rounding to a rollup bucket left year 10000)", () => {
  test("a from late on 9999-12-31 counts, lists and buckets the last row, whatever the offset", async () => {
    const api = testApp(db.config, db.sql);
    for (const from of ["9999-12-31T23:30:00Z", "9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999999000-00:00", "9999-12-31T09:59:59.999999-14:00"]) {
      const q = `from=${encodeURIComponent(from)}`;
      const stats = await api.get(`/api/outcomes/stats/?${q}`);
      expect({ from, status: stats.status, total: (stats.body as { total_outcomes: number }).total_outcomes }).toEqual({ from, status: 200, total: 1 });
      const list = await api.get(`/api/outcomes/?${q}`);
      expect({
        from,
        count: (list.body as { count: number }).count,
        bid: (list.body as { results: { bid_id: string }[] }).results.map((r) => r.bid_id),
      }).toEqual({ from, count: 1, bid: ["extreme-last"] });
      const daily = await api.get(`/api/outcomes/daily_stats/?${q}`);
      expect({ from, status: daily.status, days: (daily.body as { date: string }[]).map((d) => d.date) }).toEqual({ from, status: 200, days: ["9999-12-31"] });
    }
  });

  test("a to early on 0001-01-01 at +14:00 (still 1 BC in UTC) counts nothing and refuses nothing", async () => {
    const api = testApp(db.config, db.sql);
    for (const path of ["stats/", "", "daily_stats/", "timeseries/?interval=hour&"]) {
      const sep = path.endsWith("&") ? "" : "?";
      const response = await api.get(`/api/outcomes/${path}${sep}to=${encodeURIComponent("0001-01-01T09:00:00+14:00")}`);
      expect({ path, status: response.status }).toEqual({ path, status: 200 });
    }
    const stats = await api.get(`/api/outcomes/stats/?to=${encodeURIComponent("0001-01-01T00:00:00.000001Z")}`);
    expect((stats.body as { total_outcomes: number }).total_outcomes).toBe(1);
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
      fc.asyncProperty(fc.constantFrom(...endpoints, ...consolePages), queryString, async (path, query) => {
        await check(api.app, path + query, { allowed: [200, 400, 404] });
      }),
      { numRuns: RUNS.endpoints },
    );
  });

  test("edge values of every parameter (first and last instants at every offset, nine fraction digits, the largest prices, pages and page sizes) get 200 or a 400 naming them", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...endpoints, ...consolePages), edgeQuery, async (path, query) => {
        await check(api.app, path + query, { allowed: [200, 400, 404] });
      }),
      { numRuns: RUNS.edges },
    );
  });

  test("keyset pages from the first and last rows walk both ways in every ordering with 200", async () => {
    for (const [ordering] of CURSOR_ORDERINGS) {
      for (const path of ["/api/outcomes/", "/api/outcomes/winners/"]) {
        let target: string | null = `${path}?page_size=1&cursor=${ordering ? `&ordering=${ordering}` : ""}`;
        const seen: number[] = [];
        for (let step = 0; target !== null && step < 40; step++) {
          const response = await api.get(target.replace(BASE, ""));
          expect({ target, status: response.status }).toEqual({ target, status: 200 });
          const body = response.body as { next: string | null; previous: string | null; results: { id: number }[] };
          seen.push(...body.results.map((row) => row.id));
          if (step === 0 && body.previous !== null) expect((await api.get(body.previous.replace(BASE, ""))).status).toBe(200);
          target = body.next;
        }
        const expected = path === "/api/outcomes/" ? OUTCOMES.length + EXTREME_ROWS.length : seen.length;
        expect({ ordering, path, rows: new Set(seen).size }).toEqual({ ordering, path, rows: expected });
      }
    }
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
