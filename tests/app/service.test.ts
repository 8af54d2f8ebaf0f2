// Behaviour of a web service: probes, ALLOWED_HOSTS, no leaks without DEBUG, request log lines,
// and graceful shutdown of the real process.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { createSql } from "../../src/db/client";
import { createLogger } from "../../src/log";
import { createTestDatabase, type TestDatabase, testConfig } from "../support/db";
import { testApp } from "../support/http";
import { ROOT } from "../support/project";

// The shutdown test starts a whole Bun; a loaded 2-core machine needs more than the 5 s default.
setDefaultTimeout(30_000);

let migrated: TestDatabase;
let unmigrated: TestDatabase;

beforeAll(async () => {
  [migrated, unmigrated] = await Promise.all([createTestDatabase("service"), createTestDatabase("service_unmigrated", { migrate: false })]);
});

afterAll(async () => {
  await Promise.all([migrated.drop(), unmigrated.drop()]);
});

describe("probes", () => {
  test("/healthz answers 200 with and without a slash", async () => {
    const api = testApp(migrated.config, migrated.sql);
    for (const path of ["/healthz", "/healthz/"]) {
      const { status, body } = await api.get(path);
      expect(status).toBe(200);
      expect(body).toEqual({ status: "ok" });
    }
  });

  test("/readyz answers 200 when the database is migrated", async () => {
    const { status, body } = await testApp(migrated.config, migrated.sql).get("/readyz");
    expect(status).toBe(200);
    expect(body).toEqual({ status: "ready" });
  });

  test("/readyz answers 503 naming the pending migrations", async () => {
    const { readdir } = await import("node:fs/promises");
    const files = (await readdir(join(ROOT, "migrations"))).filter((name) => name.endsWith(".sql")).sort();
    const { status, body } = await testApp(unmigrated.config, unmigrated.sql).get("/readyz");
    expect(status).toBe(503);
    expect(body).toEqual({ status: "unavailable", reason: `pending migrations: ${files.join(", ")}` });
  });

  test("/healthz stays 200 while the database is not ready", async () => {
    expect((await testApp(unmigrated.config, unmigrated.sql).get("/healthz")).status).toBe(200);
  });

  test("the legacy probe /api/outcomes/ answers 200 on a migrated, empty database", async () => {
    expect((await testApp(migrated.config, migrated.sql).get("/api/outcomes/")).status).toBe(200);
  });

  describe("with the database unreachable", () => {
    const config = testConfig("postgres://postgres@127.0.0.1:1/nowhere");
    const sql = createSql(config.db, { max: 1 });
    afterAll(() => sql.end({ timeout: 1 }));

    test("/readyz answers 503 saying the database is unavailable", async () => {
      const { status, body } = await testApp(config, sql).get("/readyz");
      expect(status).toBe(503);
      expect(body.status).toBe("unavailable");
      expect(body.reason).toStartWith("database unavailable: ");
    });

    test("an API route answers 503 with Retry-After, not 500", async () => {
      const { status, headers, body } = await testApp(config, sql).get("/api/outcomes/stats/");
      expect(status).toBe(503);
      expect(headers.get("retry-after")).toBe("1");
      expect(body).toEqual({ detail: "The database is unavailable or too slow right now; try again shortly." });
    });
  });
});

