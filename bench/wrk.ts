// HTTP load with wrk (Debian's package; installed on first use): a closed loop of `concurrency`
// connections for a fixed time, latency percentiles from its --latency histogram.
import { join } from "node:path";
import { say } from "./environment";

export interface HttpLoadResult {
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p75Ms: number;
  p90Ms: number;
  p99Ms: number;
  /** Non-2xx/3xx responses plus socket errors (connect, read, write, timeout). */
  errors: number;
  raw: string;
}

export async function ensureWrk(): Promise<void> {
  if (Bun.which("wrk")) return;
  say("wrk is missing; installing Debian's package (apt-get install -y wrk)");
  const install = Bun.spawnSync(["bash", "-c", "apt-get install -y wrk || (apt-get update && apt-get install -y wrk)"], {
    stdout: "inherit",
    stderr: "inherit",
  });
  if (install.exitCode !== 0 || !Bun.which("wrk")) throw new Error("could not install wrk with apt-get; install it and run again");
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function durationMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!match) throw new Error(`unexpected wrk duration "${text}"`);
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

export function parseWrkOutput(raw: string): HttpLoadResult {
  const percentile = (p: number) => {
    const match = new RegExp(`^\\s+${p}%\\s+(\\S+)`, "m").exec(raw);
    if (!match) throw new Error(`wrk printed no ${p}% latency:\n${raw}`);
    return durationMs(match[1]!);
  };
  const requests = Number(/(\d+) requests in/.exec(raw)?.[1] ?? NaN);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(raw)?.[1] ?? NaN);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(raw)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(raw);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  if (!Number.isFinite(requests) || !Number.isFinite(rps)) throw new Error(`could not read wrk's output:\n${raw}`);
  return {
    requests,
    requestsPerSecond: rps,
    p50Ms: percentile(50),
    p75Ms: percentile(75),
    p90Ms: percentile(90),
    p99Ms: percentile(99),
    errors: non2xx + socketErrors,
    raw,
  };
}

/** A wrk Lua script that asks for a uniformly random id in lo..hi on every request. */
export async function randomIdScript(dir: string, pathPrefix: string, lo: number, hi: number): Promise<string> {
  const path = join(dir, "random-id.lua");
  await Bun.write(
    path,
    `-- Every request asks for another outcome, uniformly over the loaded ids.
local lo, hi = ${lo}, ${hi}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end
function init(args)
  math.randomseed(os.time() * 1000 + id)
end
function request()
  return wrk.format("GET", "${pathPrefix}" .. math.random(lo, hi) .. "/")
end
`,
  );
  return path;
}

export async function runWrk(options: {
  baseUrl: string;
  path: string;
  durationS: number;
  concurrency: number;
  threads?: number;
  script?: string;
}): Promise<HttpLoadResult> {
  const command = [
    "wrk",
    "--latency",
    "--timeout",
    "10s",
    "-t",
    String(options.threads ?? 2),
    "-c",
    String(options.concurrency),
    "-d",
    `${options.durationS}s`,
    ...(options.script ? ["-s", options.script] : []),
    options.baseUrl + options.path,
  ];
  const proc = Bun.spawn(command, { stdout: "pipe", stderr: "pipe" });
  const [raw, errors, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`wrk failed (${code}): ${errors}${raw}`);
  return parseWrkOutput(raw);
}
