// The consumer process's health port: /metrics counters move by exactly what was produced,
// /healthz and /readyz answer as the probes of k8s/consumer-deployment.yaml expect, and /readyz
// turns 503 while the database is unavailable (idle, then with writes retrying) and 200 after.
import { describe, expect, test } from "bun:test";
import { sampleOutcome } from "../../../src/ingest/kafka/produce-sample";
import { type ConsumerRoleProcess, consumerTestbed, kafkaEnv, spawnConsumer, stopLine } from "../../support/consumer";
import { createTopic, endOffsets, produce, type TestMessage, waitForCommittedToEnd } from "../../support/kafka";
import { scrapeMetrics, series, total } from "../../support/metrics";
import { waitFor } from "../../support/wait";

const bed = consumerTestbed("consumer_metrics");

const PARTITIONS = 3;
const VALID = 420;
const DUPLICATES = 37;
/** One of each kind of unusable message the mapping refuses. */
const INVALID_VALUES: (string | null)[] = [
  "not json",
  "[]",
  '{"user_id":"no-bid-id"}',
  '{"bid_request_id":"bad-price","win_status":true,"win_price":"abc","bid_price":1}',
  '{"bid_request_id":"negative","win_status":true,"win_price":-1,"bid_price":1}',
  '{"bid_request_id":"bad-ts","timestamp":"yesterday"}',
  null,
];

function valid(prefix: string, count: number): TestMessage[] {
  return Array.from({ length: count }, (_, i) => {
    const outcome = sampleOutcome(`${prefix}-${i}`);
    return { key: outcome.bid_request_id as string, value: JSON.stringify(outcome) };
  });
}

async function get(port: number, path: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.json() };
}

async function countRows(): Promise<number> {
  const [row] = await bed.db.sql<{ count: string }[]>`select count(*) as count from auction_outcomes`;
  return Number(row!.count);
}

const savedLines = (consumer: ConsumerRoleProcess) => consumer.lines.filter((l) => l.message === "Auction outcomes saved");

