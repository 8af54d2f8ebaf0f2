// The consumer's health decisions and metrics bookkeeping, from its figures alone (the real
// process is tested in consumer-metrics.test.ts).
import { describe, expect, test } from "bun:test";
import { type BatchReport, type ConsumerStats, createConsumerStats } from "../../../src/ingest/kafka/consumer";
import { consumerHealthHandler, consumerLiveness, consumerReadiness, DATABASE_FRESH_MS } from "../../../src/ingest/kafka/consumer-health";
import { createConsumerMetrics } from "../../../src/ingest/kafka/consumer-metrics";
import { renderMetrics } from "../../../src/metrics/registry";
import { parseMetrics, total } from "../../support/metrics";

const NOW = 1_800_000_000_000;
const running = (changes: Partial<ConsumerStats> = {}): ConsumerStats => ({
  ...createConsumerStats(),
  state: "running",
  inGroup: true,
  dbAnsweredAt: NOW - 1_000,
  ...changes,
});

describe("consumerReadiness", () => {
  test("is ready in the group with a database answer fresher than 10 s", () => {
    expect(consumerReadiness(running(), NOW)).toEqual({ ready: true });
    expect(consumerReadiness(running({ dbAnsweredAt: NOW - DATABASE_FRESH_MS }), NOW)).toEqual({ ready: true });
  });

  test("asks the database itself when its last answer is older, or there was none yet", () => {
    expect(consumerReadiness(running({ dbAnsweredAt: NOW - DATABASE_FRESH_MS - 1 }), NOW)).toEqual({ ready: "ask-database" });
    expect(consumerReadiness(running({ dbAnsweredAt: null }), NOW)).toEqual({ ready: "ask-database" });
  });

  test("is not ready, saying why, while starting, outside the group, retrying writes or stopping", () => {
    expect(consumerReadiness(running({ state: "starting", inGroup: false }), NOW)).toEqual({ ready: false, reason: "starting: connecting to Kafka" });
    expect(consumerReadiness(running({ inGroup: false }), NOW)).toEqual({
      ready: false,
      reason: "not a member of the consumer group (joining, or rejoining after a Kafka failure)",
    });
    expect(consumerReadiness(running({ state: "retrying", dbError: "connect ECONNREFUSED 127.0.0.1:5432" }), NOW)).toEqual({
      ready: false,
      reason: "database writes failing, retrying: connect ECONNREFUSED 127.0.0.1:5432",
    });
    expect(consumerReadiness(running({ state: "stopping" }), NOW)).toEqual({ ready: false, reason: "stopping" });
  });
});

describe("consumerLiveness", () => {
  test("is live until the consume loop has stopped", () => {
    for (const state of ["starting", "running", "retrying", "stopping"] as const) expect(consumerLiveness(running({ state }))).toEqual({ live: true });
    expect(consumerLiveness(running({ state: "stopped" }))).toEqual({ live: false, reason: "the consume loop has stopped" });
  });
});

describe("consumerHealthHandler", () => {
  const handler = (stats: ConsumerStats, ping: () => Promise<void>) =>
    consumerHealthHandler({ port: 0, stats, registry: createConsumerMetrics(stats, "t").registry, pingDatabase: ping });
  const call = async (h: ReturnType<typeof handler>, path: string, method = "GET") => {
    const response = await h(new Request(`http://consumer${path}`, { method }));
    return { status: response.status, body: await response.json() };
  };

  test("answers /readyz from a ping when no batch is recent, 503 with the database's error when it fails", async () => {
    let pings = 0;
    const stale = running({ dbAnsweredAt: null });
    expect(
      await call(
        handler(stale, async () => void pings++),
        "/readyz",
      ),
    ).toEqual({ status: 200, body: { status: "ready" } });
    expect(pings).toBe(1);
    expect(
      await call(
        handler(stale, () => Promise.reject(new Error("database ping timed out after 1500 ms"))),
        "/readyz",
      ),
    ).toEqual({
      status: 503,
      body: { status: "unavailable", reason: "database unavailable: database ping timed out after 1500 ms" },
    });
    // Fresh: no ping at all.
    expect(
      await call(
        handler(running(), async () => void pings++),
        "/readyz",
      ),
    ).toEqual({ status: 200, body: { status: "ready" } });
    expect(pings).toBe(1);
  });

  test("answers /healthz 503 once stopped, 404 elsewhere and 405 to other methods", async () => {
    const h = handler(running({ state: "stopped" }), async () => {});
    expect(await call(h, "/healthz")).toEqual({ status: 503, body: { status: "stopped", reason: "the consume loop has stopped" } });
    expect(await call(h, "/api/outcomes/")).toEqual({ status: 404, body: { detail: "Not found." } });
    expect(await call(h, "/api/outcomes/", "POST")).toEqual({ status: 404, body: { detail: "Not found." } });
  });

  test("answers another method on a path it serves 405 with Allow: GET, HEAD and a body naming both", async () => {
    const h = handler(running(), async () => {});
    for (const path of ["/healthz", "/readyz", "/metrics", "/metrics/"]) {
      for (const method of ["POST", "DELETE", "PUT", "OPTIONS"]) {
        const response = await h(new Request(`http://consumer${path}`, { method }));
        expect({ path, method, status: response.status, allow: response.headers.get("allow"), body: await response.json() }).toEqual({
          path,
          method,
          status: 405,
          allow: "GET, HEAD",
          body: { detail: `Method "${method}" not allowed: this path accepts GET, HEAD.` },
        });
      }
    }
    expect((await h(new Request("http://consumer/healthz", { method: "HEAD" }))).status).toBe(200);
  });
});

