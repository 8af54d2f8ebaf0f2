// The doors: optional bearer tokens (constant-time), open probes, docs and metrics open or not,
// CORS as django-cors-headers answered it, security headers on every kind of response, long URLs.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, spyOn, test } from "bun:test";
import * as crypto from "node:crypto";
import { createHash } from "node:crypto";
import { ConfigError, loadConfig } from "../../src/config";
import { createSql } from "../../src/db/client";
import { tokenMatcher } from "../../src/http/security";
import { startApiProcess } from "../support/api-process";
import { createTestDatabase, type TestDatabase, testConfig } from "../support/db";
import { insertOutcomes } from "../support/fixtures";
import { BASE, testApp } from "../support/http";

setDefaultTimeout(30_000);

const TOKEN_A = "tok-A-0123456789abcdef";
const TOKEN_B = "tok-B-fedcba9876543210";
const WWW_AUTHENTICATE = 'Bearer realm="helios-analytics"';
const NOT_PROVIDED = { detail: "Authentication credentials were not provided." };
const INVALID = { detail: "Invalid token." };
const API_CSP = "default-src 'none'; frame-ancestors 'none'";

let db: TestDatabase;
let someId: number;

beforeAll(async () => {
  db = await createTestDatabase("security");
  someId = (await insertOutcomes(db.setup))[0]!.id;
});

afterAll(async () => {
  await db.drop();
});

const apiWith = (env: Record<string, string> = {}) => testApp(testConfig(db.url, env), db.sql);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
/** Every route of the API, both slash forms where the router has them. */
const API_PATHS = () => [
  "/api/",
  "/api",
  "/api/outcomes/",
  "/api/outcomes",
  "/api/outcomes/winners/",
  "/api/outcomes/stats/",
  "/api/outcomes/daily_stats/",
  "/api/outcomes/breakdown/?by=site_domain",
  "/api/outcomes/breakdown?by=day&tz=Europe/Berlin",
  `/api/outcomes/${someId}/`,
  `/api/outcomes/${someId}`,
  "/api/dead_letters/",
  "/api/dead_letters",
];

describe("configuration of the doors", () => {
  test("has no tokens, open docs and metrics, 64 places, a 10 s deadline and 4096-character URLs by default", () => {
    const config = loadConfig({});
    expect(config.apiTokens).toEqual([]);
    expect(config.protectDocsAndMetrics).toBe(false);
    expect(config.apiMaxInflight).toBe(64);
    expect(config.apiRequestTimeoutMs).toBe(10_000);
    expect(config.maxUrlLength).toBe(4096);
  });

  test("reads comma-separated API_TOKENS, trimmed, and redacts each one", () => {
    const config = loadConfig({ API_TOKENS: ` ${TOKEN_A} , ${TOKEN_B} `, PROTECT_DOCS_AND_METRICS: "true" });
    expect(config.apiTokens).toEqual([TOKEN_A, TOKEN_B]);
    expect(config.secrets).toEqual([TOKEN_A, TOKEN_B]);
    expect(config.protectDocsAndMetrics).toBe(true);
  });

  test("refuses a token shorter than 16 characters without showing it", () => {
    let error: unknown;
    try {
      loadConfig({ API_TOKENS: `${TOKEN_A},fifteen-chars-x` });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      'Invalid configuration: API_TOKENS="<token 2 of 2, 15 characters>" is not valid; expected comma-separated tokens of at least 16 visible ASCII characters each.',
    );
    expect((error as Error).message).not.toContain(TOKEN_A);
  });

  test("refuses a token with a space or a non-ASCII character", () => {
    expect(() => loadConfig({ API_TOKENS: "sixteen chars here" })).toThrow(ConfigError);
    expect(() => loadConfig({ API_TOKENS: "sixteen-chars-hére" })).toThrow(ConfigError);
  });

  test("refuses API_MAX_INFLIGHT=0, API_REQUEST_TIMEOUT_MS=5 and MAX_URL_LENGTH=10", () => {
    expect(() => loadConfig({ API_MAX_INFLIGHT: "0" })).toThrow("API_MAX_INFLIGHT");
    expect(() => loadConfig({ API_REQUEST_TIMEOUT_MS: "5" })).toThrow("API_REQUEST_TIMEOUT_MS");
    expect(() => loadConfig({ MAX_URL_LENGTH: "10" })).toThrow("MAX_URL_LENGTH");
  });
});

