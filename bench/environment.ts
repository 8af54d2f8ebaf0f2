// What the benchmarks run on and against: machine facts, how busy the CPUs are, the local
// Kafka broker and throwaway or reusable PostgreSQL databases.
import { readFileSync } from "node:fs";
import { copyFile, mkdtemp, readdir, rm } from "node:fs/promises";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { type Admin, Kafka, logLevel } from "kafkajs";
import { type Config, loadConfig } from "../src/config";
import type { Sql } from "../src/db/client";
import { applyMigrations, MIGRATIONS_DIR } from "../src/db/migrate";
import { DEFAULT_SERVER_URL, databaseServer } from "../tests/support/postgres";
import { ROOT } from "../tests/support/project";

export { freePortSync as freePort } from "../tests/support/ports";

import { quietLog } from "../tests/support/postgres";

export { quietLog, ROOT };

const MEBIBYTE = 1024 * 1024;

/**
 * The run-time environment k8s/ gives a role's container besides the config: JavaScriptCore told
 * the container's memory limit (BUN_JSC_forceRAMSize, see k8s/*-deployment.yaml), so the roles are
 * measured as they are deployed. An explicit BUN_JSC_forceRAMSize in this environment wins.
 */
export function deployedRuntimeEnv(role: "api" | "consumer"): Record<string, string> {
  if (process.env.BUN_JSC_forceRAMSize) return { BUN_JSC_forceRAMSize: process.env.BUN_JSC_forceRAMSize };
  const text = readFileSync(join(ROOT, "k8s", `${role}-deployment.yaml`), "utf8");
  const deployment = Bun.YAML.parse(text) as { spec: { template: { spec: { containers: { name: string; resources: { limits: { memory: string } } }[] } } } };
  const container = deployment.spec.template.spec.containers.find((c) => c.name === role);
  const limit = /^(\d+)Mi$/.exec(container?.resources.limits.memory ?? "");
  if (!limit) throw new Error(`k8s/${role}-deployment.yaml: no memory limit in Mi for container ${role}`);
  return { BUN_JSC_forceRAMSize: String(Number(limit[1]) * MEBIBYTE) };
}

/** The JavaScriptCore RAM size a role runs with in the benchmarks, MiB (for the results). */
export function ramMiB(role: "api" | "consumer"): number {
  return Number(deployedRuntimeEnv(role).BUN_JSC_forceRAMSize) / MEBIBYTE;
}

const SERVER = databaseServer(process.env.BENCH_DATABASE_URL ?? DEFAULT_SERVER_URL);
export const SERVER_URL = SERVER.url;
export const KAFKA_BROKERS = process.env.KAFKA_BROKERS ?? "127.0.0.1:9092";

/** A quiet kafkajs client of the benchmarks (KAFKA_BROKERS unless given others). */
export const benchKafka = (clientId = "helios-bench", brokers = KAFKA_BROKERS) =>
  new Kafka({ clientId, brokers: brokers.split(","), logLevel: logLevel.ERROR });

/** A topic of `partitions` partitions on the one-node bench broker, ready once this resolves. */
export const createBenchTopic = (admin: Admin, topic: string, partitions: number) =>
  admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });

export function say(text: string): void {
  console.error(`bench: ${text}`);
}

// ---------------------------------------------------------------------------------------------
// Machine.

function commandOutput(command: string[]): string {
  try {
    const result = Bun.spawnSync(command, { stdout: "pipe", stderr: "pipe" });
    return (result.stdout.toString() || result.stderr.toString()).trim();
  } catch {
    return "unavailable";
  }
}

export interface MachineFacts {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  bun: string;
  postgres: string;
  kafka: string;
  wrk?: string;
  pgbench?: string;
}

export async function machineFacts(admin: Sql): Promise<MachineFacts> {
  const [row] = await admin<{ version: string }[]>`select current_setting('server_version') as version`;
  const version = row?.version ?? "unknown";
  const pom = await Bun.file(join(ROOT, "scripts/kafka/pom.xml"))
    .text()
    .catch(() => "");
  return {
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    bun: Bun.version,
    postgres: version,
    kafka: /<kafka.version>(.*)<\/kafka.version>/.exec(pom)?.[1] ?? "unknown",
    wrk: commandOutput(["wrk", "--version"])
      .split("\n")[0]
      ?.replace(/ Copyright.*/, ""),
    pgbench: commandOutput(["pgbench", "--version"]),
  };
}

