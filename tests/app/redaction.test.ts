// Secrets never leave the process: a database password (with a quote, a backslash, an @ and a
// non-ASCII letter, so it has three spellings: as is, JSON-escaped, percent-encoded) and two API
// tokens are configured; errors of every kind are driven (401s, 400s echoing values, 404s with the
// token in the path, an unreachable database, a failed migration, a bad token list); every log
// line, stderr line and response body is collected and searched for every spelling of every secret.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { ConfigError } from "../../src/config";
import { createSql } from "../../src/db/client";
import { ApiError, errorResponse } from "../../src/http/errors";
import { createLogger } from "../../src/log";
import { startApiProcess } from "../support/api-process";
import { createTestDatabase, type TestDatabase, testConfig, urlFor } from "../support/db";
import { testApp } from "../support/http";
import { spawnRole } from "../support/processes";

setDefaultTimeout(60_000);

const NONCE = Math.random().toString(36).slice(2, 10);
const PASSWORD = `Pw"q\\z@é/${NONCE}`;
const TOKENS = [`redaction-token-A-${NONCE}`, `redaction-token-B-${NONCE}`];
const SECRETS = [PASSWORD, ...TOKENS];
const spellings = (secret: string) => [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)];

/** The URL of database `name` on the test server with the password in it (trust auth ignores it). */
function urlWithPassword(name: string, hostPort?: string): string {
  const url = new URL(urlFor(name));
  if (hostPort) url.host = hostPort;
  url.username = "postgres";
  url.password = encodeURIComponent(PASSWORD);
  return url.toString();
}

/** Everything seen, by where it was seen, searched at the end of each test. */
const seen: { where: string; text: string }[] = [];
function expectNoSecretIn(texts: { where: string; text: string }[]) {
  const leaks = texts.flatMap(({ where, text }) =>
    SECRETS.flatMap((secret) =>
      spellings(secret)
        .filter((form) => text.includes(form))
        .map((form) => `${where}: ${form}`),
    ),
  );
  expect(leaks).toEqual([]);
}

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase("redaction");
  expect(urlWithPassword(db.name)).toContain(encodeURIComponent(PASSWORD));
});

afterAll(async () => {
  await db.drop();
});

function capturingLogger(secrets: string[]) {
  const lines: string[] = [];
  return { lines, log: createLogger("DEBUG", secrets, (line) => lines.push(line)) };
}

