// `bun run start demo` as a newcomer runs it: no DATABASE_URL, no DB_HOST, no broker (one test
// names a PostgreSQL). A real process, real HTTP, real signals; the only knowledge of the inside
// is its JSON log lines and what it prints for people.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TOKEN_PLACEHOLDER } from "../../src/demo/banner";
import { LOCK_FILE } from "../../src/demo/data-dir-lock";
import { DEFAULT_SEED } from "../../src/demo/demo-args";
import { demoGenerator } from "../../src/demo/demo-feed";
import { createTestDatabase } from "../support/db";
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

/** What this machine's environment could set that would change the demo, unless a test sets it. */
const UNSET = ["DATABASE_URL", "DB_HOST", "PORT", "API_TOKENS", "PROTECT_DOCS_AND_METRICS"];

function spawnDemo(port: number, args: string[], env: Record<string, string> = {}): ServiceProcess {
  const demo = spawnService(["bun", "run", "src/main.ts", "demo", "--port", String(port), "--rate", "500", ...args], {
    unset: UNSET.filter((name) => !(name in env)),
    env: { LOG_LEVEL: "INFO", ...env },
  });
  running.push(demo);
  return demo;
}

async function startDemo(args: string[] = [], env: Record<string, string> = {}): Promise<{ demo: ServiceProcess; base: string }> {
  const port = await freePort();
  const broker = `127.0.0.1:${await freePort()}`;
  const demo = spawnDemo(port, args, { KAFKA_BROKERS: broker, ...env });
  await demo.waitForLine("Demo ready", (line) => line.message === "Demo ready", READY_TIMEOUT_MS);
  // The banner is printed right after the ready line.
  await waitFor("the banner", async () => demo.other.some((text) => text.startsWith("Helios Analytics demo: a simulated")) || undefined, {
    timeoutMs: 5_000,
  });
  return { demo, base: `http://127.0.0.1:${port}` };
}

const REMINDER = (port: string) =>
  `Helios Analytics demo: console http://localhost:${port}/console/ · Swagger http://localhost:${port}/swagger · Ctrl-C stops it.`;

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
      const { demo, base } = await startDemo(["--progress-interval", "2"]);

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

      // A progress line every --progress-interval (2 s here), with 2 % of the messages redelivered.
      const progress = await demo.waitForLine(
        "progress with duplicates",
        (line) => line.message === "Demo feed progress" && Number(line.duplicates) > 0,
        15_000,
      );
      expect(Number(progress.inserted)).toBeGreaterThan(0);

      // Rows keep arriving; up to an instant a few seconds back both answers describe the same rows.
      const { until, stats } = await waitFor(
        "outcomes stored more than 3 s ago",
        async () => {
          const until = new Date(Date.now() - 3_000).toISOString();
          const stats = await getJson(`${base}/api/outcomes/stats/?to=${until}`);
          return stats.total_outcomes > 0 ? { until, stats } : undefined;
        },
        { timeoutMs: 15_000 },
      );
      expect(stats.total_outcomes).toBe(await outcomeCount(base, `&to=${until}`));

      const deadLetters = await getJson(`${base}/api/dead_letters/?page_size=5`);
      expect(deadLetters.count).toBeGreaterThan(0);
      expect(deadLetters.results[0].topic).toBe("demo");
      expect(deadLetters.results[0].reason.length).toBeGreaterThan(0);

      const ready = demo.lines.find((line) => line.message === "Demo ready")!;
      console.log(`demo start-up to first answer: ${ready.startup_ms} ms`);

      // The terminal stays readable: the requests above are counted in the progress lines, not
      // logged one by one, and each progress line is followed by the addresses again.
      const counted = await demo.waitForLine(
        "a progress line counting requests",
        (line) => line.message === "Demo feed progress" && Number(line.http_requests) > 0,
      );
      expect(Number((counted.http_statuses as Record<string, number>)["200"])).toBeGreaterThan(0);
      expect(demo.lines.filter((line) => line.message === "HTTP request")).toEqual([]);
      const port = new URL(base).port;
      expect(demo.other.filter((text) => text === REMINDER(port)).length).toBeGreaterThan(0);
      expect(demo.other.filter((text) => text.startsWith("Helios Analytics demo: a simulated")).length).toBe(1);

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

  test(
    "with --log-requests writes one HTTP request line per request, as the api role does",
    async () => {
      const { demo, base } = await startDemo(["--log-requests"]);
      await getJson(`${base}/api/outcomes/stats/`);
      const line = await demo.waitForLine("the request's line", (entry) => entry.message === "HTTP request" && entry.path === "/api/outcomes/stats/");
      expect(line).toMatchObject({ level: "INFO", method: "GET", status: 200 });
      expect(await stop(demo)).toBe(0);
    },
    READY_TIMEOUT_MS + 30_000,
  );

  test(
    "refuses a second demo on the same --data-dir with a message naming the first one's pid, and frees the directory on exit",
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), "helios-demo-lock-test-"));
      directories.push(dataDir);
      const first = await startDemo(["--data-dir", dataDir]);
      const lockFile = join(dataDir, LOCK_FILE);
      expect(await readFile(lockFile, "utf8")).toBe(`${first.demo.proc.pid}\n`);

      const second = spawnDemo(await freePort(), ["--data-dir", dataDir]);
      expect(await second.exitedWithin(30_000)).toBe(1);
      expect(second.other.join("\n")).toContain(`--data-dir ${dataDir} is in use by another demo (pid ${first.demo.proc.pid}`);
      expect(second.lines.some((line) => line.message === "Embedded PostgreSQL started")).toBe(false);
      // The first demo is untouched: it still answers, and its lock is still its own.
      expect(await outcomeCount(first.base)).toBeGreaterThanOrEqual(0);
      expect(await readFile(lockFile, "utf8")).toBe(`${first.demo.proc.pid}\n`);

      expect(await stop(first.demo)).toBe(0);
      expect(existsSync(lockFile)).toBe(false);
    },
    READY_TIMEOUT_MS + 60_000,
  );

  test(
    "on a configured PostgreSQL with API_TOKENS names the server and database, never the password, and shows the header to add",
    async () => {
      const db = await createTestDatabase("demo_banner");
      try {
        const url = new URL(db.url);
        url.password = "banner-secret-password";
        const token = "demo-token-0123456789abcdef";
        const { demo, base } = await startDemo([], { DATABASE_URL: url.toString(), API_TOKENS: token });
        const text = demo.other.join("\n");
        expect(text).toContain(`into PostgreSQL at ${url.hostname}:${url.port || "5432"}, database ${db.name}.`);
        expect(text).toContain(`    curl -s -H 'Authorization: Bearer ${TOKEN_PLACEHOLDER}' ${base.replace("127.0.0.1", "localhost")}/api/outcomes/stats/`);
        expect(text).not.toContain("banner-secret-password");
        expect(text).not.toContain(token);
        expect(await stop(demo)).toBe(0);
      } finally {
        await db.drop();
      }
    },
    READY_TIMEOUT_MS + 30_000,
  );
});