describe("ALLOWED_HOSTS", () => {
  const REFUSED = { detail: "Bad Request: the Host header is not in ALLOWED_HOSTS." };
  const appFor = (hosts: string) => testApp(testConfig(migrated.url, { ALLOWED_HOSTS: hosts }), migrated.sql);

  test("refuses a Host that is not listed with a 400 JSON body", async () => {
    const { status, headers, body } = await appFor("api.example.com").get("/api/outcomes/", { host: "evil.example.net" });
    expect(status).toBe(400);
    expect(headers.get("content-type")).toStartWith("application/json");
    expect(body).toEqual(REFUSED);
  });

  test("accepts a listed Host, in any case and with a port", async () => {
    const api = appFor("api.example.com,localhost");
    for (const host of ["api.example.com", "API.Example.COM", "api.example.com:8000", "localhost:8000"]) {
      const { status } = await api.get("/healthz", { host });
      expect({ host, status }).toEqual({ host, status: 200 });
    }
  });

  test("a leading dot allows the domain and every subdomain, but not look-alikes", async () => {
    const api = appFor(".example.com");
    for (const [host, status] of [
      ["example.com", 200],
      ["a.example.com", 200],
      ["a.b.example.com:443", 200],
      ["badexample.com", 400],
      ["example.com.evil.net", 400],
      ["example.org", 400],
    ] as const) {
      expect({ host, status: (await api.get("/healthz", { host })).status }).toEqual({ host, status });
    }
  });

  test("* allows any Host", async () => {
    const api = appFor("*");
    for (const host of ["anything.invalid", "10.0.0.7:8000", "[::1]:8000"]) {
      expect((await api.get("/healthz", { host })).status).toBe(200);
    }
  });

  test("guards the probes and the docs too", async () => {
    const api = appFor("api.example.com");
    for (const path of ["/healthz", "/readyz", "/swagger/json", "/api/"]) {
      const { status, body } = await api.get(path, { host: "evil.example.net" });
      expect({ path, status, body }).toEqual({ path, status: 400, body: REFUSED });
    }
  });
});

describe("internal errors", () => {
  const silent = createLogger("ERROR", [], () => {});

  test("with DEBUG=false give only {detail: Internal server error.}: no stack, no SQL", async () => {
    const config = testConfig(unmigrated.url, { DEBUG: "false" });
    const { status, body, text } = await testApp(config, unmigrated.sql, silent).get("/api/outcomes/?user_id=u-1");
    expect(status).toBe(500);
    expect(body).toEqual({ detail: "Internal server error." });
    expect(text).not.toContain("auction_outcomes");
    expect(text).not.toContain(".ts:");
  });

  test("with DEBUG=true add the message and stack for the developer", async () => {
    const config = testConfig(unmigrated.url, { DEBUG: "true" });
    const { status, body } = await testApp(config, unmigrated.sql, silent).get("/api/outcomes/stats/");
    expect(status).toBe(500);
    expect(body.detail).toBe("Internal server error.");
    expect(body.debug.message).toMatch(/^relation "\w+" does not exist$/);
    expect(typeof body.debug.stack).toBe("string");
  });

  test("are logged at ERROR with the stack", async () => {
    const lines: string[] = [];
    const config = testConfig(unmigrated.url);
    await testApp(
      config,
      unmigrated.sql,
      createLogger("INFO", [], (line) => lines.push(line)),
    ).get("/api/outcomes/");
    const error = lines.map((line) => JSON.parse(line)).find((line) => line.message === "Unhandled error");
    expect(error).toMatchObject({ level: "ERROR", path: "/api/outcomes/", error: { name: "PostgresError" } });
    expect(error.error.message).toMatch(/^relation "\w+" does not exist$/);
    expect(typeof error.stack).toBe("string");
  });
});

