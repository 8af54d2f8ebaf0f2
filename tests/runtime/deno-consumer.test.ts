// The consumer role under Deno, end to end: real broker, real database, the same code path as
// under Bun (src/deno.ts dispatches to runConsumerRole).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { sampleOutcome } from "../../src/ingest/kafka/produce-sample";
import { kafkaEnv } from "../support/consumer";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { closeKafka, createTopic, produce } from "../support/kafka";
import { denoExecutable, spawnService } from "../support/processes";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase("deno_consumer");
});

afterAll(async () => {
  await closeKafka();
  await db?.drop();
});

test("under Deno the consumer stores valid outcomes, dead-letters the invalid one and exits 0 at --max-messages", async () => {
  const topic = await createTopic("deno-consumer");
  const outcomes = Array.from({ length: 20 }, (_, i) => sampleOutcome(`deno-${i}`));
  await produce(topic, [
    ...outcomes.map((outcome) => ({ key: outcome.bid_request_id as string, value: JSON.stringify(outcome) })),
    { key: "broken", value: "{not json" },
  ]);

  const consumer = spawnService([denoExecutable(), "run", "-A", "src/deno.ts", "consumer", "--max-messages", "21"], {
    unset: ["DB_HOST"],
    env: { DATABASE_URL: db.url, LOG_LEVEL: "INFO", ...kafkaEnv(topic) },
  });
  expect(await consumer.exitedWithin(60_000)).toBe(0);

  const stopped = consumer.lines.find((line) => line.message === "Kafka consumer stopped")!;
  expect(stopped).toMatchObject({ reason: "max-messages", total_messages: 21, success_count: 20, error_count: 1 });
  const [stored] = await db.sql<{ count: string }[]>`select count(*)::text as count from auction_outcomes where bid_id like 'deno-%'`;
  expect(stored!.count).toBe("20");
  const deadLetters = await db.sql<{ topic: string; reason: string }[]>`select topic, reason from dead_letters`;
  expect(deadLetters).toHaveLength(1);
  expect(deadLetters[0]!.topic).toBe(topic);
}, 90_000);
