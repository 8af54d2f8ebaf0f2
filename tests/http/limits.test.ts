// Limits that keep one slow or greedy request from holding the service: the per-statement timeout
// and the in-flight gate in front of the pool (the depth bound of page numbers is tested with the
// paging). A transaction holding ACCESS EXCLUSIVE on auction_outcomes stands in for a slow query.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createSql, type Sql } from "../../src/db/client";
import { InflightGate, isDatabaseBound, requestTargetLength } from "../../src/http/limits";
import { createTestDatabase, type TestDatabase, testConfig } from "../support/db";
import { insertOutcomes } from "../support/fixtures";
import { testApp } from "../support/http";
import { waitFor } from "../support/wait";

setDefaultTimeout(30_000);

let db: TestDatabase;
let someId: number;
const pools: Sql[] = [];

beforeAll(async () => {
  db = await createTestDatabase("limits");
  someId = (await insertOutcomes(db.setup))[0]!.id;
});

afterAll(async () => {
  await Promise.all(pools.map((sql) => sql.end({ timeout: 1 })));
  await db.drop();
});

/** An app on a pool of its own, so its statement timeout and application name are the test's. */
function appWith(env: Record<string, string>, applicationName: string) {
  const config = testConfig(db.url, env);
  const sql = createSql(config.db, { max: 10, applicationName });
  pools.push(sql);
  return testApp(config, sql);
}

/** Runs `body` while another connection holds ACCESS EXCLUSIVE on auction_outcomes. */
async function whileLocked<T>(body: () => Promise<T>): Promise<T> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const holder = db.sql.begin(async (tx) => {
    await tx`lock table auction_outcomes in access exclusive mode`;
    locked();
    await released;
  });
  await isLocked;
  try {
    return await body();
  } finally {
    release();
    await holder;
  }
}

async function lockWaiters(applicationName: string): Promise<number> {
  const [row] = await db.sql<{ n: string }[]>`
    select count(*) as n from pg_stat_activity where application_name = ${applicationName} and wait_event_type = 'Lock'`;
  return Number(row!.n);
}

const timed = async <T>(run: () => Promise<T>) => {
  const began = performance.now();
  const result = await run();
  return { result, ms: performance.now() - began };
};

describe("statement timeout", () => {
  test("a query that would wait past DB_STATEMENT_TIMEOUT_MS answers 503 with the timeout named, within about that time", async () => {
    const api = appWith({ DB_STATEMENT_TIMEOUT_MS: "300" }, "helios-limits-timeout");
    const answers = await whileLocked(() =>
      Promise.all(["/api/outcomes/", `/api/outcomes/${someId}/`, "/api/outcomes/stats/?user_id=u-alice"].map((path) => timed(() => api.get(path)))),
    );
    for (const { result, ms } of answers) {
      expect(result.status).toBe(503);
      expect(result.headers.get("retry-after")).toBe("1");
      expect(result.body).toEqual({
        detail: "The query ran longer than the 300 ms statement timeout and was cancelled; try again shortly or narrow the filters.",
      });
      expect(ms).toBeGreaterThanOrEqual(290);
      expect(ms).toBeLessThan(3_000);
    }
    // The connections went back to the pool: the same app answers as soon as the lock is gone.
    expect((await api.get("/api/outcomes/")).status).toBe(200);
  });
});