describe("request log", () => {
  async function logsOf(paths: [string, Record<string, string>?][], hosts = "*"): Promise<Record<string, unknown>[]> {
    const lines: string[] = [];
    const api = testApp(
      testConfig(migrated.url, { ALLOWED_HOSTS: hosts }),
      migrated.sql,
      createLogger("INFO", [], (line) => lines.push(line)),
    );
    for (const [path, headers] of paths) await api.get(path, headers);
    await Bun.sleep(20); // onAfterResponse runs after the response is handed back
    return lines.map((line) => JSON.parse(line)).filter((line) => line.message === "HTTP request");
  }

  const shape = (line: Record<string, unknown>) => ({
    level: line.level,
    method: line.method,
    path: line.path,
    status: line.status,
    duration_ms: typeof line.duration_ms,
  });

  test("writes one JSON line per request with method, path, status and duration_ms", async () => {
    const lines = await logsOf([["/api/outcomes/?page_size=5"], ["/api/outcomes/?win_status=maybe"]]);
    expect(lines.map(shape)).toEqual([
      { level: "INFO", method: "GET", path: "/api/outcomes/", status: 200, duration_ms: "number" },
      { level: "INFO", method: "GET", path: "/api/outcomes/", status: 400, duration_ms: "number" },
    ]);
    for (const line of lines) {
      expect(line.duration_ms as number).toBeGreaterThanOrEqual(0);
      expect(typeof line.timestamp).toBe("string");
    }
  });

  test("logs the path without the query string, which may carry user ids", async () => {
    const lines = await logsOf([["/api/outcomes/stats/?user_id=u-secret"]]);
    expect(JSON.stringify(lines)).not.toContain("u-secret");
  });

  test("logs the real status of 404s and of refused hosts", async () => {
    const allowed = { host: "api.example.com" };
    const lines = await logsOf(
      [
        ["/api/outcomes/999999/", allowed],
        ["/no/such/path", allowed],
        ["/healthz", { host: "evil.example.net" }],
      ],
      "api.example.com",
    );
    // A refused host is logged at once; the others after their response: compare in path order.
    expect(lines.map(shape).sort((a, b) => String(a.path).localeCompare(String(b.path)))).toEqual([
      { level: "INFO", method: "GET", path: "/api/outcomes/999999/", status: 404, duration_ms: "number" },
      { level: "INFO", method: "GET", path: "/healthz", status: 400, duration_ms: "number" },
      { level: "INFO", method: "GET", path: "/no/such/path", status: 404, duration_ms: "number" },
    ]);
  });

  test("writes nothing at WARN", async () => {
    const lines: string[] = [];
    await testApp(
      migrated.config,
      migrated.sql,
      createLogger("WARN", [], (line) => lines.push(line)),
    ).get("/api/outcomes/");
    await Bun.sleep(20);
    expect(lines).toEqual([]);
  });
});

describe("the api process", () => {
  function freePort(): number {
    const probe = Bun.serve({ port: 0, fetch: () => new Response() });
    const port = probe.port!;
    probe.stop(true);
    return port;
  }

  async function waitUntilUp(base: string, child: { exitCode: number | null }): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`api exited early with ${child.exitCode}`);
      try {
        if ((await fetch(`${base}/healthz`)).status === 200) return;
      } catch {
        // not listening yet
      }
      await Bun.sleep(100);
    }
    throw new Error("api did not come up");
  }

  test("on SIGTERM finishes the request in flight, then exits 0 within 10 s", async () => {
    const port = freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = Bun.spawn(["bun", "run", "src/main.ts", "api"], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: migrated.url, PORT: String(port), LOG_LEVEL: "INFO" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const stdout = new Response(child.stdout).text();
    try {
      await waitUntilUp(base, child);
      expect((await fetch(`${base}/api/outcomes/`)).status).toBe(200);

      // Hold a lock so the next request is still running when SIGTERM arrives.
      const blocker = await migrated.sql.reserve();
      await blocker`begin`;
      await blocker`lock table auction_outcomes in access exclusive mode`;
      const inFlight = fetch(`${base}/api/outcomes/stats/`);
      await Bun.sleep(300);
      const signalled = performance.now();
      child.kill("SIGTERM");
      await Bun.sleep(300);
      await blocker`commit`;
      blocker.release();

      const response = await inFlight;
      expect(response.status).toBe(200);
      expect((await response.json()).total_outcomes).toBe(0);
      const code = await Promise.race([child.exited, Bun.sleep(10_000).then(() => "timeout")]);
      expect(code).toBe(0);
      expect(performance.now() - signalled).toBeLessThan(10_000);
      const messages = (await stdout)
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line).message);
      expect(messages).toContain("Shutting down");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
