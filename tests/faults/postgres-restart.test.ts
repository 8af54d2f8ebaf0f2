// Fault: PostgreSQL stops (fast shutdown: every client disconnected) and starts again while the
// real API process serves a steady load. A throwaway cluster on a port of its own takes the fault,
// never the shared server. Promises checked: requests during the outage get 503 quickly, /readyz
// flips to 503 and back to 200, the same process serves 200s again without a restart, no 500 and
// no request slower than its bound.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { createSql } from "../../src/db/client";
import { type ApiProcess, startApiProcess } from "../support/api-process";
import { insertOutcomes } from "../support/fixtures";
import { freePort } from "../support/ports";
import { spawnRole } from "../support/processes";
import { ROOT } from "../support/project";

setDefaultTimeout(120_000);

const REQUEST_BOUND_MS = 6_000;
const OUTAGE_MS = 3_000;
const WORKERS = 4;

let port: number;
let dir: string;
let databaseUrl: string;
let api: ApiProcess | undefined;

function pgLocal(command: "start" | "halt" | "stop"): { code: number; output: string } {
  const result = Bun.spawnSync(["bash", "scripts/pg-local.sh", command], {
    cwd: ROOT,
    env: { ...process.env, PG_LOCAL_PORT: String(port), PG_LOCAL_DIR: dir },
  });
  return { code: result.exitCode, output: result.stdout.toString() + result.stderr.toString() };
}

beforeAll(async () => {
  port = await freePort();
  dir = join(tmpdir(), `helios-pg-restart-${process.pid}-${port}`);
  const started = pgLocal("start");
  expect(started).toMatchObject({ code: 0 });
  databaseUrl = `postgres://postgres@127.0.0.1:${port}/helios_restart`;
  const migrate = spawnRole("migrate", [], { DATABASE_URL: databaseUrl });
  expect(await migrate.exited).toBe(0);
  const sql = createSql(loadConfig({ DATABASE_URL: databaseUrl }).db, { max: 1 });
  await insertOutcomes(sql);
  await sql.end({ timeout: 5 });
});

afterAll(async () => {
  if (api && api.proc.exitCode === null) await api.stop();
  pgLocal("stop");
});

interface Sample {
  at: number;
  path: string;
  status: number;
  ms: number;
  body: string;
}

describe("PostgreSQL restarted under load", () => {
  test("503 quickly during the outage, /readyz 503 then 200, recovery without a restart, no 500", async () => {
    api = await startApiProcess({ DATABASE_URL: databaseUrl, DB_STATEMENT_TIMEOUT_MS: "1000", LOG_LEVEL: "WARN" });
    const pid = api.proc.pid;
    const origin = performance.now();
    const samples: Sample[] = [];
    const failures: string[] = [];
    let running = true;

    const paths = ["/api/outcomes/", "/api/outcomes/stats/", "/api/outcomes/daily_stats/", "/api/outcomes/?user_id=u-alice", "/readyz"];
    const worker = async (offset: number) => {
      for (let i = offset; running; i++) {
        const path = paths[i % paths.length]!;
        const began = performance.now();
        try {
          const response = await fetch(api!.base + path, { signal: AbortSignal.timeout(REQUEST_BOUND_MS * 2) });
          const body = await response.text();
          samples.push({ at: began - origin, path, status: response.status, ms: performance.now() - began, body });
        } catch (error) {
          failures.push(`${path}: ${(error as Error).message}`);
        }
        await Bun.sleep(5);
      }
    };
    const workers = Array.from({ length: WORKERS }, (_, i) => worker(i));

    const readyz = async () => (await fetch(`${api!.base}/readyz`, { signal: AbortSignal.timeout(REQUEST_BOUND_MS) })).status;
    const waitForReadyz = async (status: number, timeoutMs: number) => {
      const deadline = performance.now() + timeoutMs;
      while (performance.now() < deadline) {
        if ((await readyz()) === status) return performance.now() - origin;
        await Bun.sleep(50);
      }
      throw new Error(`/readyz did not answer ${status} within ${timeoutMs} ms`);
    };

    await Bun.sleep(1_500);
    expect(await readyz()).toBe(200);
    const haltedAt = performance.now() - origin;
    expect(pgLocal("halt").code).toBe(0);
    const haltReturnedAt = performance.now() - origin;
    const notReadyAt = await waitForReadyz(503, 5_000);
    await Bun.sleep(OUTAGE_MS);
    const restartAt = performance.now() - origin;
    expect(pgLocal("start").code).toBe(0);
    const readyAgainAt = await waitForReadyz(200, 30_000);
    await Bun.sleep(2_000);
    running = false;
    await Promise.all(workers);

    const outage = samples.filter((s) => s.at > haltReturnedAt && s.at + s.ms < restartAt);
    const after = samples.filter((s) => s.at > readyAgainAt + 500);
    const statuses = (list: Sample[]) => {
      const counts: Record<number, number> = {};
      for (const s of list) counts[s.status] = (counts[s.status] ?? 0) + 1;
      return counts;
    };
    const slowest = Math.max(...samples.map((s) => s.ms));
    const slowestOutage = Math.max(...outage.map((s) => s.ms));
    console.log(
      `postgres-restart: ${samples.length} requests; all ${JSON.stringify(statuses(samples))}; outage ${JSON.stringify(statuses(outage))}; ` +
        `after ${JSON.stringify(statuses(after))}; slowest ${Math.round(slowest)} ms (outage ${Math.round(slowestOutage)} ms); ` +
        `halt at ${Math.round(haltedAt)} ms, /readyz 503 at ${Math.round(notReadyAt)} ms, restart at ${Math.round(restartAt)} ms, /readyz 200 at ${Math.round(readyAgainAt)} ms`,
    );

    expect(failures).toEqual([]);
    expect(samples.filter((s) => s.status !== 200 && s.status !== 503).map((s) => `${s.status} ${s.path} ${s.body}`)).toEqual([]);
    expect(slowest).toBeLessThan(REQUEST_BOUND_MS);
    // During the outage: every answer a 503, with the one error body (probes: their own body).
    expect(outage.length).toBeGreaterThan(20);
    expect(outage.every((s) => s.status === 503)).toBe(true);
    for (const sample of outage.filter((s) => s.path !== "/readyz")) {
      expect(JSON.parse(sample.body)).toEqual({ detail: "The database is unavailable or too slow right now; try again shortly." });
    }
    expect(JSON.parse(outage.find((s) => s.path === "/readyz")!.body)).toMatchObject({ status: "unavailable" });
    // Recovered: the same process answers 200 to everything.
    expect(after.length).toBeGreaterThan(20);
    expect(after.every((s) => s.status === 200)).toBe(true);
    expect(api.proc.pid).toBe(pid);
    expect(api.proc.exitCode).toBeNull();
    expect(api.lines.filter((line) => line.level === "ERROR")).toEqual([]);
    expect(api.lines.filter((line) => line.message === "Database unavailable").length).toBeGreaterThan(0);
    expect(await api.stop()).toBe(0);
  });
});
