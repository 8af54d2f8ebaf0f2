// The same src/ under Deno answers exactly as under Bun: both servers run as real processes
// against one test database with fixture rows, and each answer is compared byte for byte.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { request } from "node:http";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { insertOutcomes } from "../support/fixtures";
import { freePort } from "../support/ports";
import { denoExecutable, type ServiceProcess, spawnService } from "../support/processes";

/** Deno's first run transpiles every module of the graph; later runs read its cache. */
const START_TIMEOUT_MS = 60_000;
/** Both servers see the same Host, so absolute links (next, previous) come out the same. */
const HOST = "localhost:8000";

interface Answer {
  status: number;
  contentType: string | undefined;
  /** Every header but Date, names in lower case (node:http's view). */
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers: { host: HOST } }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const { date: _date, ...headers } = response.headers;
        resolve({ status: response.statusCode!, contentType: response.headers["content-type"], headers, body: Buffer.concat(chunks).toString("utf8") });
      });
      response.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

let db: TestDatabase;
const servers: { bun?: { service: ServiceProcess; port: number }; deno?: { service: ServiceProcess; port: number } } = {};

async function startApi(command: string[]): Promise<{ service: ServiceProcess; port: number }> {
  const port = await freePort();
  const service = spawnService(command, {
    unset: ["DB_HOST", "API_TOKENS"],
    env: { DATABASE_URL: db.url, PORT: String(port), LOG_LEVEL: "INFO", ALLOWED_HOSTS: "*" },
  });
  await service.waitForLine("API listening", (line) => line.message === "API listening", START_TIMEOUT_MS);
  return { service, port };
}

beforeAll(async () => {
  db = await createTestDatabase("deno_parity");
  await insertOutcomes(db.setup);
  [servers.bun, servers.deno] = await Promise.all([
    startApi(["bun", "run", "src/main.ts", "api"]),
    startApi([denoExecutable(), "run", "-A", "src/deno.ts", "api"]),
  ]);
}, 2 * START_TIMEOUT_MS);

afterAll(async () => {
  for (const server of [servers.bun, servers.deno]) {
    if (!server) continue;
    server.service.proc.kill("SIGTERM");
    await server.service.exitedWithin(10_000).catch(() => server.service.proc.kill("SIGKILL"));
  }
  await db?.drop();
});

const CASES: [what: string, path: string, status: number][] = [
  ["a list page", "/api/outcomes/?page_size=5&ordering=-win_price", 200],
  ["a filtered list", "/api/outcomes/?win_status=true&currency=usd&page_size=3", 200],
  ["the stats", "/api/outcomes/stats/", 200],
  ["the daily stats", "/api/outcomes/daily_stats/", 200],
  ["the daily stats of a zone", "/api/outcomes/daily_stats/?tz=Europe/Berlin", 200],
  ["a breakdown", "/api/outcomes/breakdown/?by=site_domain,day&order=-outcomes", 200],
  ["a breakdown refused", "/api/outcomes/breakdown/?by=day,day&tz=Mars/Base", 400],
  ["a validation error", "/api/outcomes/?page_size=0&win_status=maybe", 400],
  ["an unknown path", "/api/nothing-here/", 404],
];

describe("the API under Deno", () => {
  test("logs that it listens under Deno", () => {
    expect(servers.deno!.service.lines.find((line) => line.message === "API listening")!.runtime).toBe("deno");
  });

  for (const [what, path, status] of CASES) {
    test(`answers ${what} exactly as under Bun (${path})`, async () => {
      const [underBun, underDeno] = await Promise.all([get(servers.bun!.port, path), get(servers.deno!.port, path)]);
      expect(underBun.status).toBe(status);
      expect(underDeno).toEqual(underBun);
    });
  }
});
