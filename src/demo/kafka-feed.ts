// `demo --kafka`: the full path. The simulated stream is produced to the outcomes topic and the
// real consumer (startConsumer, in this process, on the demo's pool) reads it into the database.
import { connect } from "node:net";
import { type Admin, CompressionTypes, Partitioners, type Producer } from "kafkajs";
import type { Config } from "../config";
import type { Sql } from "../db/client";
import { createKafka } from "../ingest/kafka/client";
import { type ConsumerHandle, startConsumer } from "../ingest/kafka/consumer";
import { ensureTopic } from "../ingest/kafka/topic";
import { DEFAULT_RETRY, retryDelayMs } from "../ingest/retry";
import type { Fields, Logger } from "../log";
import { messageValue, type OutcomeGenerator } from "../simulate/generator";
import { ingestTotals } from "./demo-feed";
import { runPaced } from "./pacing";

/** Partitions of the topic when the demo creates it: two, so the consumer's concurrency shows. */
const DEMO_TOPIC_PARTITIONS = 2;

/**
 * The demo's one pool as the consumer may hold it: the consumer ends the pool it was given when it
 * stops (and replaces one whose connections keep failing), but this one also serves the API, and
 * PGlite must see a single client connection (see embedded-postgres.ts). Ending the view is a no-op.
 */
export function sharedPoolView(sql: Sql): Sql {
  return new Proxy(sql, {
    get(target, property, receiver) {
      if (property === "end") return async () => {};
      return Reflect.get(target, property, receiver);
    },
  });
}

/** True when the first broker accepts a TCP connection within `timeoutMs`. */
export function brokerAnswers(broker: string, timeoutMs = 1_500): Promise<boolean> {
  const at = broker.lastIndexOf(":");
  const host = broker.slice(0, at).replace(/^\[(.*)\]$/, "$1");
  const port = Number(broker.slice(at + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (answered: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answered);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/**
 * Creates the topic when it is missing, and returns how many messages it holds: the index the
 * producer continues from, so a restarted demo does not resend the same ids as duplicates.
 */
async function prepareTopic(admin: Admin, topic: string, log: Logger): Promise<number> {
  if (await ensureTopic(admin, topic, { partitions: DEMO_TOPIC_PARTITIONS }, log)) return 0;
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
}

export interface KafkaFeed {
  consumer: ConsumerHandle;
  produced(): number;
  /** Produced so far, and what the consumer made of it, as the progress report shows them. */
  totals(): Fields;
  stop(): Promise<void>;
}

export async function startKafkaFeed(deps: {
  config: Config;
  /** The consumer's pool, as startConsumer takes it. */
  connect: () => Sql;
  log: Logger;
  generator: OutcomeGenerator;
  rate: number;
  tickMs: number;
}): Promise<KafkaFeed> {
  const { config, connect, log, generator, rate } = deps;
  const { topic } = config.kafka;
  const kafka = createKafka(config, log);
  const admin = kafka.admin();
  await admin.connect();
  let producer: Producer | undefined;
  try {
    let nextIndex = await prepareTopic(admin, topic, log);
    // Keyed by bid id like the upstream; the partitioner named so kafkajs does not warn about its default.
    producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const consumer = await startConsumer({ config, log, connect });
    let produced = 0;
    const loop = runPaced(rate, deps.tickMs, async (count, control) => {
      const messages = [...generator.messages(nextIndex, count)].map((message) => {
        const value = messageValue(message);
        return { key: message.key, value: typeof value === "string" ? value : Buffer.from(value) };
      });
      for (let attempt = 1; ; attempt++) {
        try {
          await producer!.send({ topic, acks: -1, compression: CompressionTypes.None, messages });
          break;
        } catch (error) {
          if (control.stopping) return false;
          const delayMs = retryDelayMs(attempt, DEFAULT_RETRY);
          log.warn("Producing the demo stream failed, retrying", { attempt, delay_ms: delayMs, error: (error as Error).message });
          await control.pause(delayMs);
          if (control.stopping) return false;
        }
      }
      nextIndex += count;
      produced += count;
      return true;
    });
    log.info("Demo producer started", { topic, rate, start_index: nextIndex, seed: generator.options.seed });
    return {
      consumer,
      produced: () => produced,
      totals: () => ({ produced, ...ingestTotals(consumer.stats) }),
      async stop() {
        await loop.stop();
        await producer!.disconnect().catch(() => {});
        await consumer.stop("signal");
        await admin.disconnect().catch(() => {});
      },
    };
  } catch (error) {
    await producer?.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
    throw error;
  }
}
