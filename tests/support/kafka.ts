// Kafka for tests: the real broker of KAFKA_BROKERS (scripts/test.sh starts a local one), a
// unique topic and group per test so runs and files never see each other's data, a producer,
// offset probes, and polling with a bounded timeout instead of sleeps.
import { type Admin, CompressionTypes, Kafka, logLevel, type Message, type Producer } from "kafkajs";
import { waitFor } from "./wait";

export const BROKERS = (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(",").map((broker) => broker.trim());

const kafka = new Kafka({ clientId: "helios-tests", brokers: BROKERS, logLevel: logLevel.NOTHING });
let admin: Admin | null = null;
let producer: Producer | null = null;
const createdTopics: string[] = [];

async function adminClient(): Promise<Admin> {
  if (!admin) {
    admin = kafka.admin();
    await admin.connect();
  }
  return admin;
}

export function uniqueName(label: string): string {
  return `helios-test-${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A fresh topic with `partitions` partitions (and topic configs such as max.message.bytes), deleted by closeKafka(). */
export async function createTopic(label: string, partitions = 1, config: Record<string, string> = {}): Promise<string> {
  const topic = uniqueName(label);
  const configEntries = Object.entries(config).map(([name, value]) => ({ name, value }));
  const created = await (await adminClient()).createTopics({
    topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries }],
    waitForLeaders: true,
  });
  if (!created) throw new Error(`topic ${topic} already existed`);
  createdTopics.push(topic);
  return topic;
}

/** A topic name of the test's own that nothing has created yet; closeKafka() deletes it if something did. */
export function missingTopic(label: string): string {
  const topic = uniqueName(label);
  createdTopics.push(topic);
  return topic;
}

/** The topics the broker has now. */
export async function listTopics(): Promise<string[]> {
  return (await adminClient()).listTopics();
}

/** How many partitions the topic has. */
export async function partitionCount(topic: string): Promise<number> {
  const { topics } = await (await adminClient()).fetchTopicMetadata({ topics: [topic] });
  return topics[0]!.partitions.length;
}

export interface TestMessage {
  key: string | Buffer | null;
  value: string | Buffer | null;
  partition?: number;
  /** The record's timestamp, ms since the epoch as text (default: the producer's clock). */
  timestamp?: string;
}

/**
 * Sends in chunks, 4 requests in flight. A chunk is one record batch per partition on the wire,
 * which the broker refuses above max.message.bytes (1 MiB by default): 1,500 sample outcomes
 * stay under it. Order is kept within a chunk, not across chunks.
 */
export async function produce(topic: string, messages: TestMessage[], chunk = 1_500): Promise<void> {
  if (!producer) {
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
  }
  const chunks: Message[][] = [];
  for (let i = 0; i < messages.length; i += chunk) chunks.push(messages.slice(i, i + chunk) as Message[]);
  for (let i = 0; i < chunks.length; i += 4) {
    await Promise.all(chunks.slice(i, i + 4).map((part) => producer!.send({ topic, acks: -1, compression: CompressionTypes.None, messages: part })));
  }
}

/** The group's committed offset by partition ("-1" = nothing committed). */
export async function committedOffsets(groupId: string, topic: string): Promise<Record<number, string>> {
  const [entry] = await (await adminClient()).fetchOffsets({ groupId, topics: [topic] });
  return Object.fromEntries((entry?.partitions ?? []).map((p) => [p.partition, p.offset]));
}

/** High-water marks by partition: the offset the next message will get. */
export async function endOffsets(topic: string): Promise<Record<number, string>> {
  const offsets = await (await adminClient()).fetchTopicOffsets(topic);
  return Object.fromEntries(offsets.map((p) => [p.partition, p.high]));
}

/** Waits until the group has committed every partition up to its high-water mark. */
export async function waitForCommittedToEnd(groupId: string, topic: string, timeoutMs = 30_000): Promise<void> {
  const ends = await endOffsets(topic);
  await waitFor(
    `group ${groupId} to commit ${JSON.stringify(ends)}`,
    async () => {
      const committed = await committedOffsets(groupId, topic);
      return Object.entries(ends).every(([partition, end]) => committed[Number(partition)] === end);
    },
    { timeoutMs, intervalMs: 200 },
  );
}

export async function closeKafka(): Promise<void> {
  if (producer) await producer.disconnect().catch(() => {});
  producer = null;
  if (admin) {
    if (createdTopics.length > 0) await admin.deleteTopics({ topics: createdTopics.splice(0) }).catch(() => {});
    await admin.disconnect().catch(() => {});
  }
  admin = null;
}