describe("without API_TOKENS", () => {
  test("every route answers without a token, as the original did", async () => {
    const api = apiWith();
    for (const path of [...API_PATHS(), "/metrics", "/swagger", "/swagger/json", "/healthz", "/readyz"]) {
      expect({ path, status: (await api.get(path)).status }).toEqual({ path, status: 200 });
    }
  });

  test("ignores an Authorization header it has no use for", async () => {
    expect((await apiWith().get("/api/outcomes/", bearer("anything-at-all-really"))).status).toBe(200);
  });
});

describe("with API_TOKENS", () => {
  const api = () => apiWith({ API_TOKENS: `${TOKEN_A},${TOKEN_B}` });

  test("every /api/ route refuses a request without a token: 401, WWW-Authenticate, JSON body", async () => {
    for (const path of API_PATHS()) {
      const { status, headers, body } = await api().get(path);
      expect({ path, status, body, challenge: headers.get("www-authenticate") }).toEqual({
        path,
        status: 401,
        body: NOT_PROVIDED,
        challenge: WWW_AUTHENTICATE,
      });
      expect(headers.get("content-type")).toStartWith("application/json");
    }
  });

  test("every /api/ route answers 200 with either token", async () => {
    for (const token of [TOKEN_A, TOKEN_B]) {
      for (const path of API_PATHS()) {
        expect({ path, status: (await api().get(path, bearer(token))).status }).toEqual({ path, status: 200 });
      }
    }
  });

  test("takes the scheme in any case and spaces around the token", async () => {
    for (const header of [`bearer ${TOKEN_A}`, `BEARER ${TOKEN_A}`, `Bearer   ${TOKEN_A}  `]) {
      expect((await api().get("/api/outcomes/", { authorization: header })).status).toBe(200);
    }
  });

  test("says credentials were not provided for another scheme or an empty bearer", async () => {
    for (const header of ["", "Bearer", "Bearer ", `Basic ${btoa(`user:${TOKEN_A}`)}`, `Token ${TOKEN_A}`, TOKEN_A]) {
      const { status, body } = await api().get("/api/outcomes/stats/", { authorization: header });
      expect({ header, status, body }).toEqual({ header, status: 401, body: NOT_PROVIDED });
    }
  });

  test("says the token is invalid for near misses: one character off, a prefix, an extension, another case, two tokens", async () => {
    const nearMisses = [`${TOKEN_A.slice(0, -1)}0`, TOKEN_A.slice(0, -1), `${TOKEN_A}0`, TOKEN_A.toUpperCase(), `${TOKEN_A},${TOKEN_B}`, "x".repeat(4000)];
    for (const token of nearMisses) {
      const { status, headers, body } = await api().get("/api/outcomes/", bearer(token));
      expect({ status, body, challenge: headers.get("www-authenticate") }).toEqual({ status: 401, body: INVALID, challenge: WWW_AUTHENTICATE });
    }
    expect((await api().get("/api/outcomes/", { authorization: `Bearer ${TOKEN_A} ${TOKEN_B}` })).body).toEqual(NOT_PROVIDED);
  });

  test("compares a token with every configured token through timingSafeEqual on equal-length SHA-256 digests", () => {
    const spy = spyOn(crypto, "timingSafeEqual");
    try {
      const matches = tokenMatcher([TOKEN_A, TOKEN_B]);
      for (const presented of [TOKEN_A, TOKEN_B, "short", "x".repeat(1000)]) {
        spy.mockClear();
        const expected = presented === TOKEN_A || presented === TOKEN_B;
        expect(matches(presented)).toBe(expected);
        // No early exit: a match on the first token still compares with the second.
        expect(spy.mock.calls.length).toBe(2);
        const digest = createHash("sha256").update(presented).digest();
        for (const [candidate, known] of spy.mock.calls) {
          expect([(candidate as Buffer).length, (known as Buffer).length]).toEqual([32, 32]);
          expect(Buffer.compare(candidate as Buffer, digest)).toBe(0);
        }
      }
    } finally {
      spy.mockRestore();
    }
  });

  test("leaves /healthz and /readyz open, both slash forms", async () => {
    for (const path of ["/healthz", "/healthz/", "/readyz", "/readyz/"]) {
      expect({ path, status: (await api().get(path)).status }).toEqual({ path, status: 200 });
    }
  });

  test("leaves /metrics and /swagger open by default", async () => {
    for (const path of ["/metrics", "/swagger", "/swagger/json"]) {
      expect({ path, status: (await api().get(path)).status }).toEqual({ path, status: 200 });
    }
  });

  test("requires the token on /metrics and /swagger with PROTECT_DOCS_AND_METRICS=true", async () => {
    const locked = apiWith({ API_TOKENS: TOKEN_A, PROTECT_DOCS_AND_METRICS: "true" });
    for (const path of ["/metrics", "/swagger", "/swagger/json"]) {
      const refused = await locked.get(path);
      expect({ path, status: refused.status, body: refused.body }).toEqual({ path, status: 401, body: NOT_PROVIDED });
      expect({ path, status: (await locked.get(path, bearer(TOKEN_A))).status }).toEqual({ path, status: 200 });
    }
    expect((await locked.get("/healthz")).status).toBe(200);
  });

  test("leaves the console's static pages to the console: never a 401 under /console/", async () => {
    for (const path of ["/console", "/console/", "/console/index.html"]) {
      expect((await api().get(path)).status).not.toBe(401);
    }
  });

  test("denies by default: the root, unknown paths and odd spellings of /api/ need the token too", async () => {
    const spellings = [
      "/",
      "/nope",
      "/API/outcomes/",
      "//api/outcomes/",
      "/%61pi/outcomes/",
      "/api%2Foutcomes/",
      "/console/../api/outcomes/",
      "/console/%2e%2e/api/outcomes/",
      "/console/..%2Fapi/outcomes/",
      "/healthz/../api/outcomes/",
      "/console%2F..%2Fapi/outcomes/",
      "/metrics/../api/outcomes/",
    ];
    for (const path of spellings) {
      const { status, text } = await api().get(path);
      // A path the URL parser resolves into /api/ is refused 401; the console's own routes may 404; none leaks a record.
      expect({ path, refused: status === 401 || status === 404 }).toEqual({ path, refused: true });
      expect(text).not.toContain('"results"');
    }
  });

  test("checks the Host before the token: a refused Host is a 400 with or without a token, never a 401", async () => {
    const locked = apiWith({ API_TOKENS: TOKEN_A, ALLOWED_HOSTS: "api.example.com" });
    const REFUSED = { detail: "Bad Request: the Host header is not in ALLOWED_HOSTS." };
    for (const [label, headers] of [
      ["no token", {}],
      ["wrong token", bearer(TOKEN_B)],
      ["right token", bearer(TOKEN_A)],
    ] as const) {
      const { status, headers: answer, body } = await locked.get("/api/outcomes/", { host: "evil.example.net", ...headers });
      expect({ label, status, wwwAuthenticate: answer.get("www-authenticate"), body }).toEqual({ label, status: 400, wwwAuthenticate: null, body: REFUSED });
    }
    expect((await locked.get("/api/outcomes/", { host: "api.example.com" })).status).toBe(401);
    expect((await locked.get("/api/outcomes/", { host: "api.example.com", ...bearer(TOKEN_A) })).status).toBe(200);
  });
});

