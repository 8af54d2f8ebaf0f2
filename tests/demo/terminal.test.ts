// What the demo's terminal shows a person: the banner (where the data goes, what to try, the header
// to add when tokens are required).
import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config";
import { databaseAddress } from "../../src/db/client";
import { banner, embeddedWhere, externalWhere, TOKEN_PLACEHOLDER } from "../../src/demo/banner";

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
});