async function drive(app: ReturnType<typeof testApp>, requests: [string, Record<string, string>][]) {
  const statuses: number[] = [];
  for (const [path, headers] of requests) {
    const { status, text, headers: responseHeaders } = await app.get(path, headers);
    statuses.push(status);
    seen.push({ where: `body of ${status} ${path.slice(0, 40)}`, text });
    seen.push({ where: `headers of ${status}`, text: JSON.stringify(Object.fromEntries(responseHeaders)) });
  }
  return statuses;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const [TOKEN_A, TOKEN_B] = TOKENS as [string, string];

describe("in process, DEBUG on, every log line captured", () => {
  test("401s, echoed values, tokens in paths and Swagger leave no secret in bodies or logs", async () => {
    const config = testConfig(urlWithPassword(db.name), { API_TOKENS: TOKENS.join(","), DEBUG: "true", LOG_LEVEL: "DEBUG" });
    expect(config.secrets).toEqual(SECRETS);
    const { lines, log } = capturingLogger(config.secrets);
    const sql = createSql(config.db, { max: 2 });
    try {
      const statuses = await drive(testApp(config, sql, log), [
        ["/api/outcomes/", {}],
        ["/api/outcomes/", bearer(`${TOKEN_A}x`)],
        ["/api/outcomes/", bearer(TOKEN_A.slice(0, -1))],
        ["/api/outcomes/", { authorization: `Basic ${btoa(`postgres:${PASSWORD}`)}` }],
        [`/api/outcomes/?win_status=${TOKEN_B}`, bearer(TOKEN_A)],
        [`/api/outcomes/?currency=${encodeURIComponent(PASSWORD)}&enriched=${encodeURIComponent(PASSWORD)}`, bearer(TOKEN_A)],
        [`/api/outcomes/${TOKEN_A}/`, bearer(TOKEN_A)],
        [`/${encodeURIComponent(PASSWORD)}`, bearer(TOKEN_B)],
        ["/api/outcomes/stats/", bearer(TOKEN_B)],
        ["/readyz", {}],
        ["/swagger/json", {}],
        ["/metrics", {}],
      ]);
      expect(statuses).toEqual([401, 401, 401, 401, 400, 400, 404, 404, 200, 200, 200, 200]);
    } finally {
      await sql.end({ timeout: 1 });
    }
    for (const [i, text] of lines.entries()) seen.push({ where: `log line ${i}`, text });
    expectNoSecretIn(seen);
    // The secrets did reach the redactor (the request log carries the paths above).
    expect(lines.filter((line) => line.includes("[REDACTED]")).length).toBeGreaterThanOrEqual(2);
  });

  test("an unreachable database with the password in its URL: 503 bodies, /readyz reason and log lines stay clean", async () => {
    const config = testConfig(urlWithPassword("nowhere", "127.0.0.1:1"), { API_TOKENS: TOKENS.join(","), DEBUG: "true", LOG_LEVEL: "DEBUG" });
    const { lines, log } = capturingLogger(config.secrets);
    const sql = createSql(config.db, { max: 1 });
    try {
      const statuses = await drive(testApp(config, sql, log), [
        ["/api/outcomes/", bearer(TOKEN_A)],
        [`/api/outcomes/?user_id=${TOKEN_B}`, bearer(TOKEN_A)],
        ["/api/outcomes/stats/", bearer(TOKEN_B)],
        ["/readyz", {}],
      ]);
      expect(statuses).toEqual([503, 503, 503, 503]);
    } finally {
      await sql.end({ timeout: 1 });
    }
    expect(lines.filter((line) => JSON.parse(line).message === "Database unavailable").length).toBe(3);
    for (const [i, text] of lines.entries()) seen.push({ where: `log line ${i}`, text });
    expectNoSecretIn(seen);
  });

  test("the logger redacts every spelling of a secret, in any field, nested or in an error", () => {
    const { lines, log } = capturingLogger(SECRETS);
    const url = urlWithPassword("somewhere");
    log.error("Connect failed", { url, error: new Error(`could not connect to ${url} with ${PASSWORD}`), nested: { deep: [TOKEN_A, { token: TOKEN_B }] } });
    log.warn(`token ${TOKEN_A} in the message`, { quoted: JSON.stringify({ password: PASSWORD }) });
    log.info("percent-encoded", { value: encodeURIComponent(TOKEN_B) + encodeURIComponent(PASSWORD) });
    expect(lines.length).toBe(3);
    expectNoSecretIn(lines.map((text, i) => ({ where: `logger line ${i}`, text })));
    expect(lines.every((line) => line.includes("[REDACTED]"))).toBe(true);
    // Each line is still one valid JSON object after redaction.
    expect(lines.map((line) => typeof JSON.parse(line).message)).toEqual(["string", "string", "string"]);
  });
});

describe("a DATABASE_URL password however it is percent-encoded", () => {
  // "pa/ss%wörd…" written the ways a person or a tool may write it in a URL: letters encoded for no
  // reason, hex digits in lower case, a raw non-ASCII letter, every byte encoded, the encoder's own spelling.
  const password = `pa/ss%w\u00f6rd-${NONCE}`;
  const spellingsInUrl: [string, string][] = [
    ["a letter encoded for no reason, lower-case hex", `p%61%2fss%25w%c3%b6rd-${NONCE}`],
    ["a raw non-ASCII letter", `pa%2Fs%73%25w\u00f6rd-${NONCE}`],
    ["every byte encoded", [...new TextEncoder().encode(password)].map((byte) => `%${byte.toString(16).padStart(2, "0")}`).join("")],
    ["encodeURIComponent's own spelling", encodeURIComponent(password)],
  ];
  const urlWith = (spelling: string) => `postgres://postgres:${spelling}@127.0.0.1:1/nowhere`;
  const REDACTED_URL = "postgres://postgres:[REDACTED]@127.0.0.1:1/nowhere";

  test.each(spellingsInUrl)("written with %s, it is redacted in that spelling from log lines, free text and error bodies", (_, spelling) => {
    const config = testConfig(urlWith(spelling));
    expect(config.db.password).toBe(password);
    const { lines, log } = capturingLogger(config.secrets);
    log.error("Connect failed", { url: config.db.url, error: new Error(`could not connect to ${config.db.url}`), note: `password=${spelling}` });
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      {
        timestamp: expect.any(String),
        level: "ERROR",
        message: "Connect failed",
        url: REDACTED_URL,
        error: { name: "Error", message: `could not connect to ${REDACTED_URL}` },
        note: "password=[REDACTED]",
      },
    ]);
    const body = errorResponse(new ApiError(400, `Bad value ${spelling} and ${password}.`), config.secrets);
    return body.text().then((text) => expect(JSON.parse(text)).toEqual({ detail: "Bad value [REDACTED] and [REDACTED]." }));
  });

  test("a password too short to count as a secret is still cut from a URL's userinfo; URLs without one are left alone", () => {
    const config = testConfig("postgres://postgres:p%61s@127.0.0.1:1/nowhere");
    expect(config.secrets).toEqual([]);
    const { lines, log } = capturingLogger(config.secrets);
    log.info("Connecting", {
      url: config.db.url,
      plain: "postgres://postgres@127.0.0.1:5432/db",
      broker: "kafka://kafka:9092/x",
      web: "http://localhost:8000/api/",
    });
    const { url, plain, broker, web } = JSON.parse(lines[0]!);
    expect({ url, plain, broker, web }).toEqual({
      url: REDACTED_URL,
      plain: "postgres://postgres@127.0.0.1:5432/db",
      broker: "kafka://kafka:9092/x",
      web: "http://localhost:8000/api/",
    });
  });
});

