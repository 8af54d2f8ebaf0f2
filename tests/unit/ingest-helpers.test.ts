// The pure parts of ingest: lag arithmetic, backoff, command-line options, message → batch input,
// and how dead letter bytes are shown.
import { describe, expect, test } from "bun:test";
import type { KafkaMessage } from "kafkajs";
import { lagByPartition, lagRows, partitionLag } from "../../src/ingest/consumer-lag";
import { retryDelayMs, toBatchInput } from "../../src/ingest/kafka-consumer";
import { parseConsumerArgs, parseProduceArgs, UsageError } from "../../src/ingest/cli-args";
import { keyOfLine, sampleOutcome } from "../../src/ingest/produce-sample";
import { renderBytes } from "../../src/deadletters/dead-letters.render";
import { isPostgresClosedSocketRace } from "../../src/ingest/consumer-role";
import { parseOutcomeMessage } from "../../src/outcomes/outcome.mapping";

describe("partitionLag", () => {
  test("is the high-water mark minus the committed offset, per partition in partition order, with both offsets", () => {
    expect(partitionLag(
      [{ partition: 1, high: "120", low: "0" }, { partition: 0, high: "50", low: "0" }],
      [{ partition: 0, offset: "50" }, { partition: 1, offset: "100" }],
    )).toEqual([
      { partition: 0, committedOffset: "50", highWatermark: "50", lag: 0 },
      { partition: 1, committedOffset: "100", highWatermark: "120", lag: 20 },
    ]);
  });

  test("counts from the low offset when nothing was committed (-1, reported as null) or retention deleted past the commit", () => {
    expect(partitionLag(
      [{ partition: 0, high: "100", low: "40" }, { partition: 1, high: "10", low: "5" }, { partition: 2, high: "7", low: "0" }],
      [{ partition: 0, offset: "-1" }, { partition: 1, offset: "2" }],
    )).toEqual([
      { partition: 0, committedOffset: null, highWatermark: "100", lag: 60 },
      { partition: 1, committedOffset: "2", highWatermark: "10", lag: 5 },
      { partition: 2, committedOffset: null, highWatermark: "7", lag: 7 },
    ]);
  });

  test("keeps offsets past 2^53 exact as text", () => {
    const [entry] = partitionLag([{ partition: 0, high: "9007199254740995", low: "0" }], [{ partition: 0, offset: "9007199254740993" }]);
    expect(entry).toEqual({ partition: 0, committedOffset: "9007199254740993", highWatermark: "9007199254740995", lag: 2 });
  });
});

