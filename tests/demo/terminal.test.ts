// What the demo's terminal shows a person: the banner (where the data goes, what to try, the header
// to add when tokens are required), the request count in place of a line per request, and the
// addresses again after each progress line.
import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config";
import { databaseAddress } from "../../src/db/client";
import { banner, embeddedWhere, externalWhere, reminder, TOKEN_PLACEHOLDER } from "../../src/demo/banner";
import { createRequestTally, requestSummary, startDemoReport } from "../../src/demo/demo-report";
import { createLogger } from "../../src/log";

const PASSWORD = "s3cret-pass%word";
const HEADER = `-H 'Authorization: Bearer ${TOKEN_PLACEHOLDER}'`;

describe("databaseAddress", () => {
  test("names host:port and database from the DB_* parts", () => {
    const config = loadConfig({ DB_HOST: "db.internal", DB_PORT: "6432", DB_NAME: "analytics", DB_PASSWORD: PASSWORD });
    expect(databaseAddress(config.db)).toEqual({ server: "db.internal:6432", database: "analytics" });
  });

  test("takes host, port and database from DATABASE_URL, which overrides the parts, and 5432 when it names no port", () => {
    const withPort = loadConfig({ DATABASE_URL: `postgres://helios:${encodeURIComponent(PASSWORD)}@pg.example:6543/from_url`, DB_HOST: "ignored" });
    expect(databaseAddress(withPort.db)).toEqual({ server: "pg.example:6543", database: "from_url" });
    expect(databaseAddress(loadConfig({ DATABASE_URL: "postgresql://u@[::1]/db" }).db)).toEqual({ server: "[::1]:5432", database: "db" });
  });
});

describe("banner", () => {
  test("names the configured server and database, never the user or the password", () => {
    const config = loadConfig({ DATABASE_URL: `postgres://helios:${encodeURIComponent(PASSWORD)}@pg.example:6543/from_url` });
    const text = banner({ port: 8000, where: externalWhere(config.db), source: "a simulated stream of 300 outcomes/s" });
    expect(text).toContain("Helios Analytics demo: a simulated stream of 300 outcomes/s into PostgreSQL at pg.example:6543, database from_url.");
    expect(text).not.toContain("s3cret");
    expect(text).not.toContain("helios:");
    expect(text).not.toContain("configured PostgreSQL");
  });

  test("names the embedded database and where it keeps its data", () => {
    expect(embeddedWhere("18.7", null)).toBe("embedded PostgreSQL 18.7 (PGlite, in memory)");
    expect(embeddedWhere("18.7", "/tmp/demo")).toBe("embedded PostgreSQL 18.7 (PGlite, data in /tmp/demo)");
  });

  test("without API_TOKENS shows the curl examples as they are", () => {
    const text = banner({ port: 8123, where: "x", source: "y" });
    expect(text).toContain("    curl -s http://localhost:8123/api/outcomes/stats/\n");
    expect(text).toContain("    curl -s 'http://localhost:8123/api/outcomes/?page_size=5'\n");
    expect(text).not.toContain("Authorization");
    expect(text).not.toContain("API_TOKENS");
  });

  test("with API_TOKENS shows the header to add on every path that needs it, with a placeholder for the token", () => {
    const text = banner({ port: 8123, where: "x", source: "y", auth: { protectDocsAndMetrics: false } });
    expect(text).toContain(`    curl -s ${HEADER} http://localhost:8123/api/outcomes/stats/\n`);
    expect(text).toContain(`    curl -s ${HEADER} 'http://localhost:8123/api/outcomes/?page_size=5'\n`);
    expect(text).toContain(`    curl -s ${HEADER} http://localhost:8123/api/dead_letters/\n`);
    expect(text).toContain(`    curl -s ${HEADER} http://localhost:8123/api/ingest/status/\n`);
    // /metrics stays open unless PROTECT_DOCS_AND_METRICS says otherwise.
    expect(text).toContain("    curl -s http://localhost:8123/metrics | grep ^http_requests_total\n");
    expect(text).toContain(`API_TOKENS is set: put one of its tokens in place of ${TOKEN_PLACEHOLDER}`);
    const guarded = banner({ port: 8123, where: "x", source: "y", auth: { protectDocsAndMetrics: true } });
    expect(guarded).toContain(`    curl -s ${HEADER} http://localhost:8123/metrics | grep ^http_requests_total\n`);
  });

  test("the reminder repeats the console and Swagger addresses on one line", () => {
    expect(reminder(8123)).toBe("Helios Analytics demo: console http://localhost:8123/console/ · Swagger http://localhost:8123/swagger · Ctrl-C stops it.");
  });
});

describe("the request tally", () => {
  test("counts answered requests by status and starts afresh after each take", () => {
    const tally = createRequestTally();
    for (const status of [200, 200, 404, 200]) tally.record({ method: "GET", path: "/api/", status });
    expect(tally.take()).toEqual({ http_requests: 4, http_statuses: { 200: 3, 404: 1 } });
    expect(tally.take()).toEqual({ http_requests: 0, http_statuses: {} });
    expect(requestSummary({ 503: 2 })).toEqual({ http_requests: 2, http_statuses: { 503: 2 } });
  });
});

describe("startDemoReport", () => {
  test("writes one progress line with the totals and the request count, then the reminder, every interval", async () => {
    const written: string[] = [];
    const log = createLogger("INFO", [], (line) => written.push(line));
    const tally = createRequestTally();
    tally.record({ method: "GET", path: "/console/", status: 200 });
    const report = startDemoReport({ log, intervalMs: 20, totals: () => ({ inserted: 7 }), requests: tally, remind: () => written.push("reminder") });
    await Bun.sleep(70);
    report.stop();
    const count = written.length;
    await Bun.sleep(50);
    expect(written.length).toBe(count);
    expect(written.length).toBeGreaterThanOrEqual(4);
    const first = JSON.parse(written[0]!);
    expect(first).toMatchObject({ level: "INFO", message: "Demo feed progress", inserted: 7, http_requests: 1, http_statuses: { 200: 1 } });
    expect(written[1]).toBe("reminder");
    expect(JSON.parse(written[2]!)).toMatchObject({ http_requests: 0 });
  });

  test("leaves the request count out when each request has its own line (--log-requests)", async () => {
    const written: string[] = [];
    const report = startDemoReport({
      log: createLogger("INFO", [], (line) => written.push(line)),
      intervalMs: 10,
      totals: () => ({ inserted: 1 }),
      remind: () => {},
    });
    await Bun.sleep(35);
    report.stop();
    expect(Object.keys(JSON.parse(written[0]!))).not.toContain("http_requests");
  });
});
