// The pure parts of the one ingest step: messages → batch input, the retry backoff, and the
// collection policy (the step against PostgreSQL is tested through every source).
import { describe, expect, test } from "bun:test";
import type { KafkaMessage } from "kafkajs";
import { toBatchInput } from "../../src/ingest/ingest-step";
import { kafkaSources } from "../../src/ingest/kafka/consumer";
import { collectEvery } from "../../src/ingest/memory-pressure";
import { retryDelayMs } from "../../src/ingest/retry";

describe("toBatchInput", () => {
  const kafkaMessage = (offset: string, value: string | null, key: string | null = null): KafkaMessage =>
    ({
      offset,
      key: key === null ? null : Buffer.from(key),
      value: value === null ? null : Buffer.from(value),
      timestamp: "1761393600123",
      attributes: 0,
      headers: {},
    }) as KafkaMessage;

  test("splits messages into rows and rejections, each with its source position and bytes", () => {
    const input = toBatchInput(
      kafkaSources("t", 3, [kafkaMessage("7", '{"bid_id":"b-1"}', "b-1"), kafkaMessage("8", "oops"), kafkaMessage("9", null, "gone")]),
    );
    expect(input.rows).toHaveLength(1);
    expect(input.rows[0]!.row.bid_id).toBe("b-1");
    // No auction time in the message: the record's timestamp, the same on every delivery.
    expect(input.rows[0]!.row.timestamp).toBe("2025-10-25T12:00:00.123+00:00");
    expect(input.rows[0]!.source.timestamp).toBe("2025-10-25T12:00:00.123Z");
    expect(input.rows[0]!.source).toMatchObject({ topic: "t", partition: 3, offset: "7" });
    expect(Buffer.from(input.rows[0]!.source.key!).toString()).toBe("b-1");
    expect(input.rejections.map((r) => [r.source.offset, r.reason])).toEqual([
      ["8", expect.stringMatching(/^value is not valid JSON/)],
      ["9", "message has no value (a tombstone or an empty record)"],
    ]);
    expect(Buffer.from(input.rejections[0]!.source.payload!).toString()).toBe("oops");
  });
});

describe("toBatchInput with a message its source could not read", () => {
  test("dead-letters it with the source's reason and never maps it", () => {
    const source = { topic: "ingest-file:/f", partition: 0, offset: "9", key: null, payload: new TextEncoder().encode('{"bid_id":"b-9"'), timestamp: null };
    const input = toBatchInput([{ ...source, unreadable: "value is 2000000 bytes, over the 1 MiB limit" }]);
    expect(input.rows).toEqual([]);
    expect(input.rejections.map((r) => [r.source.offset, r.reason])).toEqual([["9", "value is 2000000 bytes, over the 1 MiB limit"]]);
  });
});

describe("retryDelayMs", () => {
  const policy = { initialMs: 250, maxMs: 15_000 };

  test("doubles from the initial delay and stops at the cap", () => {
    const middle = () => 0.5; // no jitter
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => retryDelayMs(attempt, policy, middle))).toEqual([250, 500, 1000, 2000, 4000, 8000, 15_000, 15_000]);
  });

  test("jitters by ±20 %", () => {
    expect(retryDelayMs(3, policy, () => 0)).toBe(800);
    expect(retryDelayMs(3, policy, () => 0.999999)).toBe(1200);
  });
});

describe("collectEvery", () => {
  test("collects once per threshold of consumed bytes, and not at all without a collector", () => {
    let collections = 0;
    const memory = collectEvery(1_000, () => void collections++);
    for (const bytes of [400, 400, 199]) memory.consumed(bytes);
    expect(collections).toBe(0);
    memory.consumed(1);
    expect(collections).toBe(1);
    memory.consumed(5_000); // one big batch: one collection, the count starts again
    expect(collections).toBe(2);
    expect(() => collectEvery(1, null).consumed(10)).not.toThrow();
  });
});