describe("consumer health port", () => {
  let consumer: ConsumerRoleProcess;
  let topic: string;
  let group: string;

  test("counts exactly the valid, invalid and duplicate messages produced, per partition, with matching batch histograms and lag", async () => {
    topic = await createTopic("metrics", PARTITIONS);
    const env = kafkaEnv(topic);
    group = env.KAFKA_CONSUMER_GROUP;
    const originals = valid("metrics", VALID);
    // Duplicates: the same record again (same key, so the same partition), some spread in later sends.
    const duplicates = originals.filter((_, i) => i % 11 === 3).slice(0, DUPLICATES);
    expect(duplicates).toHaveLength(DUPLICATES);
    const invalid = INVALID_VALUES.map((value, i) => ({ key: `invalid-${i}`, value }));
    await produce(topic, [...originals.slice(0, 200), ...invalid.slice(0, 3), ...duplicates.slice(0, 20)]);
    await produce(topic, [...originals.slice(200), ...invalid.slice(3), ...duplicates.slice(20)]);
    const produced = VALID + INVALID_VALUES.length + DUPLICATES;

    consumer = spawnConsumer(bed.db.url, env, ["--lag-interval", "300"]);
    bed.processes.push(consumer);
    await waitForCommittedToEnd(group, topic, 40_000);
    const ends = await endOffsets(topic);

    // The lag is measured every 300 ms: wait until a measurement saw every partition fully committed.
    const metrics = await waitFor(
      "a lag measurement of 0 on every partition",
      async () => {
        const samples = await scrapeMetrics(consumer.healthPort);
        const lags = series(samples, "consumer_lag_messages", { topic });
        return lags.length === PARTITIONS && lags.every((s) => s.value === 0) ? samples : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );

    const sum = (name: string, labels: Record<string, string> = {}) => total(metrics, name, labels);
    expect(sum("consumer_messages_consumed_total", { topic })).toBe(produced);
    expect(sum("consumer_messages_stored_total", { topic })).toBe(VALID);
    expect(sum("consumer_messages_duplicate_total", { topic })).toBe(DUPLICATES);
    expect(sum("consumer_messages_invalid_total", { topic })).toBe(INVALID_VALUES.length);
    for (const [partition, end] of Object.entries(ends)) {
      // Every offset of a partition was consumed once, and its committed offset is its end.
      expect({ partition, consumed: sum("consumer_messages_consumed_total", { topic, partition }) }).toEqual({ partition, consumed: Number(end) });
      expect({ partition, committed: sum("consumer_committed_offset", { topic, partition }) }).toEqual({ partition, committed: Number(end) });
    }

    const batches = savedLines(consumer);
    expect(sum("consumer_batch_size_messages_count")).toBe(batches.length);
    expect(sum("consumer_batch_size_messages_sum")).toBe(produced);
    expect(sum("consumer_batch_size_messages_bucket", { le: "+Inf" })).toBe(batches.length);
    expect(sum("consumer_batch_duration_seconds_count")).toBe(batches.length);
    const loggedSeconds = batches.reduce((s, l) => s + (l.duration_ms as number), 0) / 1000;
    expect(sum("consumer_batch_duration_seconds_sum")).toBeCloseTo(loggedSeconds, 2);
    expect(sum("consumer_db_retries_total")).toBe(0);
    expect(sum("consumer_last_batch_timestamp_seconds")).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(sum("consumer_lag_measured_timestamp_seconds")).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(sum("process_resident_memory_bytes")).toBeGreaterThan(0);

    expect(await countRows()).toBe(VALID);
    const [letters] = await bed.db.sql<{ count: string }[]>`select count(*) as count from dead_letters`;
    expect(Number(letters!.count)).toBe(INVALID_VALUES.length);
    // The lag report also went to the table the API's ingest status reads.
    const lagRows = await bed.db.sql<{ partition: number; committed_offset: string; high_watermark: string; lag: string }[]>`
      select "partition", committed_offset::text, high_watermark::text, lag::text from consumer_lag
      where group_id = ${group} and topic = ${topic} order by "partition"`;
    expect(lagRows.map((r) => ({ ...r }))).toEqual(
      Object.entries(ends).map(([partition, end]) => ({ partition: Number(partition), committed_offset: end, high_watermark: end, lag: "0" })),
    );
  }, 60_000);

  test("answers /healthz and /readyz with 200 while consuming, and serves the Prometheus content type", async () => {
    expect(await get(consumer.healthPort, "/healthz")).toEqual({ status: 200, body: { status: "ok" } });
    expect(await get(consumer.healthPort, "/readyz")).toEqual({ status: 200, body: { status: "ready" } });
    const response = await fetch(`http://127.0.0.1:${consumer.healthPort}/metrics`);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(await response.text()).toContain("# TYPE consumer_batch_duration_seconds histogram");
    expect((await fetch(`http://127.0.0.1:${consumer.healthPort}/nothing`)).status).toBe(404);
  });

  test("/readyz turns 503 while the database is unavailable, idle and then retrying writes, and 200 once it is back", async () => {
    const port = consumer.healthPort;
    await bed.admin`alter database ${bed.admin(bed.db.name)} allow_connections false`;
    await bed.admin`
      select pg_terminate_backend(pid) from pg_stat_activity
      where datname = ${bed.db.name} and application_name = 'helios-analytics-consumer'`;
    // Idle: no batch proves the database answers any more, so readiness asks it (after 10 s at most).
    const idle = await waitFor(
      "/readyz 503 while idle",
      async () => {
        const answer = await get(port, "/readyz");
        return answer.status === 503 ? answer : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    expect(idle.body.status).toBe("unavailable");
    expect(idle.body.reason).toStartWith("database unavailable: ");
    expect(await get(port, "/healthz")).toEqual({ status: 200, body: { status: "ok" } });

    // Messages arrive during the outage: their writes fail and are retried.
    const more = valid("metrics-outage", 60);
    await produce(topic, more);
    const retrying = await waitFor(
      "/readyz naming the retried writes",
      async () => {
        const answer = await get(port, "/readyz");
        return answer.status === 503 && String(answer.body.reason).startsWith("database writes failing, retrying: ") ? answer : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    expect(retrying.body.status).toBe("unavailable");
    const during = await scrapeMetrics(port);
    expect(total(during, "consumer_db_retries_total")).toBeGreaterThan(0);
    expect(total(during, "consumer_messages_stored_total", { topic })).toBe(VALID);

    await bed.admin`alter database ${bed.admin(bed.db.name)} allow_connections true`;
    await waitForCommittedToEnd(group, topic, 40_000);
    await waitFor("/readyz 200 again", async () => (await get(port, "/readyz")).status === 200, { timeoutMs: 20_000, intervalMs: 200 });

    const after = await scrapeMetrics(port);
    expect(total(after, "consumer_messages_stored_total", { topic })).toBe(VALID + more.length);
    expect(total(after, "consumer_messages_invalid_total", { topic })).toBe(INVALID_VALUES.length);
    expect(total(after, "consumer_messages_consumed_total", { topic })).toBe(VALID + INVALID_VALUES.length + DUPLICATES + more.length);
    // A retried write is counted once when it commits, never stored twice.
    const [stored, duplicate, invalid] = ["stored", "duplicate", "invalid"].map((kind) => total(after, `consumer_messages_${kind}_total`, { topic })!);
    expect(total(after, "consumer_messages_consumed_total", { topic })).toBe(stored! + duplicate! + invalid!);
    expect(duplicate).toBe(DUPLICATES);
    const retries = consumer.lines.filter((l) => l.message === "Database write failed, retrying batch").length;
    expect(total(after, "consumer_db_retries_total")).toBe(retries);
    expect(await countRows()).toBe(VALID + more.length);

    consumer.proc.kill("SIGTERM");
    expect(await consumer.exited).toBe(0);
    expect(stopLine(consumer.lines)).toMatchObject({ reason: "signal", success_count: VALID + more.length, error_count: INVALID_VALUES.length });
  }, 90_000);
});
