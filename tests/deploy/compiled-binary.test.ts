// The image's program, proven in every CI run: builds the single executable exactly as the
// Containerfile does (scripts/build-binary.sh) into a temporary folder, then runs it from there —
// away from the repository, so migrations must come from inside the binary — in each role of
// src/main.ts against the test database and broker.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { BROKERS, closeKafka, createTopic, produce, uniqueName } from "../support/kafka";
import { ROOT } from "../support/project";
import { waitFor } from "../support/wait";
import { mainRoles } from "./deploy-files";

const roles = mainRoles();

let workdir: string;
let binary: string;
let db: TestDatabase;

beforeAll(async () => {
  workdir = mkdtempSync(join(tmpdir(), "helios-binary-"));
  binary = join(workdir, "helios-analytics");
  const build = Bun.spawnSync(["bash", join(ROOT, "scripts/build-binary.sh"), binary], { cwd: ROOT, stdout: "pipe", stderr: "pipe", timeout: 120_000 });
  if (build.exitCode !== 0) throw new Error(`scripts/build-binary.sh failed:\n${build.stdout}\n${build.stderr}`);
  db = await createTestDatabase("binary", { migrate: false });
}, 150_000);

afterAll(async () => {
  await closeKafka();
  await db?.drop();
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

/** Only what a container would get: the variables we pass, and PATH. */
function environment(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", DATABASE_URL: db.url, LOG_LEVEL: "INFO", ...extra };
}

function run(args: string[], env: Record<string, string>) {
  return Bun.spawn([binary, ...args], { cwd: workdir, env, stdout: "pipe", stderr: "pipe" });
}

function logLines(text: string): Record<string, any>[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line));
}

async function freePort(): Promise<number> {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  await probe.stop(true);
  return port;
}

async function exitWithin(process: ReturnType<typeof run>, ms: number): Promise<number | "still running"> {
  return Promise.race([process.exited, Bun.sleep(ms).then(() => "still running" as const)]);
}

describe("the compiled executable", () => {
  test("is one file that starts without the repository beside it", () => {
    expect(readdirSync(workdir)).toEqual(["helios-analytics"]);
    const unknown = Bun.spawnSync([binary, "no-such-role"], { cwd: workdir, env: environment(), stderr: "pipe" });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr.toString()).toContain(`expected one of ${[...roles].join(", ")}`);
  });

  test("migrate applies every file of migrations/ from inside the binary, then reports none pending", async () => {
    const expected = readdirSync(join(ROOT, "migrations"))
      .filter((name) => name.endsWith(".sql"))
      .sort();
    const migrate = run(["migrate"], environment());
    expect(await exitWithin(migrate, 30_000)).toBe(0);
    const done = logLines(await new Response(migrate.stdout).text()).find((line) => line.message === "Migrations complete");
    expect(done?.migrations).toEqual(expected);
    const rows = await db.sql<{ name: string }[]>`select name from schema_migrations order by name`;
    expect(rows.map((row) => row.name)).toEqual(expected);

    const status = run(["migrate", "--status"], environment());
    expect(await exitWithin(status, 30_000)).toBe(0);
    const lines = (await new Response(status.stdout).text()).trim().split("\n");
    expect(lines.map((line) => line.split(/\s+/).slice(0, 2).join(" "))).toEqual(expected.map((name) => `applied ${name}`));
  });

  test("api serves /readyz, /api/outcomes/ and /metrics, then stops promptly on SIGTERM", async () => {
    const port = await freePort();
    const api = run(["api"], environment({ PORT: String(port) }));
    try {
      const base = `http://127.0.0.1:${port}`;
      const ready = await waitFor(
        "the compiled API to answer /readyz with 200",
        async () => {
          const response = await fetch(`${base}/readyz`).catch(() => undefined);
          return response?.status === 200 ? response.json() : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 100 },
      );
      expect(ready).toEqual({ status: "ready" });

      const list = await fetch(`${base}/api/outcomes/`);
      expect(list.status).toBe(200);
      expect(await list.json()).toMatchObject({ count: 0, next: null, previous: null, results: [] });

      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain('http_requests_total{method="GET",route="/api/outcomes/",status="200"} 1');
      expect(metrics).toContain("process_resident_memory_bytes");
    } finally {
      api.kill("SIGTERM");
    }
    expect(await exitWithin(api, 5_000)).toBe(0);
    const messages = logLines(await new Response(api.stdout).text()).map((line) => line.message);
    expect(messages).toContain("Shutting down");
  });

  test("consumer stores what the topic holds, serves its probes and metrics on CONSUMER_HEALTH_PORT, then stops promptly on SIGTERM", async () => {
    const topic = await createTopic("binary");
    const group = uniqueName("binary-group");
    const ids = [uniqueName("bid-a"), uniqueName("bid-b")];
    await produce(
      topic,
      ids.map((id) => ({
        key: id,
        value: JSON.stringify({
          bid_request_id: id,
          user_id: "user-binary",
          bid_price: 0.75,
          win_status: true,
          win_price: 0.75,
          currency: "USD",
          timestamp: "2025-10-25T12:00:00.123456+00:00",
        }),
      })),
    );
    const healthPort = await freePort();
    const consumer = run(
      ["consumer"],
      environment({
        KAFKA_BROKERS: BROKERS.join(","),
        KAFKA_TOPIC_AUCTION_OUTCOMES: topic,
        KAFKA_CONSUMER_GROUP: group,
        CONSUMER_HEALTH_PORT: String(healthPort),
      }),
    );
    try {
      const stored = await waitFor(
        "the compiled consumer to store both outcomes",
        async () => {
          const rows = await db.sql<{ bid_id: string }[]>`select bid_id from auction_outcomes where bid_id in ${db.sql(ids)} order by bid_id`;
          return rows.length === ids.length ? rows.map((row) => row.bid_id) : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      expect(stored).toEqual([...ids].sort());

      // The probes of k8s/consumer-deployment.yaml and the Prometheus scrape, from the binary itself.
      const health = `http://127.0.0.1:${healthPort}`;
      expect(await (await fetch(`${health}/healthz`)).json()).toEqual({ status: "ok" });
      const ready = await waitFor(
        "the compiled consumer to answer /readyz with 200",
        async () => {
          const response = await fetch(`${health}/readyz`);
          return response.status === 200 ? response.json() : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 200 },
      );
      expect(ready).toEqual({ status: "ready" });
      // Rows are committed a moment before the batch is counted: wait for the counter.
      const storedLine = `consumer_messages_stored_total{topic="${topic}",partition="0"} 2`;
      const metrics = await waitFor(
        "the stored counter at 2",
        async () => {
          const text = await (await fetch(`${health}/metrics`)).text();
          return text.includes(storedLine) ? text : undefined;
        },
        { timeoutMs: 5_000, intervalMs: 100 },
      );
      expect(metrics).toContain("consumer_batch_duration_seconds_count");
      expect(metrics).toContain("process_resident_memory_bytes");
    } finally {
      consumer.kill("SIGTERM");
    }
    // The consumer leaves the group before exiting: well inside the Deployment's grace period.
    expect(await exitWithin(consumer, 15_000)).toBe(0);
  }, 60_000);
});
