// `bun run src/main.ts consumer` as a real process: --max-messages, --timeout, SIGTERM, exit
// codes and the stop line operators read with jq; and `produce-sample` feeding it.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sampleOutcome } from "../../../src/ingest/kafka/produce-sample";
import { consumerTestbed, kafkaEnv, spawnConsumer, stopLine } from "../../support/consumer";
import { BROKERS, committedOffsets, createTopic, endOffsets, listTopics, missingTopic, partitionCount, produce, type TestMessage } from "../../support/kafka";
import { type ServiceProcess, spawnRole, spawnService } from "../../support/processes";
import { waitFor } from "../../support/wait";

setDefaultTimeout(40_000);

const bed = consumerTestbed("consumer_process", { cleanEach: true });

function spawn(env: ReturnType<typeof kafkaEnv>, args: string[] = []): ServiceProcess {
  const p = spawnConsumer(bed.db.url, env, args);
  bed.processes.push(p);
  return p;
}

const messages = (prefix: string, count: number): TestMessage[] =>
  Array.from({ length: count }, (_, i) => {
    const outcome = sampleOutcome(`${prefix}-${i}`);
    return { key: outcome.bid_request_id as string, value: JSON.stringify(outcome) };
  });

async function countRows(): Promise<number> {
  const [row] = await bed.db.sql<{ count: string }[]>`select count(*) as count from auction_outcomes`;
  return Number(row!.count);
}

const sumOffsets = (offsets: Record<number, string>) => Object.values(offsets).reduce((sum, o) => sum + Math.max(0, Number(o)), 0);

describe("consumer process flags", () => {
  test("--max-messages handles exactly N messages over 2 partitions, commits them and exits 0", async () => {
    const topic = await createTopic("max", 2);
    await produce(topic, [...messages("max", 95), { key: "bad", value: "not json" }, ...messages("max-b", 4)]);
    const env = kafkaEnv(topic);
    const consumer = spawn(env, ["--max-messages", "30"]);
    expect(await consumer.exited).toBe(0);

    expect(consumer.lines.find((l) => l.message === "Max messages reached, stopping consumer")).toMatchObject({ level: "INFO", max_messages: 30 });
    const stopped = stopLine(consumer.lines)!;
    expect(stopped.total_messages).toBe(30);
    expect((stopped.success_count as number) + (stopped.duplicate_count as number) + (stopped.error_count as number)).toBe(30);
    const [letters] = await bed.db.sql<{ count: string }[]>`select count(*) as count from dead_letters`;
    expect(await countRows()).toBe(stopped.success_count as number);
    expect(Number(letters!.count)).toBe(stopped.error_count as number);
    expect(sumOffsets(await committedOffsets(env.KAFKA_CONSUMER_GROUP, topic))).toBe(30);

    // The rest is there for the next run.
    const rest = spawn(env, ["--timeout", "1500"]);
    expect(await rest.exited).toBe(0);
    expect(stopLine(rest.lines)).toMatchObject({ total_messages: 70 });
    expect(await countRows()).toBe(99);
  });

  test("--timeout stops after that long without a new message, with the counters of the run", async () => {
    const topic = await createTopic("timeout", 1);
    await produce(topic, messages("timeout", 40));
    const consumer = spawn(kafkaEnv(topic), ["--timeout=1200"]);
    const exit = await consumer.exited;
    expect(exit).toBe(0);
    const saved = consumer.lines.filter((l) => l.message === "Auction outcomes saved");
    const idle = consumer.lines.find((l) => l.message === "No new message within the timeout, stopping consumer")!;
    expect(idle).toMatchObject({ level: "INFO", timeout_ms: 1200 });
    // Not before 1.2 s after the last batch, and not much later either.
    const waited = Date.parse(idle.timestamp as string) - Date.parse(saved[saved.length - 1]!.timestamp as string);
    expect(waited).toBeGreaterThanOrEqual(1_150);
    expect(waited).toBeLessThan(3_000);
    expect(stopLine(consumer.lines)).toMatchObject({
      level: "INFO",
      reason: "timeout",
      total_messages: 40,
      success_count: 40,
      duplicate_count: 0,
      error_count: 0,
    });
    expect(await countRows()).toBe(40);
  });

  test("refuses an unknown option or a bad number with exit 2 and a message naming it", async () => {
    const env = kafkaEnv("unused-topic");
    const bad = spawn(env, ["--max-messages", "ten"]);
    expect(await bad.exited).toBe(2);
    expect(bad.other.join("\n")).toContain('Invalid --max-messages "ten": expected a number of messages ≥ 1.');
    const unknown = spawn(env, ["--follow"]);
    expect(await unknown.exited).toBe(2);
    expect(unknown.other.join("\n")).toContain('Unknown option "--follow"');
  });
});