describe("in-flight gate", () => {
  test("answers 503 at once when API_MAX_INFLIGHT requests already wait on the database, and recovers", async () => {
    const api = appWith({ API_MAX_INFLIGHT: "2" }, "helios-limits-gate");
    let waiting: ReturnType<typeof api.get>[] = [];
    await whileLocked(async () => {
      waiting = [api.get("/api/outcomes/"), api.get("/api/outcomes/winners/")];
      await waitFor("two requests waiting on the lock", async () => ((await lockWaiters("helios-limits-gate")) >= 2 ? true : undefined), {
        timeoutMs: 10_000,
        intervalMs: 20,
      });
      const { result, ms } = await timed(() => api.get(`/api/outcomes/${someId}/`));
      expect(result.status).toBe(503);
      expect(result.headers.get("retry-after")).toBe("1");
      expect(result.body).toEqual({
        detail: "The API is busy: its limit of 2 requests waiting on the database (API_MAX_INFLIGHT) is reached; try again shortly.",
      });
      expect(ms).toBeLessThan(200);
      // Probes are not behind the gate: readiness reports the database, not the queue.
      expect((await api.get("/healthz")).status).toBe(200);
      expect((await api.get("/readyz")).status).toBe(200);
    });
    // The lock is gone: the two waiting requests finish normally.
    expect((await Promise.all(waiting)).map((answer) => answer.status)).toEqual([200, 200]);
    // Both places are free again: two at once pass.
    expect((await Promise.all([api.get("/api/outcomes/"), api.get("/api/outcomes/stats/")])).map((answer) => answer.status)).toEqual([200, 200]);
  });

  test("gives the place back after every kind of error: 400, 404, 414 and a 503 timeout", async () => {
    const api = appWith({ API_MAX_INFLIGHT: "1", DB_STATEMENT_TIMEOUT_MS: "200", MAX_URL_LENGTH: "256" }, "helios-limits-release");
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      statuses.push((await api.get("/api/outcomes/?win_status=maybe")).status);
      statuses.push((await api.get("/api/outcomes/999999999/")).status);
      statuses.push((await api.get(`/api/outcomes/?x=${"y".repeat(300)}`)).status);
    }
    await whileLocked(async () => {
      for (let i = 0; i < 3; i++) statuses.push((await api.get("/api/outcomes/")).status);
    });
    expect(statuses.filter((s) => s === 400).length).toBe(10);
    expect(statuses.filter((s) => s === 404).length).toBe(10);
    expect(statuses.filter((s) => s === 414).length).toBe(10);
    expect(statuses.filter((s) => s === 503).length).toBe(3);
    expect((await api.get("/api/outcomes/")).status).toBe(200);
  });

  test("answers 503 at API_REQUEST_TIMEOUT_MS when nothing else would, and keeps the place until the work really ends", async () => {
    // No statement timeout: only the request deadline stands between the client and the lock.
    const api = appWith({ API_REQUEST_TIMEOUT_MS: "300", DB_STATEMENT_TIMEOUT_MS: "0", API_MAX_INFLIGHT: "1" }, "helios-limits-deadline");
    await whileLocked(async () => {
      const { result, ms } = await timed(() => api.get("/api/outcomes/"));
      expect(result.status).toBe(503);
      expect(result.headers.get("retry-after")).toBe("1");
      expect(result.body).toEqual({ detail: "The request took longer than 300 ms and was abandoned; try again shortly." });
      expect(ms).toBeGreaterThanOrEqual(290);
      expect(ms).toBeLessThan(2_000);
      // The abandoned query still waits on the pool: its place is not handed out again.
      expect((await api.get("/api/outcomes/stats/")).body.detail).toBe(
        "The API is busy: its limit of 1 requests waiting on the database (API_MAX_INFLIGHT) is reached; try again shortly.",
      );
    });
    await waitFor("the abandoned request to give its place back", async () => ((await api.get("/api/outcomes/")).status === 200 ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
  });

  test("counts only database-bound paths and never goes above its bound", () => {
    expect(["/api", "/api/", "/api/outcomes/", "/api/dead_letters"].every(isDatabaseBound)).toBe(true);
    expect(["/healthz", "/readyz", "/metrics", "/swagger", "/apix", "/console/"].some(isDatabaseBound)).toBe(false);
    const gate = new InflightGate(2);
    expect([gate.tryEnter(), gate.tryEnter(), gate.tryEnter()]).toEqual([true, true, false]);
    gate.leave();
    expect([gate.tryEnter(), gate.inFlight]).toEqual([true, 2]);
  });

  test("measures the request target, not the host", () => {
    expect(requestTargetLength("http://localhost/api/?a=1")).toBe("/api/?a=1".length);
    expect(requestTargetLength("https://a-very-long-host-name.example.com:8443/")).toBe(1);
  });
});
