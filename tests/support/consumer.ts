// The consumer under test, two ways: in-process (fast, inspectable logs and stats) and as a real
// `bun run src/main.ts consumer` process (signals, exit codes, kill -9).

import { afterAll, beforeAll, beforeEach } from "bun:test";
import type { Config } from "../../src/config";
import { loadConfig } from "../../src/config";
import type { Sql } from "../../src/db/client";
import { createSql } from "../../src/db/client";
import { type ConsumerHandle, type ConsumerOptions, startConsumer } from "../../src/ingest/kafka/consumer";
import { createLogger } from "../../src/log";
import { createTestDatabase, emptyIngestTables, SERVER_URL, type TestDatabase, testConfig } from "./db";
import { BROKERS, closeKafka, uniqueName } from "./kafka";
import { freePortSync } from "./ports";
import { type LogLine, type ServiceProcess, spawnRole } from "./processes";

export type { LogLine } from "./processes";

export interface KafkaEnv {
  KAFKA_BROKERS: string;
  KAFKA_TOPIC_AUCTION_OUTCOMES: string;
  KAFKA_CONSUMER_GROUP: string;
  /** The broker's minimum: a killed member gives its partitions back after 6 s, not 30. */
  KAFKA_SESSION_TIMEOUT_MS: string;
  /** A port of its own: consumer processes of parallel tests (and sessions) never share 9464. */
  CONSUMER_HEALTH_PORT: string;
}

export function kafkaEnv(topic: string, group = uniqueName("group"), brokers: string[] = BROKERS): KafkaEnv {
  return {
    KAFKA_BROKERS: brokers.join(","),
    KAFKA_TOPIC_AUCTION_OUTCOMES: topic,
    KAFKA_CONSUMER_GROUP: group,
    KAFKA_SESSION_TIMEOUT_MS: "6000",
    CONSUMER_HEALTH_PORT: String(freePortSync()),
  };
}

export function consumerConfig(databaseUrl: string, env: KafkaEnv): Config {
  return testConfig(databaseUrl, { ...env });
}

export interface InProcessConsumer {
  handle: ConsumerHandle;
  lines: LogLine[];
  stop(): Promise<void>;
}

/** Starts the consumer in this process; its JSON log lines are collected (INFO and up by default). */
export async function startTestConsumer(config: Config, options: ConsumerOptions = {}, level: "DEBUG" | "INFO" = "INFO"): Promise<InProcessConsumer> {
  const lines: LogLine[] = [];
  const log = createLogger(level, [], (line) => lines.push(JSON.parse(line)));
  const handle = await startConsumer({ config, log, connect: () => createSql(config.db, { max: 3 }) }, { lagIntervalMs: 1_000, ...options });
  return {
    handle,
    lines,
    async stop() {
      await handle.stop();
    },
  };
}

export interface ConsumerRoleProcess extends ServiceProcess {
  /** Its health and metrics server: http://127.0.0.1:<healthPort>/healthz, /readyz, /metrics. */
  healthPort: number;
}

/** The consumer role as a process, on a health port of its own (two processes of one env never collide). */
export function spawnConsumer(databaseUrl: string, env: KafkaEnv, args: string[] = []): ConsumerRoleProcess {
  const healthPort = freePortSync();
  const spawned = spawnRole("consumer", args, { DATABASE_URL: databaseUrl, ...env, CONSUMER_HEALTH_PORT: String(healthPort) });
  return { ...spawned, healthPort };
}

export const stopLine = (lines: LogLine[]) => lines.find((line) => line.message === "Kafka consumer stopped");

export interface ConsumerTestbed {
  /** The file's own database, created before its first test. */
  readonly db: TestDatabase;
  /** A connection to the server (opened on first use), to refuse or cut the test database's connections. */
  readonly admin: Sql;
  /** Every consumer process a test starts goes here: all are SIGKILLed after the file. */
  readonly processes: ServiceProcess[];
}

/**
 * The hooks of a test file that runs consumer processes: a fresh database before its tests
 * (`cleanEach`: emptied of outcomes and dead letters before each test); after them, the processes
 * killed, the database accepting connections again, the test topics deleted, the database dropped.
 */
export function consumerTestbed(label: string, options: { cleanEach?: boolean } = {}): ConsumerTestbed {
  let db: TestDatabase | undefined;
  let admin: Sql | undefined;
  const processes: ServiceProcess[] = [];
  beforeAll(async () => {
    db = await createTestDatabase(label);
  }, 30_000);
  if (options.cleanEach) {
    beforeEach(() => emptyIngestTables(db!), 30_000);
  }
  afterAll(async () => {
    for (const p of processes) p.proc.kill("SIGKILL");
    if (admin && db) {
      await admin`alter database ${admin(db.name)} allow_connections true`.catch(() => {});
      await admin.end({ timeout: 2 });
    }
    await closeKafka();
    await db?.drop();
  }, 30_000);
  return {
    get db() {
      if (!db) throw new Error("consumerTestbed: the database exists from beforeAll on");
      return db;
    },
    get admin() {
      admin ??= createSql(loadConfig({ DATABASE_URL: SERVER_URL }).db, { max: 1 });
      return admin;
    },
    processes,
  };
}