describe("consumer process shutdown", () => {
  test("SIGTERM mid-stream exits 0 within 10 s with the stop line matching what was stored and committed", async () => {
    const topic = await createTopic("sigterm", 2);
    await produce(topic, messages("term", 30_000));
    const env = kafkaEnv(topic);
    const consumer = spawn(env);
    await consumer.waitForLine("a first batch saved", (l) => l.message === "Auction outcomes saved", 30_000);
    const signalled = Date.now();
    consumer.proc.kill("SIGTERM");
    expect(await consumer.exited).toBe(0);
    const tookMs = Date.now() - signalled;
    expect(tookMs).toBeLessThan(10_000);

    const messagesLogged = consumer.lines.map((l) => l.message);
    expect(messagesLogged).toContain("Shutting down");
    const stopped = stopLine(consumer.lines)!;
    expect(stopped).toMatchObject({ level: "INFO", reason: "signal", duplicate_count: 0, error_count: 0 });
    expect(stopped.total_messages).toBeGreaterThan(0);
    expect(stopped.total_messages).toBeLessThan(30_000);
    expect(stopped.success_count).toBe(stopped.total_messages);
    // What the line says was handled is exactly what is stored and committed: nothing in between.
    expect(await countRows()).toBe(stopped.success_count as number);
    expect(sumOffsets(await committedOffsets(env.KAFKA_CONSUMER_GROUP, topic))).toBe(stopped.total_messages as number);

    const rest = spawn(env, ["--timeout", "1500"]);
    expect(await rest.exited).toBe(0);
    expect(await countRows()).toBe(30_000);
    expect(stopLine(rest.lines)).toMatchObject({ total_messages: 30_000 - (stopped.total_messages as number), duplicate_count: 0 });
  }, 60_000);
});

describe("consumer process on a missing topic", () => {
  test("exits 1 with a line naming the topic, the brokers and the fix, and creates nothing", async () => {
    const topic = missingTopic("missing");
    const consumer = spawn(kafkaEnv(topic), ["--timeout", "1500"]);
    expect(await consumer.exited).toBe(1);
    const line = consumer.lines.find((l) => l.message === "Kafka consumer could not start")!;
    expect(line).toMatchObject({ level: "ERROR", topic, brokers: BROKERS });
    expect(line.error).toStartWith(`topic "${topic}" does not exist on ${BROKERS.join(",")}. Create it (kafka-topics.sh`);
    expect(line.error).toContain("or set KAFKA_CREATE_TOPIC=true to have the consumer create it at start");
    expect(await listTopics()).not.toContain(topic);
  });

  test("with KAFKA_CREATE_TOPIC=true creates it with the requested partitions at start and consumes it", async () => {
    const topic = missingTopic("created");
    const env = { ...kafkaEnv(topic), KAFKA_CREATE_TOPIC: "true", KAFKA_CREATE_TOPIC_PARTITIONS: "3", KAFKA_CREATE_TOPIC_REPLICATION_FACTOR: "1" };
    const consumer = spawn(env, ["--max-messages", "30"]);
    const created = await consumer.waitForLine("the topic created", (l) => l.message === "Kafka topic created", 30_000);
    expect(created).toMatchObject({ level: "INFO", topic, partitions: 3, replication_factor: 1 });
    expect(await partitionCount(topic)).toBe(3);
    await produce(topic, messages("created", 30));
    expect(await consumer.exited).toBe(0);
    expect(stopLine(consumer.lines)).toMatchObject({ total_messages: 30, success_count: 30 });
    expect(await countRows()).toBe(30);

    // The next start (or a second replica) finds it there: nothing created, no ERROR line about it.
    const again = spawn(env, ["--timeout", "1000"]);
    expect(await again.exited).toBe(0);
    expect(again.lines.map((l) => l.message)).not.toContain("Kafka topic created");
    expect(again.lines.filter((l) => l.level === "ERROR")).toEqual([]);
  });

  test("with KAFKA_CREATE_TOPIC=true and a replication factor the cluster cannot meet, exits 1 giving the broker's reason", async () => {
    const topic = missingTopic("unreplicable");
    const env = { ...kafkaEnv(topic), KAFKA_CREATE_TOPIC: "true", KAFKA_CREATE_TOPIC_REPLICATION_FACTOR: "32767" };
    const consumer = spawn(env);
    expect(await consumer.exited).toBe(1);
    const line = consumer.lines.find((l) => l.message === "Kafka consumer could not start")!;
    expect(line).toMatchObject({ level: "ERROR", topic });
    expect(line.error).toStartWith(`could not create topic "${topic}" ({"partitions":"broker default (num.partitions)","replication_factor":32767}): `);
    expect(line.error).toMatch(/[Rr]eplication/);
  });
});

