// GET /metrics: the API's counters move by exactly the traffic driven through the app,
// labelled by route template, and the pool gauges follow the queries really in flight.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { countQueries, QueryCounter } from "../../src/metrics/db-pool";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { testApp } from "../support/http";

let db: TestDatabase;
let api: ReturnType<typeof testApp>;

beforeAll(async () => {
  db = await createTestDatabase("metrics");
  api = testApp(db.config, db.sql);
});

afterAll(async () => {
  await db.drop();
});

/** The value of one sample line, `name{labels} value`, or undefined when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = match[2] ? match[2].split(/,(?=[a-zA-Z_]+=")/) : [];
    if (present.length === wanted.length && wanted.every((pair) => present.includes(pair))) return Number(match[3]);
  }
  return undefined;
}

async function scrape(): Promise<string> {
  const response = await api.get("/metrics");
  expect(response.status).toBe(200);
  return response.text;
}

describe("GET /metrics", () => {
  test("answers in the Prometheus text format with the process metrics", async () => {
    const response = await api.get("/metrics");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(response.text).toContain("# TYPE process_resident_memory_bytes gauge");
    expect(response.text).toContain("# TYPE http_request_duration_seconds histogram");
    expect(sample(response.text, "process_resident_memory_bytes")).toBeGreaterThan(0);
  });

  test("counts N list requests under the route template and status, exactly N", async () => {
    const labels = { method: "GET", route: "/api/outcomes/", status: "200" };
    const before = sample(await scrape(), "http_requests_total", labels) ?? 0;
    const n = 7;
    for (let i = 0; i < n; i++) expect((await api.get("/api/outcomes/")).status).toBe(200);
    const after = await scrape();
    expect(sample(after, "http_requests_total", labels)).toBe(before + n);
    expect(sample(after, "http_request_duration_seconds_count", labels)).toBe(before + n);
    expect(sample(after, "http_request_duration_seconds_bucket", { ...labels, le: "+Inf" })).toBe(before + n);
  });

  test("labels a detail request by its template, never by the id in the path", async () => {
    const labels = { method: "GET", route: "/api/outcomes/:id/", status: "404" };
    for (const id of [101, 102, 103]) expect((await api.get(`/api/outcomes/${id}/`)).status).toBe(404);
    const text = await scrape();
    expect(sample(text, "http_requests_total", labels)).toBe(3);
    expect(text).not.toContain('route="/api/outcomes/101/"');
  });

  test("counts paths that match no route under route=unmatched with their real status", async () => {
    for (const path of ["/nope", "/nope/again", "/wp-login.php"]) expect((await api.get(path)).status).toBe(404);
    const text = await scrape();
    expect(sample(text, "http_requests_total", { method: "GET", route: "unmatched", status: "404" })).toBe(3);
    expect(text).not.toContain('route="/nope"');
  });

  test("shows the scrape itself as the one request in flight", async () => {
    expect(sample(await scrape(), "http_requests_in_flight")).toBe(1);
  });

  test("reports the pool idle after the requests finished", async () => {
    const text = await scrape();
    expect(sample(text, "db_pool_connections_max")).toBe(db.sql.options.max);
    expect(sample(text, "db_pool_connections_in_use")).toBe(0);
    expect(sample(text, "db_pool_connections_idle")).toBe(db.sql.options.max);
    expect(sample(text, "db_queries_in_flight")).toBe(0);
  });
});

describe("pool gauges", () => {
  test("count executed queries while they run and not the fragments they are built from", async () => {
    const counter = new QueryCounter(db.sql.options.max);
    const sql = countQueries(db.sql, counter);
    const fragment = sql`and true`;
    expect(counter.inFlight).toBe(0);
    const slow = [sql`select pg_sleep(0.3) where true ${fragment}`, sql`select pg_sleep(0.3)`];
    const running = Promise.all(slow);
    await Bun.sleep(100);
    expect(counter.inFlight).toBe(2);
    expect(counter.inUse).toBe(2);
    expect(counter.idle).toBe(db.sql.options.max - 2);
    await running;
    expect(counter.inFlight).toBe(0);
  });

  test("settle the count when a query fails", async () => {
    const counter = new QueryCounter(db.sql.options.max);
    const sql = countQueries(db.sql, counter);
    await expect(sql`select * from no_such_table`).rejects.toThrow("no_such_table");
    expect(counter.inFlight).toBe(0);
  });

  test("never report more connections in use than the pool has", async () => {
    const counter = new QueryCounter(2);
    counter.inFlight = 5;
    expect(counter.inUse).toBe(2);
    expect(counter.idle).toBe(0);
  });
});
