// The SQL limit of each API query: the statements the API really executes for it, captured from
// the running code (not hand-copied, so they cannot drift from src/outcomes/), replayed by
// pgbench at the same concurrency.
//
// Capture: the app runs in-process on a postgres.js pool whose `debug` hook sees every statement
// with its parameters; one request per query gives that query's statements. Replay: each
// statement becomes a pgbench command with its parameters as pgbench variables, so with
// `-M prepared` they are bound parameters of a prepared statement, as postgres.js sends them.
import { join } from "node:path";
import { createApp } from "../src/app";
import type { Config } from "../src/config";
import { createSql } from "../src/db/client";
import { quietLog, say } from "./environment";

export interface CapturedStatement {
  text: string;
  parameters: unknown[];
}

export interface CapturedQuery {
  status: number;
  body: string;
  statements: CapturedStatement[];
}

/** postgres.js's own query for array types, sent once when a connection opens: not the API's SQL. */
function isDriverSetup(text: string): boolean {
  return /^\s*select b\.oid, b\.typarray\s+from pg_catalog\.pg_type/.test(text);
}

/** Runs each path once through the real app and records the statements each one executed. */
export async function captureStatements(config: Config, paths: string[]): Promise<CapturedQuery[]> {
  const sql = createSql(config.db, { max: 4, applicationName: "helios-bench-capture" });
  let current: CapturedStatement[] | null = null;
  // postgres.js reads options.debug on every query it builds (node_modules/postgres/src/connection.js).
  (sql.options as { debug?: unknown }).debug = (_connection: number, text: string, parameters: unknown[]) => {
    if (!isDriverSetup(text)) current?.push({ text, parameters: [...parameters] });
  };
  try {
    const app = createApp({ config, sql, log: quietLog });
    const out: CapturedQuery[] = [];
    for (const path of paths) {
      current = [];
      const response = await app.handle(new Request(`http://localhost${path}`));
      const body = await response.text();
      out.push({ status: response.status, body, statements: current });
      current = null;
    }
    return out;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function parameterText(value: unknown): string {
  if (typeof value === "boolean") return value ? "t" : "f";
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export interface PgbenchScript {
  path: string;
  /** `-D name=value` definitions of the script's variables. */
  defines: string[];
}

/**
 * Writes a pgbench script replaying these statements in order (one script run = one API request).
 * `randomId` replaces the parameter whose value is `captureId` with a uniformly random id.
 */
export async function writePgbenchScript(
  dir: string,
  name: string,
  statements: CapturedStatement[],
  randomId?: { captureId: string; lo: number; hi: number },
): Promise<PgbenchScript> {
  const defines: string[] = [];
  const lines: string[] = [];
  if (randomId) lines.push(`\\set random_id random(${randomId.lo}, ${randomId.hi})`);
  statements.forEach((statement, s) => {
    // pgbench would read `:name` inside the text as a variable; the API's SQL has none today.
    if (/(^|[^:]):[A-Za-z_]/.test(statement.text)) {
      throw new Error(`statement ${s + 1} of ${name} contains ":name", which pgbench would take for a variable:\n${statement.text}`);
    }
    const text = statement.text.replace(/\$(\d+)\b/g, (_, digits: string) => {
      const value = statement.parameters[Number(digits) - 1];
      if (value === null || value === undefined) return "null";
      if (randomId && parameterText(value) === randomId.captureId) return ":random_id";
      const variable = `s${s + 1}p${digits}`;
      if (!defines.some((d) => d.startsWith(`${variable}=`))) defines.push(`${variable}=${parameterText(value)}`);
      return `:${variable}`;
    });
    lines.push(`${text.trim().replace(/;\s*$/, "")};`);
  });
  const path = join(dir, `${name}.sql`);
  await Bun.write(path, `-- ${name}: the statements the API executed for one request, captured ${new Date().toISOString()}\n${lines.join("\n")}\n`);
  return { path, defines };
}

export interface PgbenchResult {
  tps: number;
  latencyAverageMs: number;
  failed: number;
  raw: string;
}

export async function runPgbench(options: {
  database: string;
  host: string;
  port: number;
  user: string;
  script: PgbenchScript;
  durationS: number;
  concurrency: number;
  threads?: number;
}): Promise<PgbenchResult> {
  const command = [
    "pgbench",
    "-n",
    "-M",
    "prepared",
    "-c",
    String(options.concurrency),
    "-j",
    String(options.threads ?? 2),
    "-T",
    String(options.durationS),
    "-h",
    options.host,
    "-p",
    String(options.port),
    "-U",
    options.user,
    "-f",
    options.script.path,
    ...options.script.defines.flatMap((d) => ["-D", d]),
    options.database,
  ];
  const proc = Bun.spawn(command, { stdout: "pipe", stderr: "pipe", env: { ...process.env, PGAPPNAME: "helios-bench-pgbench" } });
  const [raw, errors, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const tps = Number(/tps = ([\d.]+)/.exec(raw)?.[1] ?? NaN);
  if (code !== 0 || !Number.isFinite(tps)) {
    say(`pgbench ${options.script.path} failed (exit ${code})`);
    throw new Error(`pgbench failed (${code}):\n${errors}\n${raw}`);
  }
  return {
    tps,
    latencyAverageMs: Number(/latency average = ([\d.]+) ms/.exec(raw)?.[1] ?? NaN),
    failed: Number(/number of failed transactions: (\d+)/.exec(raw)?.[1] ?? 0),
    raw,
  };
}
