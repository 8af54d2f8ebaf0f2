// The consumer under test, two ways: in-process (fast, inspectable logs and stats) and as a real
// `bun run src/main.ts consumer` process (signals, exit codes, kill -9).
import type { Config } from "../../src/config";
import { createSql } from "../../src/db/client";
import { createLogger } from "../../src/log";
import { startConsumer, type ConsumerHandle, type ConsumerOptions } from "../../src/ingest/kafka-consumer";
import { BROKERS, uniqueName } from "./kafka";
import { testConfig } from "./db";
import { spawnService, type LogLine, type ServiceProcess } from "./processes";

export { ROOT, type LogLine } from "./processes";

export interface KafkaEnv {
  KAFKA_BROKERS: string;
  KAFKA_TOPIC_AUCTION_OUTCOMES: string;
  KAFKA_CONSUMER_GROUP: string;
  /** The broker's minimum: a killed member gives its partitions back after 6 s, not 30. */
  KAFKA_SESSION_TIMEOUT_MS: string;
  /** A port of its own: consumer processes of parallel tests (and sessions) never share 9464. */
  CONSUMER_HEALTH_PORT: string;
}

/** A port that was free a moment ago, picked synchronously (the OS chose it for a closed listener). */
export function freePortSync(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  void probe.stop(true);
  return port;
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
export async function startTestConsumer(
  config: Config,
  options: ConsumerOptions = {},
  level: "DEBUG" | "INFO" = "INFO",
): Promise<InProcessConsumer> {
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

/** A role of src/main.ts run as a process: its JSON log lines, other output, exit. */
export type ConsumerProcess = ServiceProcess;

/** `bun run src/main.ts <role> …args` with the test database and Kafka settings in its env. */
export function spawnRole(role: string, args: string[], env: Record<string, string>): ConsumerProcess {
  return spawnService(["bun", "run", "src/main.ts", role, ...args], { env: { LOG_LEVEL: "INFO", ...env } });
}

export interface ConsumerRoleProcess extends ConsumerProcess {
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
