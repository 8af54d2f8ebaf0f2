// Methods: a route that exists but not for the method asked answers 405 with an Allow header and
// the JSON error body naming what was sent and what is accepted; a path no route has stays 404.
// Every route of the app is tried, read from the app's own route table.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { allowedMethods, routePattern } from "../../src/http/methods";
import { createLogger } from "../../src/log";
import { createTestDatabase, type TestDatabase, testConfig } from "../support/db";
import { BASE, testApp } from "../support/http";

setDefaultTimeout(30_000);

const OTHER_METHODS = ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase("methods");
});

afterAll(async () => {
  await db.drop();
});

/** A request path for a route template: a parameter becomes 1, a wildcard some page. */
const samplePath = (template: string) => template.replace(/:\w+/g, "1").replace(/\*$/, "outcomes");

async function send(app: ReturnType<typeof testApp>["app"], method: string, path: string, headers: Record<string, string> = {}) {
  const response = await app.handle(new Request(BASE + path, { method, headers }));
  const text = await response.text();
  return { status: response.status, allow: response.headers.get("allow"), type: response.headers.get("content-type"), text };
}

describe("a method a route does not serve", () => {
  test("answers 405 on every route of the app with Allow: GET, HEAD and a body naming the method", async () => {
    const { app } = testApp(db.config, db.sql);
    const paths = [...new Set(app.routes.map((route) => samplePath(route.path)))];
    expect(paths).toContain("/api/outcomes/");
    expect(paths).toContain("/api/outcomes/1/");
    expect(paths).toContain("/console/outcomes");
    for (const path of paths) {
      for (const method of OTHER_METHODS) {
        const answer = await send(app, method, path);
        expect({ method, path, ...answer }).toEqual({
          method,
          path,
          status: 405,
          allow: "GET, HEAD",
          type: "application/json",
          text: JSON.stringify({ detail: `Method "${method}" not allowed: this path accepts GET, HEAD.` }),
        });
      }
    }
  });

  test("answers 405 in both slash forms and with a query string", async () => {
    const { app } = testApp(db.config, db.sql);
    for (const path of ["/api/outcomes", "/api/outcomes/stats", "/api/dead_letters/?page=2", "/api/outcomes/7?x=1"]) {
      const { status, allow } = await send(app, "DELETE", path);
      expect({ path, status, allow }).toEqual({ path, status: 405, allow: "GET, HEAD" });
    }
  });

  test("is counted and logged as a 405", async () => {
    const lines: string[] = [];
    const { app } = testApp(
      db.config,
      db.sql,
      createLogger("INFO", [], (line) => lines.push(line)),
    );
    await send(app, "POST", "/api/outcomes/");
    const metrics = await send(app, "GET", "/metrics");
    expect(metrics.text).toContain('http_requests_total{method="POST",route="unmatched",status="405"} 1');
    await Bun.sleep(20); // onAfterResponse runs after the response is handed back
    const logged = lines.map((line) => JSON.parse(line)).filter((line) => line.message === "HTTP request" && line.method === "POST");
    expect(logged.map(({ path, status }) => ({ path, status }))).toEqual([{ path: "/api/outcomes/", status: 405 }]);
  });

  test("a path no route has stays 404 for every method", async () => {
    const { app } = testApp(db.config, db.sql);
    for (const method of ["GET", ...OTHER_METHODS]) {
      const answer = await send(app, method, "/api/nothing-here/");
      expect({ method, status: answer.status, allow: answer.allow, text: answer.text }).toEqual({
        method,
        status: 404,
        allow: null,
        text: JSON.stringify({ detail: "Not found." }),
      });
    }
  });

  test("HEAD is still answered like GET, and a CORS preflight still 200", async () => {
    const { app } = testApp(testConfig(db.url, { CORS_ALLOWED_ORIGINS: "http://localhost:3000" }), db.sql);
    expect((await send(app, "HEAD", "/api/outcomes/")).status).toBe(200);
    const preflight = await send(app, "OPTIONS", "/api/outcomes/", { origin: "http://localhost:3000", "access-control-request-method": "GET" });
    expect(preflight.status).toBe(200);
  });

  test("with API_TOKENS the token is asked for first: no route is revealed to a stranger", async () => {
    const { app } = testApp(testConfig(db.url, { API_TOKENS: "methods-token-0123456789" }), db.sql);
    expect((await send(app, "POST", "/api/outcomes/")).status).toBe(401);
    const allowed = await send(app, "POST", "/api/outcomes/", { authorization: "Bearer methods-token-0123456789" });
    expect({ status: allowed.status, allow: allowed.allow }).toEqual({ status: 405, allow: "GET, HEAD" });
  });
});

describe("allowedMethods", () => {
  const methodsOn = allowedMethods([
    { method: "GET", path: "/api/outcomes/" },
    { method: "GET", path: "/api/outcomes/:id/" },
    { method: "POST", path: "/api/outcomes/:id/" },
    { method: "GET", path: "/console/*" },
    { method: "WS", path: "/live" },
  ]);

  test("derives each path's methods from the routes that match it, GET and HEAD first", () => {
    expect(methodsOn("/api/outcomes/")).toEqual(["GET", "HEAD"]);
    expect(methodsOn("/api/outcomes")).toEqual(["GET", "HEAD"]);
    expect(methodsOn("/api/outcomes/42/")).toEqual(["GET", "HEAD", "POST"]);
    expect(methodsOn("/api/outcomes/42")).toEqual(["GET", "HEAD", "POST"]);
    expect(methodsOn("/console/a/b")).toEqual(["GET", "HEAD"]);
  });

  test("gives nothing for a path no route matches, and ignores WebSocket routes", () => {
    expect(methodsOn("/api/outcomes/42/extra/")).toEqual([]);
    expect(methodsOn("/api/other/")).toEqual([]);
    expect(methodsOn("/live")).toEqual([]);
  });

  test("reads a route's dots and other characters literally", () => {
    expect(routePattern("/a.b/").test("/a.b/")).toBe(true);
    expect(routePattern("/a.b/").test("/axb/")).toBe(false);
    expect(routePattern("/").test("/")).toBe(true);
  });
});