describe("produce-sample", () => {
  test("creates a missing topic before its first send, and a successful run prints no ERROR and no warning", async () => {
    const topic = missingTopic("fresh");
    // As a user runs it: without the test suite's KAFKAJS_NO_PARTITIONER_WARNING.
    const run = () =>
      spawnService(["bun", "run", "src/main.ts", "produce-sample", "--count", "5"], {
        env: { LOG_LEVEL: "INFO", KAFKA_BROKERS: BROKERS.join(","), KAFKA_TOPIC_AUCTION_OUTCOMES: topic },
        unset: ["KAFKAJS_NO_PARTITIONER_WARNING"],
      });
    const first = run();
    bed.processes.push(first);
    expect(await first.exited).toBe(0);
    const second = run();
    bed.processes.push(second);
    expect(await second.exited).toBe(0);

    for (const producer of [first, second]) {
      // Nothing but JSON lines (a TimeoutNegativeWarning comes with a stack), none of them ERROR or WARN.
      expect(producer.other).toEqual([]);
      expect(producer.lines.filter((l) => l.level !== "INFO" && l.level !== "DEBUG")).toEqual([]);
      expect(producer.lines.find((l) => l.message === "Sample outcomes produced")).toMatchObject({ topic, count: 5 });
    }
    expect(first.lines.find((l) => l.message === "Kafka topic created")).toMatchObject({ topic });
    expect(second.lines.map((l) => l.message)).not.toContain("Kafka topic created");
    expect(Object.values(await endOffsets(topic)).reduce((sum, high) => sum + Number(high), 0)).toBe(10);
  });

  test("produces N sample outcomes keyed by bid_request_id that the consumer stores", async () => {
    const topic = await createTopic("sample", 1);
    const producer = spawnRole("produce-sample", ["--count", "25"], { KAFKA_BROKERS: kafkaEnv(topic).KAFKA_BROKERS, KAFKA_TOPIC_AUCTION_OUTCOMES: topic });
    bed.processes.push(producer);
    expect(await producer.exited).toBe(0);
    expect(producer.lines.find((l) => l.message === "Sample outcomes produced")).toMatchObject({ topic, count: 25, source: "generated" });
    const consumer = spawn(kafkaEnv(topic), ["--timeout", "1500"]);
    expect(await consumer.exited).toBe(0);
    expect(await countRows()).toBe(25);
    const rows = await bed.db.sql<{ bid_id: string; raw_data: { bid_request_id: string } }[]>`select bid_id, raw_data from auction_outcomes`;
    expect(rows.every((row) => row.bid_id === row.raw_data.bid_request_id && /^sample-[a-z0-9]+-\d+$/.test(row.bid_id))).toBe(true);
  });

  test("produces the lines of an NDJSON file as they are, bad lines included", async () => {
    const dir = await mkdtemp(join(tmpdir(), "helios-ndjson-"));
    try {
      const file = join(dir, "outcomes.ndjson");
      await writeFile(
        file,
        ['{"bid_request_id":"file-1","win_status":true,"win_price":1.5,"bid_price":1.5}', "", "not json", '{"bid_id":"file-2"}', ""].join("\n"),
      );
      const topic = await createTopic("ndjson", 1);
      const producer = spawnRole("produce-sample", ["--file", file, "--topic", topic], { KAFKA_BROKERS: kafkaEnv(topic).KAFKA_BROKERS });
      bed.processes.push(producer);
      expect(await producer.exited).toBe(0);
      const consumer = spawn(kafkaEnv(topic), ["--timeout", "1500"]);
      expect(await consumer.exited).toBe(0);
      expect(stopLine(consumer.lines)).toMatchObject({ total_messages: 3, success_count: 2, error_count: 1 });
      expect((await bed.db.sql`select bid_id, win_price::text as win_price from auction_outcomes order by bid_id`).map((r) => ({ ...r }))).toEqual([
        { bid_id: "file-1", win_price: "1.5" },
        { bid_id: "file-2", win_price: "0" },
      ]);
      await waitFor("the dead letter", async () => (await bed.db.sql`select reason from dead_letters`).length === 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
