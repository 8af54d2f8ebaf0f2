// ensureTopic against the real broker: two clients creating one topic at once (two consumer replicas
// starting with KAFKA_CREATE_TOPIC=true) get it created once, and neither logs an ERROR line.
import { afterAll, expect, test } from "bun:test";
import { loadConfig } from "../../../src/config";
import { createKafka } from "../../../src/ingest/kafka/client";
import { ensureTopic, isUnknownTopicError } from "../../../src/ingest/kafka/topic";
import { createLogger } from "../../../src/log";
import type { LogLine } from "../../support/consumer";
import { BROKERS, closeKafka, missingTopic, partitionCount } from "../../support/kafka";

afterAll(closeKafka);

test("two clients ensuring one missing topic at once create it once, with no ERROR line", async () => {
  const topic = missingTopic("ensure");
  const lines: LogLine[] = [];
  const log = createLogger("DEBUG", [], (line) => lines.push(JSON.parse(line)));
  const config = loadConfig({ KAFKA_BROKERS: BROKERS.join(","), KAFKA_CREATE_TOPIC: "true", KAFKA_CREATE_TOPIC_PARTITIONS: "2" });
  const admins = [createKafka(config, log).admin(), createKafka(config, log).admin()];
  await Promise.all(admins.map((admin) => admin.connect()));
  try {
    const created = await Promise.all(admins.map((admin) => ensureTopic(admin, topic, config.kafka.newTopic, log)));
    expect(created.filter(Boolean)).toHaveLength(1);
    expect(await partitionCount(topic)).toBe(2);
    expect(await ensureTopic(admins[0]!, topic, config.kafka.newTopic, log)).toBe(false);
    expect(lines.filter((line) => line.level === "ERROR" || line.level === "WARN")).toEqual([]);
  } finally {
    await Promise.all(admins.map((admin) => admin.disconnect()));
  }
});

test("recognises kafkajs's unknown-topic error, also wrapped by its retrier", () => {
  const unknown = Object.assign(new Error("This server does not host this topic-partition"), { type: "UNKNOWN_TOPIC_OR_PARTITION" });
  expect(isUnknownTopicError(unknown)).toBe(true);
  expect(isUnknownTopicError(Object.assign(new Error("retries exceeded"), { originalError: unknown }))).toBe(true);
  expect(isUnknownTopicError(Object.assign(new Error("no"), { type: "LEADER_NOT_AVAILABLE" }))).toBe(false);
  expect(isUnknownTopicError("UNKNOWN_TOPIC_OR_PARTITION")).toBe(false);
});