describe("real processes, stdout and stderr captured", () => {
  test("the api role against an unreachable database: startup, 401, 503, 404 and shutdown print no secret", async () => {
    const api = await startApiProcess({
      DATABASE_URL: urlWithPassword("nowhere", "127.0.0.1:1"),
      API_TOKENS: TOKENS.join(","),
      LOG_LEVEL: "DEBUG",
      DEBUG: "true",
    });
    const statuses: number[] = [];
    for (const [path, headers] of [
      ["/api/outcomes/", {}],
      ["/api/outcomes/", bearer(`${TOKEN_B}-wrong`)],
      ["/api/outcomes/", bearer(TOKEN_A)],
      [`/api/outcomes/${TOKEN_B}/`, bearer(TOKEN_A)],
      ["/readyz", {}],
    ] as [string, Record<string, string>][]) {
      const response = await fetch(api.base + path, { headers });
      statuses.push(response.status);
      seen.push({ where: `process body ${path.slice(0, 30)}`, text: await response.text() });
    }
    expect(await api.stop()).toBe(0);
    expect(statuses).toEqual([401, 401, 503, 404, 503]);
    const output = [...api.lines.map((line) => JSON.stringify(line)), ...api.other];
    expect(api.lines.some((line) => line.message === "HTTP request")).toBe(true);
    expectNoSecretIn([...seen, ...output.map((text, i) => ({ where: `api process output ${i}`, text }))]);
  });

  test("a failing migrate role prints no secret", async () => {
    const migrate = spawnRole("migrate", [], { DATABASE_URL: urlWithPassword("nowhere", "127.0.0.1:1"), LOG_LEVEL: "DEBUG" });
    expect(await migrate.exited).not.toBe(0);
    const output = [...migrate.lines.map((line) => JSON.stringify(line)), ...migrate.other];
    expect(output.length).toBeGreaterThan(0);
    expectNoSecretIn(output.map((text, i) => ({ where: `migrate output ${i}`, text })));
  });

  test("a bad API_TOKENS stops the process with exit 78 naming the variable, not the tokens", async () => {
    const bad = spawnRole("api", [], { DATABASE_URL: urlWithPassword(db.name), API_TOKENS: `${TOKEN_A},short-${NONCE}` });
    expect(await bad.exited).toBe(78);
    expect(bad.other).toEqual([
      `Invalid configuration: API_TOKENS="<token 2 of 2, ${`short-${NONCE}`.length} characters>" is not valid; expected comma-separated tokens of at least 16 visible ASCII characters each.`,
    ]);
    expectNoSecretIn(bad.other.map((text, i) => ({ where: `config error ${i}`, text })));
    expect(bad.other.join("\n")).not.toContain(`short-${NONCE}`);
    expect(() => testConfig(db.url, { API_TOKENS: "x" })).toThrow(ConfigError);
  });
});
