// The Kafka broker stopped and restarted while the consumer ingests: the consumer process rides
// it out and reconnects by itself (no restart of ours), and the table ends with every message
// exactly once. The broker is a private one of this file (tests/support/private-broker.ts), so
// stopping it disturbs no other test; its log dir survives the restart as a real broker's does.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Admin, Producer } from "kafkajs";
import { type ConsumerRoleProcess, kafkaEnv, type LogLine, spawnConsumer, stopLine } from "../support/consumer";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { type TestMessage, uniqueName } from "../support/kafka";
import { type PrivateBroker, startPrivateBroker } from "../support/private-broker";
import { waitFor } from "../support/wait";

let db: TestDatabase;
let broker: PrivateBroker | undefined;
let admin: Admin | undefined;
let producer: Producer | undefined;
const processes: ConsumerRoleProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase("kafka_restart");
  broker = await startPrivateBroker("restart");
  admin = broker.kafka.admin();
  await admin.connect();
  producer = broker.kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
}, 200_000);

afterAll(async () => {
  for (const p of processes) p.proc.kill("SIGKILL");
  await producer?.disconnect().catch(() => {});
  await admin?.disconnect().catch(() => {});
  await broker?.destroy().catch((error) => console.error(error));
  await db.drop();
}, 60_000);

// Enough before the restart that the consumer is still busy when the broker has finished its
// controlled shutdown (a few seconds), which happens once the first rows are stored.
const BEFORE_RESTART = 40_000;
const TOTAL = 48_000;

function message(i: number): TestMessage {
  const id = `restart-${i}`;
  return {
    key: id,
    value: JSON.stringify({
      bid_request_id: id,
      user_id: `user-${i % 89}`,
      win_status: i % 2 === 0,
      bid_price: 0.5,
      win_price: i % 2 === 0 ? 0.5 : 0,
      timestamp: "2025-10-25T12:00:00Z",
    }),
  };
}

/** In chunks of 1,500 (under the broker's 1 MiB record batch limit), one after another. */
async function send(topic: string, from: number, to: number): Promise<void> {
  for (let start = from; start < to; start += 1_500) {
    const messages = Array.from({ length: Math.min(1_500, to - start) }, (_, i) => message(start + i));
    await producer!.send({ topic, acks: -1, messages: messages as { key: string; value: string }[] });
  }
}

async function countRows(): Promise<{ count: number; distinct: number }> {
  const [row] = await db.sql<{ count: string; distinct: string }[]>`select count(*) as count, count(distinct bid_id) as distinct from auction_outcomes`;
  return { count: Number(row!.count), distinct: Number(row!.distinct) };
}

async function committedTotal(group: string, topic: string): Promise<number> {
  const [entry] = await admin!.fetchOffsets({ groupId: group, topics: [topic] });
  return (entry?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

const after = (lines: LogLine[], since: number) => lines.filter((l) => Date.parse(l.timestamp as string) >= since);

test("the broker stopped and restarted mid-ingest: the same consumer process reconnects by itself and stores every message exactly once", async () => {
  const topic = uniqueName("restart");
  await admin!.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true });
  const env = kafkaEnv(topic, uniqueName("restart-group"), broker!.brokers);
  await send(topic, 0, BEFORE_RESTART);

  const consumer = spawnConsumer(db.url, env, ["--lag-interval", "1000"]);
  processes.push(consumer);
  const health = `http://127.0.0.1:${consumer.healthPort}`;
  await waitFor("ingest under way", async () => (await countRows()).count >= 2_000, { timeoutMs: 60_000, intervalMs: 50 });

  const stoppedAt = Date.now();
  await broker!.stop();
  const stopMs = Date.now() - stoppedAt;
  const rowsAtStop = (await countRows()).count;
  expect(rowsAtStop).toBeLessThan(BEFORE_RESTART);
  // The consumer notices (its fetches and heartbeats fail) and keeps running; readiness says so.
  await waitFor(
    "the consumer to report the broker's absence",
    () => after(consumer.lines, stoppedAt).some((l) => (l.level === "ERROR" || l.level === "WARN") && String(l.message).startsWith("kafkajs: ")),
    { timeoutMs: 40_000, intervalMs: 200 },
  );
  const unready = await waitFor(
    "/readyz 503 while the broker is down",
    async () => {
      const response = await fetch(`${health}/readyz`);
      return response.status === 503 ? response.json() : undefined;
    },
    { timeoutMs: 40_000, intervalMs: 200 },
  );
  expect(unready.status).toBe("unavailable");
  expect((await fetch(`${health}/healthz`)).status).toBe(200);
  expect(consumer.proc.exitCode).toBeNull();
  const downMs = Date.now() - stoppedAt;

  const restartedAt = Date.now();
  await broker!.start();
  const startMs = Date.now() - restartedAt;
  // The rest of the stream arrives after the restart, through the same producer.
  await send(topic, BEFORE_RESTART, TOTAL);
  try {
    await waitFor("the group to commit all messages", async () => (await committedTotal(env.KAFKA_CONSUMER_GROUP, topic)) === TOTAL, {
      timeoutMs: 120_000,
      intervalMs: 250,
    });
  } catch (error) {
    console.error(
      after(consumer.lines, stoppedAt)
        .filter((l) => l.message !== "Auction outcomes saved")
        .slice(-40)
        .map((l) => JSON.stringify(l))
        .join("\n"),
    );
    throw error;
  }
  await waitFor("/readyz 200 after the restart", async () => (await fetch(`${health}/readyz`)).status === 200, { timeoutMs: 30_000, intervalMs: 200 });

  // The same process did it all: never exited, never restarted by us.
  expect(consumer.proc.exitCode).toBeNull();
  expect(after(consumer.lines, restartedAt).some((l) => l.message === "Consumer group joined")).toBe(true);
  consumer.proc.kill("SIGTERM");
  expect(await consumer.exited).toBe(0);

  expect(await countRows()).toEqual({ count: TOTAL, distinct: TOTAL });
  const [range] = await db.sql<{ min: number; max: number }[]>`
    select min(substring(bid_id from 9)::int) as min, max(substring(bid_id from 9)::int) as max from auction_outcomes`;
  expect(range).toEqual({ min: 0, max: TOTAL - 1 });
  const stopped = stopLine(consumer.lines)!;
  // A batch stored while its offset commit failed comes back as duplicates, never as new rows.
  expect(stopped).toMatchObject({ reason: "signal", success_count: TOTAL, error_count: 0 });
  expect(stopped.total_messages).toBe((stopped.success_count as number) + (stopped.duplicate_count as number));
  const crashes = consumer.lines.filter((l) => l.message === "Kafka consumer crashed");
  expect(crashes.every((l) => l.restart === true)).toBe(true);
  console.log(
    `kafka restart test: stopped at ${rowsAtStop} rows (stop took ${(stopMs / 1000).toFixed(1)} s), broker down ${(downMs / 1000).toFixed(1)} s, ` +
      `restart took ${(startMs / 1000).toFixed(1)} s; consumer crashes (restarted by kafkajs): ${crashes.length}; ` +
      `duplicates after reconnect: ${stopped.duplicate_count}`,
  );
}, 300_000);
