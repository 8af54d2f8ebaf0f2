// The database failing under a running consumer: connections killed mid-stream, then the
// database refusing connections for a while. The consumer retries, resumes, and counts exactly.
import { expect, test } from "bun:test";
import { consumerTestbed, kafkaEnv, type LogLine, spawnConsumer, stopLine } from "../support/consumer";
import { committedOffsets, createTopic, produce, type TestMessage, waitForCommittedToEnd } from "../support/kafka";
import { waitFor } from "../support/wait";

const bed = consumerTestbed("consumer_outage");

const TOTAL = 40_000;

function message(i: number): TestMessage {
  const id = `outage-${i}`;
  return {
    key: id,
    value: JSON.stringify({
      bid_request_id: id,
      user_id: `user-${i % 101}`,
      win_status: i % 2 === 0,
      bid_price: 1.25,
      win_price: i % 2 === 0 ? 1.25 : 0,
      timestamp: "2025-10-25T12:00:00Z",
    }),
  };
}

/** Kills every backend of the consumer (its pool names itself helios-analytics-consumer). */
async function terminateConsumerConnections(): Promise<number> {
  const killed = await bed.admin`
    select pg_terminate_backend(pid) from pg_stat_activity
    where datname = ${bed.db.name} and application_name = 'helios-analytics-consumer'`;
  return killed.length;
}

const retries = (lines: LogLine[]) => lines.filter((l) => l.message === "Database write failed, retrying batch");

async function countRows(): Promise<number> {
  const [row] = await bed.db.sql<{ count: string }[]>`select count(*) as count from auction_outcomes`;
  return Number(row!.count);
}

test("retries with logged attempts while connections are killed and the database refuses them, then stores every message once", async () => {
  const topic = await createTopic("outage", 2);
  const env = kafkaEnv(topic);
  const producing = produce(
    topic,
    Array.from({ length: TOTAL }, (_, i) => message(i)),
    5_000,
  );
  const consumer = spawnConsumer(bed.db.url, env);
  bed.processes.push(consumer);
  await consumer.waitForLine("a first batch saved", (l) => l.message === "Auction outcomes saved", 40_000);
  await countRows(); // opens the test's own connection now: it stays open through the outage below

  // 1. Connections killed mid-stream, a few times.
  let killed = 0;
  for (let i = 0; i < 5; i++) {
    killed += await terminateConsumerConnections();
    await Bun.sleep(150);
  }
  expect(killed).toBeGreaterThan(0);

  // 2. The database refuses new connections until the consumer has retried several times.
  await bed.admin`alter database ${bed.admin(bed.db.name)} allow_connections false`;
  await terminateConsumerConnections();
  const outageStarted = Date.now();
  const retriedDuringOutage = () => retries(consumer.lines).filter((l) => Date.parse(l.timestamp as string) >= outageStarted);
  await waitFor(
    "3 retries while the database is down, one of them at least the third attempt of its batch",
    () => {
      const during = retriedDuringOutage();
      return during.length >= 3 && during.some((l) => (l.attempt as number) >= 3);
    },
    { timeoutMs: 40_000 },
  );
  const stillStored = await countRows(); // the test's own pool keeps its open connection
  await Bun.sleep(300);
  expect(await countRows()).toBe(stillStored);
  await bed.admin`alter database ${bed.admin(bed.db.name)} allow_connections true`;
  const outageMs = Date.now() - outageStarted;

  await producing;
  try {
    await waitForCommittedToEnd(env.KAFKA_CONSUMER_GROUP, topic, 60_000);
  } catch (error) {
    console.error(
      consumer.lines
        .filter((l) => l.message !== "Auction outcomes saved")
        .slice(-40)
        .map((l) => JSON.stringify(l))
        .join("\n"),
      consumer.other.join("\n"),
    );
    throw error;
  }
  consumer.proc.kill("SIGTERM");
  expect(await consumer.exited).toBe(0);

  expect(await countRows()).toBe(TOTAL);
  const warned = retries(consumer.lines);
  expect(warned.every((l) => l.level === "WARN" && typeof l.error === "string" && typeof l.delay_ms === "number")).toBe(true);
  const attempts = warned.map((l) => l.attempt as number);
  expect(attempts).toContain(1);
  expect(attempts).toContain(2);
  expect(attempts).toContain(3);
  // Capped exponential backoff: each retry of one batch waits about twice as long as the one before.
  const delays = warned.filter((l) => l.partition === warned.at(-1)!.partition).map((l) => l.delay_ms as number);
  expect(Math.max(...delays)).toBeLessThanOrEqual(15_000 * 1.2);
  expect(consumer.lines.some((l) => l.message === "Database write succeeded after retries")).toBe(true);

  const stopped = stopLine(consumer.lines)!;
  expect(stopped).toMatchObject({ reason: "signal", error_count: 0 });
  // A transaction whose connection was terminated after PostgreSQL committed it, before the
  // consumer heard so, is retried: its rows are found there and counted as duplicates, never
  // stored twice (the table holds exactly TOTAL rows, checked above). Seen in CI: one batch of
  // 4,000 committed that way, so success_count is TOTAL less such batches, and every message is
  // counted once, as stored or as already there.
  expect(stopped.success_count as number).toBeLessThanOrEqual(TOTAL);
  expect((stopped.success_count as number) + (stopped.duplicate_count as number)).toBeGreaterThanOrEqual(TOTAL);
  expect(stopped.total_messages).toBe((stopped.success_count as number) + (stopped.duplicate_count as number));
  const committed = await committedOffsets(env.KAFKA_CONSUMER_GROUP, topic);
  expect(Object.values(committed).reduce((sum, o) => sum + Number(o), 0)).toBe(TOTAL);
  console.log(
    `db outage test: ${warned.length} retries logged (attempts up to ${Math.max(...attempts)}), outage ${outageMs} ms, ${stopped.duplicate_count} duplicates`,
  );
}, 120_000);