describe("startup", () => {
  const WARNING = "API_TOKENS is not set: /api/ is open to anyone who can reach this port, as the original service was";

  test("the api role logs one WARN line when API_TOKENS is unset, and none when it is set", async () => {
    for (const [tokens, expected] of [
      ["", [WARNING]],
      [TOKEN_A, []],
    ] as const) {
      const api = await startApiProcess({ DATABASE_URL: db.url, LOG_LEVEL: "INFO", API_TOKENS: tokens });
      expect(await api.stop()).toBe(0);
      expect(api.lines.filter((line) => line.level === "WARN").map((line) => line.message)).toEqual([...expected]);
    }
  });
});

describe("CORS", () => {
  const ORIGIN = "http://localhost:3000";
  const handle = (app: ReturnType<typeof apiWith>["app"], path: string, init: RequestInit) => app.handle(new Request(BASE + path, init));

  test("echoes an allowed origin with Vary: Origin", async () => {
    const { headers } = await apiWith().get("/api/outcomes/", { origin: ORIGIN });
    expect(headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(headers.get("vary")).toBe("Origin");
  });

  test("sends no Access-Control-Allow-Origin to an origin not allowed, still varying on Origin", async () => {
    const { status, headers } = await apiWith().get("/api/outcomes/", { origin: "https://evil.example" });
    expect(status).toBe(200);
    expect(headers.get("access-control-allow-origin")).toBeNull();
    expect(headers.get("vary")).toBe("Origin");
  });

  test("reads CORS_ALLOWED_ORIGINS and answers * with CORS_ALLOW_ALL_ORIGINS", async () => {
    const custom = apiWith({ CORS_ALLOWED_ORIGINS: "https://dash.example.com" });
    expect((await custom.get("/api/", { origin: "https://dash.example.com" })).headers.get("access-control-allow-origin")).toBe("https://dash.example.com");
    expect((await custom.get("/api/", { origin: ORIGIN })).headers.get("access-control-allow-origin")).toBeNull();
    const all = apiWith({ CORS_ALLOW_ALL_ORIGINS: "true" });
    expect((await all.get("/api/", { origin: "https://anyone.example" })).headers.get("access-control-allow-origin")).toBe("*");
  });

  test("answers a preflight 200 before authentication, with methods, headers and max age", async () => {
    const { app } = apiWith({ API_TOKENS: TOKEN_A });
    const response = await handle(app, "/api/outcomes/", {
      method: "OPTIONS",
      headers: { origin: ORIGIN, "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("");
    expect({
      origin: response.headers.get("access-control-allow-origin"),
      methods: response.headers.get("access-control-allow-methods"),
      headers: response.headers.get("access-control-allow-headers"),
      maxAge: response.headers.get("access-control-max-age"),
      vary: response.headers.get("vary"),
    }).toEqual({ origin: ORIGIN, methods: "GET, HEAD, OPTIONS", headers: "authorization, content-type", maxAge: "86400", vary: "Origin" });
  });

  test("answers a preflight from an origin not allowed without any allow header", async () => {
    const { app } = apiWith({ API_TOKENS: TOKEN_A });
    const response = await handle(app, "/api/outcomes/", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "GET" },
    });
    expect(response.status).toBe(200);
    for (const name of ["access-control-allow-origin", "access-control-allow-methods", "access-control-allow-headers"]) {
      expect(response.headers.get(name)).toBeNull();
    }
  });

  test("lets the browser read a 401: the refusal carries Access-Control-Allow-Origin too", async () => {
    const { status, headers } = await apiWith({ API_TOKENS: TOKEN_A }).get("/api/outcomes/", { origin: ORIGIN });
    expect(status).toBe(401);
    expect(headers.get("access-control-allow-origin")).toBe(ORIGIN);
  });
});

describe("security headers", () => {
  const COMMON = { "x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "x-frame-options": "DENY" };
  const headersOf = (headers: Headers, names: string[]) => Object.fromEntries(names.map((name) => [name, headers.get(name)]));
  const API_HEADERS = { ...COMMON, "content-security-policy": API_CSP, "cache-control": "no-store" };

  test("are on every JSON answer: 200, 400, 401, 404, 414, refused Host, /healthz, /readyz, /metrics", async () => {
    const open = apiWith({ MAX_URL_LENGTH: "256" });
    const cases: [string, ReturnType<typeof apiWith>, string, Record<string, string>][] = [
      ["list 200", open, "/api/outcomes/", {}],
      ["bad parameter 400", open, "/api/outcomes/?win_status=maybe", {}],
      ["unknown id 404", open, "/api/outcomes/999999999/", {}],
      ["unknown path 404", open, "/nowhere", {}],
      ["too long 414", open, `/api/outcomes/?user_id=${"u".repeat(300)}`, {}],
      ["refused Host 400", apiWith({ ALLOWED_HOSTS: "api.example.com" }), "/api/", {}],
      ["no token 401", apiWith({ API_TOKENS: TOKEN_A }), "/api/", {}],
      ["healthz", open, "/healthz", {}],
      ["readyz", open, "/readyz", {}],
      ["metrics", open, "/metrics", {}],
    ];
    const statuses: Record<string, number> = {};
    for (const [label, api, path, headers] of cases) {
      const response = await api.get(path, headers);
      statuses[label] = response.status;
      expect({ label, ...headersOf(response.headers, Object.keys(API_HEADERS)) }).toEqual({ label, ...API_HEADERS });
    }
    expect(statuses).toEqual({
      "list 200": 200,
      "bad parameter 400": 400,
      "unknown id 404": 404,
      "unknown path 404": 404,
      "too long 414": 414,
      "refused Host 400": 400,
      "no token 401": 401,
      healthz: 200,
      readyz: 200,
      metrics: 200,
    });
  });

  test("are on a 503 when the database is unreachable", async () => {
    const config = testConfig("postgres://postgres@127.0.0.1:1/nowhere");
    const sql = createSql(config.db, { max: 1 });
    try {
      const response = await testApp(config, sql).get("/api/outcomes/stats/");
      expect(response.status).toBe(503);
      expect(headersOf(response.headers, Object.keys(API_HEADERS))).toEqual(API_HEADERS);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });

  test("give the Swagger UI page, served from this origin, a policy of its own: scripts from here only, none inline", async () => {
    const { status, headers, text } = await apiWith().get("/swagger");
    expect(status).toBe(200);
    expect(text).not.toContain("unpkg.com");
    expect(text).not.toMatch(/<script>/);
    expect(headers.get("content-security-policy")).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(headersOf(headers, Object.keys(COMMON))).toEqual(COMMON);
    expect(headers.get("cache-control")).toBe("no-cache");
  });

  test("serve Swagger UI's assets from the page's versioned URLs, cached for good, and 404 any other name", async () => {
    const api = apiWith();
    const page = (await api.get("/swagger")).text;
    const urls = [...page.matchAll(/(?:src|href)="(\/swagger\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(urls.map((url) => url.replace(/\?v=.*/, ""))).toEqual([
      "/swagger/assets/swagger-ui.css",
      "/swagger/assets/swagger-ui-bundle.js",
      "/swagger/assets/swagger-init.js",
    ]);
    for (const url of urls) {
      const { status, headers, text } = await api.get(url);
      expect({ url, status, cache: headers.get("cache-control"), nosniff: headers.get("x-content-type-options") }).toEqual({
        url,
        status: 200,
        cache: "public, max-age=31536000, immutable",
        nosniff: "nosniff",
      });
      expect(text.length).toBeGreaterThan(100);
    }
    for (const name of ["index.html", "..%2Fpackage.json", "swagger-ui.css.map", "constructor", "__proto__"]) {
      expect({ name, status: (await api.get(`/swagger/assets/${name}`)).status }).toEqual({ name, status: 404 });
    }
  });
});

describe("URL length", () => {
  const api = () => apiWith({ MAX_URL_LENGTH: "300" });
  const pathOfLength = (length: number) => {
    const prefix = "/api/outcomes/?ignored=";
    return prefix + "u".repeat(length - prefix.length);
  };

  test("accepts a path and query of exactly MAX_URL_LENGTH characters", async () => {
    expect((await api().get(pathOfLength(300))).status).toBe(200);
  });

  test("answers 414 with a JSON body one character over", async () => {
    const { status, body } = await api().get(pathOfLength(301));
    expect(status).toBe(414);
    expect(body).toEqual({ detail: "Request URI too long: 301 characters of path and query, at most 300 are accepted." });
  });

  test("answers 414 on any path, 4096 by default", async () => {
    const { status } = await apiWith().get(`/${"a".repeat(5000)}`);
    expect(status).toBe(414);
  });

  test("asks for the token first when tokens are configured, then refuses the length", async () => {
    const locked = apiWith({ API_TOKENS: TOKEN_A, MAX_URL_LENGTH: "300" });
    expect((await locked.get(pathOfLength(301))).status).toBe(401);
    expect((await locked.get(pathOfLength(301), bearer(TOKEN_A))).status).toBe(414);
  });
});