describe("createConsumerMetrics", () => {
  const report = (partition: number, changes: Partial<BatchReport>): BatchReport => ({
    topic: "t",
    partition,
    firstOffset: "0",
    lastOffset: "9",
    messages: 10,
    inserted: 10,
    duplicates: 0,
    invalid: 0,
    tooOld: 0,
    attempts: 1,
    durationMs: 250,
    ...changes,
  });

  test("adds each committed batch to the counters and histograms, and reads gauges from the stats at scrape time", async () => {
    const stats = createConsumerStats();
    const metrics = createConsumerMetrics(stats, "t");
    metrics.observeBatch(report(0, { messages: 10, inserted: 7, duplicates: 2, invalid: 1, tooOld: 1, durationMs: 250 }));
    metrics.observeBatch(report(1, { messages: 4, inserted: 4, durationMs: 1_500 }));
    metrics.observeBatch(report(0, { messages: 3, inserted: 0, duplicates: 3, durationMs: 50 }));
    stats.dbRetries = 5;
    stats.committedOffsets = { "0": "13", "1": "4" };
    stats.lagByPartition = { "0": 2, "1": 0 };
    stats.lagMeasuredAt = 1_700_000_000_000;

    const first = parseMetrics(await renderMetrics(metrics.registry));
    expect(total(first, "consumer_messages_consumed_total", { partition: "0" })).toBe(13);
    expect(total(first, "consumer_messages_consumed_total", { partition: "1" })).toBe(4);
    expect(total(first, "consumer_messages_stored_total")).toBe(11);
    expect(total(first, "consumer_messages_duplicate_total")).toBe(5);
    expect(total(first, "consumer_messages_invalid_total")).toBe(1);
    expect(total(first, "consumer_messages_too_old_total")).toBe(1);
    expect(total(first, "consumer_batch_size_messages_count")).toBe(3);
    expect(total(first, "consumer_batch_size_messages_sum")).toBe(17);
    expect(total(first, "consumer_batch_size_messages_bucket", { le: "10" })).toBe(3);
    expect(total(first, "consumer_batch_size_messages_bucket", { le: "1" })).toBe(0);
    expect(total(first, "consumer_batch_duration_seconds_sum")).toBeCloseTo(1.8, 10);
    expect(total(first, "consumer_batch_duration_seconds_bucket", { le: "0.25" })).toBe(2);
    expect(total(first, "consumer_db_retries_total")).toBe(5);
    expect(total(first, "consumer_committed_offset", { topic: "t", partition: "0" })).toBe(13);
    expect(total(first, "consumer_lag_messages", { topic: "t", partition: "0" })).toBe(2);
    expect(total(first, "consumer_lag_measured_timestamp_seconds")).toBe(1_700_000_000);
    expect(total(first, "consumer_last_batch_timestamp_seconds")).toBe(0);
    expect(total(first, "process_cpu_seconds_total")).toBeGreaterThan(0);

    // Retries keep counting from the stats; a partition the lag check no longer reports disappears.
    stats.dbRetries = 7;
    stats.lagByPartition = { "1": 9 };
    const second = parseMetrics(await renderMetrics(metrics.registry));
    expect(total(second, "consumer_db_retries_total")).toBe(7);
    expect(total(second, "consumer_lag_messages", { partition: "0" })).toBeUndefined();
    expect(total(second, "consumer_lag_messages", { partition: "1" })).toBe(9);
  });
});