describe("lagByPartition and lagRows", () => {
  const lags = [
    { partition: 0, committedOffset: null, highWatermark: "4", lag: 4 },
    { partition: 1, committedOffset: "9", highWatermark: "9", lag: 0 },
  ];

  test("give the log line's lag by partition and the consumer_lag rows of one group", () => {
    expect(lagByPartition(lags)).toEqual({ "0": 4, "1": 0 });
    expect(lagRows("g", "t", lags)).toEqual([
      { groupId: "g", topic: "t", partition: 0, committedOffset: null, highWatermark: "4", lag: 4 },
      { groupId: "g", topic: "t", partition: 1, committedOffset: "9", highWatermark: "9", lag: 0 },
    ]);
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

describe("parseConsumerArgs", () => {
  test("reads --max-messages, --timeout and --lag-interval, spaced or with =", () => {
    expect(parseConsumerArgs([])).toEqual({});
    expect(parseConsumerArgs(["--max-messages", "100", "--timeout=1000", "--lag-interval", "5000"])).toEqual({ maxMessages: 100, timeoutMs: 1000, lagIntervalMs: 5000 });
  });

  test("refuses unknown options and values that are not positive integers, naming them", () => {
    expect(() => parseConsumerArgs(["--max-messages"])).toThrow(new UsageError('Invalid --max-messages "": expected a number of messages ≥ 1.'));
    expect(() => parseConsumerArgs(["--timeout", "-5"])).toThrow('Invalid --timeout "-5": expected milliseconds ≥ 1.');
    expect(() => parseConsumerArgs(["--max-messages=0"])).toThrow('Invalid --max-messages "0"');
    expect(() => parseConsumerArgs(["--from-beginning"])).toThrow('Unknown option "--from-beginning": expected --max-messages, --timeout, --lag-interval.');
  });
});

describe("parseProduceArgs", () => {
  test("defaults to 10 generated outcomes and reads --count, --file and --topic", () => {
    expect(parseProduceArgs([])).toEqual({ count: 10 });
    expect(parseProduceArgs(["--count", "5", "--file=/tmp/a=b.ndjson", "--topic", "t"])).toEqual({ count: 5, file: "/tmp/a=b.ndjson", topic: "t" });
  });

  test("refuses unknown options, missing values and bad counts", () => {
    expect(() => parseProduceArgs(["--nope", "1"])).toThrow('Unknown option "--nope"');
    expect(() => parseProduceArgs(["--file"])).toThrow("Missing value for --file.");
    expect(() => parseProduceArgs(["--count", "many"])).toThrow('Invalid --count "many": expected a number ≥ 1.');
  });
});

describe("sample outcomes", () => {
  test("look like the reference message and map to a row", () => {
    const outcome = sampleOutcome("sample-1", new Date("2025-10-25T12:00:00.123Z"), () => 0.1);
    expect(outcome).toMatchObject({ bid_request_id: "sample-1", currency: "USD", win_status: true, auction_timestamp: "2025-10-25T12:00:00.173Z" });
    expect(outcome.timestamp).toBe("2025-10-25T12:00:00.123100+00:00");
    expect(outcome.win_price).toBe(outcome.bid_price);
    const parsed = parseOutcomeMessage(new TextEncoder().encode(JSON.stringify(outcome)), "2000-01-01T00:00:00Z");
    expect(parsed.ok).toBe(true);
  });

  test("an NDJSON line is keyed by its bid_request_id, else bid_id, else no key", () => {
    expect(keyOfLine('{"bid_request_id":"r-1","bid_id":"b-1"}')).toBe("r-1");
    expect(keyOfLine('{"bid_id":"b-1"}')).toBe("b-1");
    expect(keyOfLine("not json")).toBeNull();
    expect(keyOfLine("[1]")).toBeNull();
  });
});

describe("toBatchInput", () => {
  const kafkaMessage = (offset: string, value: string | null, key: string | null = null): KafkaMessage =>
    ({ offset, key: key === null ? null : Buffer.from(key), value: value === null ? null : Buffer.from(value), timestamp: "0", attributes: 0, headers: {} }) as KafkaMessage;

  test("splits messages into rows and rejections, each with its source position and bytes", () => {
    const input = toBatchInput("t", 3, [kafkaMessage("7", '{"bid_id":"b-1"}', "b-1"), kafkaMessage("8", "oops"), kafkaMessage("9", null, "gone")], "2025-10-25T00:00:00Z");
    expect(input.rows).toHaveLength(1);
    expect(input.rows[0]!.row.bid_id).toBe("b-1");
    expect(input.rows[0]!.source).toMatchObject({ topic: "t", partition: 3, offset: "7" });
    expect(Buffer.from(input.rows[0]!.source.key!).toString()).toBe("b-1");
    expect(input.rejections.map((r) => [r.source.offset, r.reason])).toEqual([
      ["8", expect.stringMatching(/^value is not valid JSON/)],
      ["9", "message has no value (a tombstone or an empty record)"],
    ]);
    expect(Buffer.from(input.rejections[0]!.source.payload!).toString()).toBe("oops");
  });
});

describe("renderBytes", () => {
  test("shows UTF-8 as text, anything else as base64, and nothing as null", () => {
    expect(renderBytes(Buffer.from("héllo"))).toEqual({ text: "héllo", encoding: "utf-8" });
    expect(renderBytes(new Uint8Array([0xff, 0x00]))).toEqual({ text: "/wA=", encoding: "base64" });
    expect(renderBytes(null)).toEqual({ text: null, encoding: null });
  });
});

describe("isPostgresClosedSocketRace", () => {
  test("recognises only postgres.js's write on a closed socket", () => {
    const race = new TypeError("null is not an object (evaluating 'socket.write')");
    race.stack = `${race.message}\n    at nextWrite (/app/node_modules/postgres/src/connection.js:255:15)`;
    expect(isPostgresClosedSocketRace(race)).toBe(true);
    const elsewhere = new TypeError("null is not an object (evaluating 'socket.write')");
    elsewhere.stack = `${elsewhere.message}\n    at write (/app/src/ingest/kafka-consumer.ts:10:1)`;
    expect(isPostgresClosedSocketRace(elsewhere)).toBe(false);
    expect(isPostgresClosedSocketRace(new Error("socket"))).toBe(false);
  });
});
