// Command-line options of the Kafka roles, and the sample outcomes produce-sample sends.
import { describe, expect, test } from "bun:test";
import { UsageError } from "../../../src/cli/options";
import { parseConsumerArgs } from "../../../src/ingest/kafka/consumer-args";
import { keyOfLine, parseProduceArgs, sampleOutcome } from "../../../src/ingest/kafka/produce-sample";
import { parseOutcomeMessage } from "../../../src/outcomes/outcome.mapping";

describe("parseConsumerArgs", () => {
  test("reads --max-messages, --timeout and --lag-interval, spaced or with =", () => {
    expect(parseConsumerArgs([])).toEqual({});
    expect(parseConsumerArgs(["--max-messages", "100", "--timeout=1000", "--lag-interval", "5000"])).toEqual({
      maxMessages: 100,
      timeoutMs: 1000,
      lagIntervalMs: 5000,
    });
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
    expect(() => parseProduceArgs(["--file"])).toThrow("Missing value for --file: expected an NDJSON file, one message value a line.");
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
