// A Kafka broker of one test file, on free loopback ports with its own state directory
// (scripts/kafka-local.sh with KAFKA_PORT / KAFKA_CONTROLLER_PORT / KAFKA_LOCAL_STATE), so the test
// may stop and restart it without disturbing the broker every other test and session shares.
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { freePort } from "./ports";
import { ROOT } from "./project";

export interface PrivateBroker {
  brokers: string[];
  /** A kafkajs client for this broker (admin, producer). */
  kafka: Kafka;
  /** Stops the broker and keeps its log dir: topics, messages and committed offsets survive. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and log dir. */
  start(): Promise<void>;
  /** Stops it and deletes its state. */
  destroy(): Promise<void>;
}

const SCRIPT = join(ROOT, "scripts/kafka-local.sh");

async function script(command: "start" | "stop", env: Record<string, string>): Promise<string> {
  const proc = Bun.spawn(["bash", SCRIPT, command], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`scripts/kafka-local.sh ${command} exited with ${code}:\n${out}\n${err}`);
  return out;
}

/** Formats and starts a fresh broker; bounded by KAFKA_START_TIMEOUT (default here 150 s). */
export async function startPrivateBroker(label: string): Promise<PrivateBroker> {
  const [port, controllerPort] = [await freePort(), await freePort()];
  const env = {
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    KAFKA_LOCAL_STATE: join(tmpdir(), `helios-kafka-${label}-${process.pid}-${port}`),
    KAFKA_START_TIMEOUT: process.env.KAFKA_START_TIMEOUT ?? "150",
    KAFKA_KEEP_DATA: "1",
  };
  const started = await script("start", env);
  // The script leaves a port that something else answers on alone: make sure this one is ours.
  if (!/Kafka .* up on/.test(started)) throw new Error(`no private broker started on ${port}:\n${started}`);
  const brokers = [`127.0.0.1:${port}`];
  return {
    brokers,
    kafka: new Kafka({ clientId: `helios-tests-${label}`, brokers, logLevel: logLevel.NOTHING }),
    stop: async () => void (await script("stop", env)),
    start: async () => void (await script("start", env)),
    destroy: async () => void (await script("stop", { ...env, KAFKA_KEEP_DATA: "0" })), // (the script leaves no lock file)
  };
}