/** Share of CPU time spent busy over a short window, all cores together (0–100). */
export async function cpuBusyPercent(windowMs = 1000): Promise<number> {
  const read = async () => {
    const line = (await Bun.file("/proc/stat").text()).split("\n")[0]!;
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = fields[3]! + (fields[4] ?? 0);
    return { idle, total: fields.reduce((a, b) => a + b, 0) };
  };
  const a = await read();
  await Bun.sleep(windowMs);
  const b = await read();
  return Math.round(100 * (1 - (b.idle - a.idle) / Math.max(1, b.total - a.total)) * 10) / 10;
}

/** Warns when something else keeps the CPUs busy: figures measured then are not comparable. */
export async function checkQuiet(): Promise<number> {
  const busy = await cpuBusyPercent(1500);
  if (busy > 15) say(`warning: the machine is ${busy}% busy before the run; other work will skew the figures`);
  else say(`machine is quiet (${busy}% busy)`);
  return busy;
}

// ---------------------------------------------------------------------------------------------
// Kafka.

async function answers(host: string, port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: host, port, socket: { data() {} } });
    socket.end();
    return true;
  } catch {
    return false;
  }
}

/** Starts the project's local broker when nothing answers; a running broker is used as it is. */
export async function ensureKafka(): Promise<void> {
  const [host, port] = KAFKA_BROKERS.split(",")[0]!.split(":") as [string, string];
  if (await answers(host, Number(port))) return;
  // Off the default port the broker gets its own controller port and state directory, so a
  // private benchmark broker never collides with the one the test suites share.
  const own = port === "9092" ? {} : { KAFKA_CONTROLLER_PORT: String(Number(port) + 1), KAFKA_LOCAL_STATE: `/tmp/helios-kafka-bench-${port}` };
  say(`no Kafka at ${host}:${port}; starting scripts/kafka-local.sh`);
  const result = Bun.spawnSync(["bash", join(ROOT, "scripts/kafka-local.sh"), "start"], {
    env: { ...process.env, KAFKA_PORT: port, ...own },
    stdout: "inherit",
    stderr: "inherit",
  });
  if (result.exitCode !== 0) throw new Error("scripts/kafka-local.sh start failed");
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL.

export const urlFor = SERVER.urlFor;

/** Config of the roles under test, pointed at one database; extra env overrides. */
export function configFor(database: string, env: Record<string, string> = {}): Config {
  return loadConfig({ ...process.env, DATABASE_URL: urlFor(database), LOG_LEVEL: "ERROR", ...env });
}

export const adminSql = SERVER.admin;
/** A pool on the database for the harness itself: no statement timeout (loads and COPYs are long). */
export const benchSql = (database: string, max = 2): Sql => SERVER.connect(database, max, "helios-bench");
export const databaseExists = SERVER.exists;
export const dropDatabase = SERVER.drop;
export const migrate = SERVER.migrate;

/** Drops any database of that name, creates it empty and applies every migration. */
export async function freshDatabase(admin: Sql, name: string): Promise<void> {
  await dropDatabase(admin, name);
  await admin`create database ${admin(name)}`;
  await migrate(name);
}

// ---------------------------------------------------------------------------------------------
// Ports and run artifacts.

/** bench/out/<kind>-<time>/: logs, captured SQL and pgbench scripts of one run (git-ignored). */
export async function runDirectory(kind: string): Promise<string> {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
  const dir = join(ROOT, "bench/out", `${kind}-${stamp}-${process.pid}`);
  await Bun.$`mkdir -p ${dir}`.quiet();
  return dir;
}

// ---------------------------------------------------------------------------------------------
// Schemas of a given age, partitions of a given window.

/** Drops any database of that name, creates it and applies the migrations up to `last` (e.g. "007"): a schema as an older release had it. */
export async function databaseAtMigration(admin: Sql, name: string, last: string): Promise<string[]> {
  await dropDatabase(admin, name);
  await admin`create database ${admin(name)}`;
  const dir = await mkdtemp(join(tmpdir(), "helios-bench-migrations-"));
  try {
    for (const file of await readdir(MIGRATIONS_DIR)) if (file.slice(0, last.length) <= last) await copyFile(join(MIGRATIONS_DIR, file), join(dir, file));
    const sql = benchSql(name, 1);
    try {
      return await applyMigrations(sql, quietLog, { dir });
    } finally {
      await sql.end({ timeout: 5 });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Makes the partition of every day of [start, start + days) (partitioned schemas only), as maintenance ahead of a load would. */
export async function preparePartitions(sql: Sql, startMs: number, days: number): Promise<number> {
  const [present] = await sql<{ present: boolean }[]>`select to_regproc('helios_ensure_outcome_partition') is not null as present`;
  if (!present!.present) return 0;
  for (let d = 0; d < days; d++) await sql`select name from helios_ensure_outcome_partition(${new Date(startMs + d * 86_400_000).toISOString()}::timestamptz)`;
  return days;
}
