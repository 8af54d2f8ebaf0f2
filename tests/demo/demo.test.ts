// `bun run start demo` as a newcomer runs it: no DATABASE_URL, no DB_HOST, no broker. A real
// process, real HTTP, real signals; the only knowledge of the inside is its JSON log lines.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_SEED } from "../../src/demo/demo-args";
import { demoGenerator } from "../../src/demo/demo-feed";
import { freePort } from "../support/ports";
import { type ServiceProcess, spawnService } from "../support/processes";
import { waitFor } from "../support/wait";

/** A cold start initialises PostgreSQL in WebAssembly: seconds alone, far more on a busy machine. */
const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 10_000;

const running: ServiceProcess[] = [];
const directories: string[] = [];

afterAll(async () => {
  for (const service of running) service.proc.kill("SIGKILL");
  for (const dir of directories) await rm(dir, { recursive: true, force: true });
});

async function startDemo(args: string[] = []): Promise<{ demo: ServiceProcess; base: string }> {
  const port = await freePort();
  const broker = `127.0.0.1:${await freePort()}`;
  const demo = spawnService(["bun", "run", "src/main.ts", "demo", "--port", String(port), "--rate", "500", ...args], {
    unset: ["DATABASE_URL", "DB_HOST", "PORT", "API_TOKENS"],
    env: { KAFKA_BROKERS: broker, LOG_LEVEL: "INFO" },
  });
  running.push(demo);
  await demo.waitForLine("Demo ready", (line) => line.message === "Demo ready", READY_TIMEOUT_MS);
  return { demo, base: `http://127.0.0.1:${port}` };
}

async function getJson(url: string): Promise<any> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return response.json();
}

const outcomeCount = async (base: string, query = "") => (await getJson(`${base}/api/outcomes/?page_size=1${query}`)).count as number;

async function stop(demo: ServiceProcess): Promise<number> {
  demo.proc.kill("SIGTERM");
  return demo.exitedWithin(STOP_TIMEOUT_MS);
}

describe("demo mode", () => {
  test(
    "with no database or broker configured it serves growing outcomes, consistent stats, dead letters and duplicates, and stops on SIGTERM",
    async () => {
      const { demo, base } = await startDemo();

      const totalOutcomes = async () => (await getJson(`${base}/api/outcomes/stats/`)).total_outcomes as number;
      const first = await totalOutcomes();
      const second = await waitFor(
        "more outcomes than the first read",
        async () => {
          const total = await totalOutcomes();
          return total > first ? total : undefined;
        },
        { timeoutMs: 10_000 },
      );
      expect(second).toBeGreaterThan(first);

      // The first progress line comes 5 s into the stream, with 2 % of its messages redelivered.
      const progress = await demo.waitForLine(
        "progress with duplicates",
        (line) => line.message === "Demo feed progress" && Number(line.duplicates) > 0,
        15_000,
      );
      expect(Number(progress.inserted)).toBeGreaterThan(0);

      // Rows keep arriving; up to an instant a few seconds back both answers describe the same rows.
      const until = new Date(Date.now() - 3_000).toISOString();
      const stats = await getJson(`${base}/api/outcomes/stats/?to=${until}`);
      expect(stats.total_outcomes).toBeGreaterThan(0);
      expect(stats.total_outcomes).toBe(await outcomeCount(base, `&to=${until}`));

      const deadLetters = await getJson(`${base}/api/dead_letters/?page_size=5`);
      expect(deadLetters.count).toBeGreaterThan(0);
      expect(deadLetters.results[0].topic).toBe("demo");
      expect(deadLetters.results[0].reason.length).toBeGreaterThan(0);

      const ready = demo.lines.find((line) => line.message === "Demo ready")!;
      console.log(`demo start-up to first answer: ${ready.startup_ms} ms`);

      expect(await stop(demo)).toBe(0);
      expect(demo.lines.some((line) => line.message === "Shutting down" && line.signal === "SIGTERM")).toBe(true);
      expect(demo.lines.filter((line) => line.level === "ERROR")).toEqual([]);
    },
    READY_TIMEOUT_MS + 60_000,
  );

  test(
    "with --data-dir a restart keeps the rows and resumes the stream where it stopped",
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), "helios-demo-test-"));
      directories.push(dataDir);
      const firstRun = await startDemo(["--data-dir", dataDir]);
      const before = await waitFor(
        "stored outcomes",
        async () => {
          const count = await outcomeCount(firstRun.base);
          return count > 0 ? count : undefined;
        },
        { timeoutMs: 10_000 },
      );
      expect(await stop(firstRun.demo)).toBe(0);
      // The feed's last line, written once it stopped: how many messages it committed.
      const last = firstRun.demo.lines.filter((line) => line.message === "Demo feed progress").at(-1)!;
      const sent = Number(last.next_index);

      const secondRun = await startDemo(["--data-dir", dataDir]);
      expect(await outcomeCount(secondRun.base)).toBeGreaterThanOrEqual(before);
      // Every message before `sent` was committed: the stream resumes after the last one that
      // left a trace (a new outcome or a dead letter); only trailing redeliveries are sent again.
      const generator = demoGenerator(DEFAULT_SEED);
      const isRedelivery = (index: number) => {
        const message = generator.messageAt(index);
        return message.kind === "outcome" && message.duplicateOf !== null;
      };
      let expected = sent;
      while (expected > 0 && isRedelivery(expected - 1)) expected--;
      const started = secondRun.demo.lines.find((line) => line.message === "Demo feed started")!;
      expect(Number(started.start_index)).toBe(expected);
      expect(await stop(secondRun.demo)).toBe(0);
    },
    2 * READY_TIMEOUT_MS + 30_000,
  );
});
