// The consumer role, as a process, reading Kafka into a Citus cluster: a stream with redeliveries
// and invalid messages, the consumer killed with SIGKILL mid-stream and started again, then stopped.
// The table ends holding each valid outcome once, the rollups count exactly those, and dead letters
// hold each invalid message once. Skipped, with the reason printed, where no Citus coordinator answers.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Kafka, logLevel, type Producer } from "kafkajs";
import { citusSkipReason, createCitusDatabase } from "../support/citus";
import { kafkaEnv, spawnConsumer, stopLine } from "../support/consumer";
import type { TestDatabase } from "../support/db";
import { BROKERS, closeKafka, createTopic, waitForCommittedToEnd } from "../support/kafka";
import type { ServiceProcess } from "../support/processes";
import { waitFor } from "../support/wait";

setDefaultTimeout(300_000);

const PARTITIONS = 3;
const UNIQUE = 4_000;
/** Every 10th outcome is sent twice (a redelivery), every 101st message is not an outcome at all. */
const isRedelivered = (i: number) => i % 10 === 3;
const isInvalid = (i: number) => i % 101 === 50;

describe.skipIf(citusSkipReason !== undefined)("Kafka into Citus", () => {
  let db: TestDatabase;
  let producer: Producer;
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    db = await createCitusDatabase("kafka");
    producer = new Kafka({ clientId: "helios-tests-citus", brokers: BROKERS, logLevel: logLevel.NOTHING }).producer({ allowAutoTopicCreation: false });
    await producer.connect();
  }, 120_000);
  afterAll(async () => {
    for (const p of processes) p.proc.kill("SIGKILL");
    await producer?.disconnect().catch(() => {});
    await closeKafka();
    await db?.drop();
  }, 120_000);

  const count = async () => Number((await db.setup<{ n: string }[]>`select count(*)::text as n from auction_outcomes`)[0]!.n);

  test("a consumer killed with SIGKILL mid-stream and restarted stores each outcome once, rollups exact, each bad message one dead letter", async () => {
    const topic = await createTopic("citus", PARTITIONS);
    const env = kafkaEnv(topic);
    const messages: { key: string; value: string; partition: number }[] = [];
    let invalid = 0;
    for (let i = 0; i < UNIQUE; i++) {
      const key = `citus-${i}`;
      const outcome = {
        bid_request_id: key,
        user_id: `user-${i % 97}`,
        site_domain: `site-${i % 13}.example`,
        win_status: i % 3 !== 0,
        win_price: i % 3 !== 0 ? 0.5 : 0,
        bid_price: 0.75,
        timestamp: new Date(Date.UTC(2025, 9, 20) + i * 60_000).toISOString(),
      };
      messages.push({ key, value: JSON.stringify(outcome), partition: i % PARTITIONS });
      if (isRedelivered(i)) messages.push({ key, value: JSON.stringify(outcome), partition: i % PARTITIONS });
      if (isInvalid(i)) {
        messages.push({ key: `bad-${i}`, value: `{"bid_request_id": "bad-${i}", "win_price": "not-a-price"}`, partition: i % PARTITIONS });
        invalid += 1;
      }
    }
    for (let start = 0; start < messages.length; start += 1_000) await producer.send({ topic, acks: -1, messages: messages.slice(start, start + 1_000) });

    const first = spawnConsumer(db.url, env);
    processes.push(first);
    await waitFor("some outcomes stored by the first consumer", async () => (await count()) >= 600, { timeoutMs: 120_000, intervalMs: 50 });
    first.proc.kill("SIGKILL");
    await first.exited;
    expect(stopLine(first.lines)).toBeUndefined();

    const second = spawnConsumer(db.url, env);
    processes.push(second);
    await waitForCommittedToEnd(env.KAFKA_CONSUMER_GROUP, topic, 180_000);
    second.proc.kill("SIGTERM");
    expect(await second.exited).toBe(0);

    const [stored] = await db.setup<{ rows: string; distinct: string }[]>`
      select count(*)::text as rows, count(distinct bid_id)::text as distinct from auction_outcomes`;
    expect(stored).toEqual({ rows: String(UNIQUE), distinct: String(UNIQUE) });
    const wins = Array.from({ length: UNIQUE }, (_, i) => i).filter((i) => i % 3 !== 0).length;
    const [rolled] = await db.setup<{ outcomes: string; win: string }[]>`
      select sum(outcomes)::text as outcomes, trim_scale(sum(win_price_sum))::text as win from outcome_rollup_hourly`;
    expect(rolled).toEqual({ outcomes: String(UNIQUE), win: String(wins * 0.5) });
    const [letters] = await db.setup<{ n: string; positions: string }[]>`
      select count(*)::text as n, count(distinct ("partition", "offset"))::text as positions from dead_letters where topic = ${topic}`;
    expect(letters).toEqual({ n: String(invalid), positions: String(invalid) });
  });
});
