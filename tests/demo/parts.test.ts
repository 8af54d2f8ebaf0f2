// The demo's pure parts: its options, its pacing, and how generated messages become a batch.
import { describe, expect, test } from "bun:test";
import { UsageError } from "../../src/cli/options";
import { DEFAULT_RATE, DEFAULT_SEED, parseDemoArgs } from "../../src/demo/demo-args";
import { usesExternalDatabase } from "../../src/demo/demo-database";
import { demoGenerator, demoSources } from "../../src/demo/demo-feed";
import { originalOutcomeIndexes } from "../../src/demo/feed-position";
import { messagesDue } from "../../src/demo/pacing";
import { toBatchInput } from "../../src/ingest/ingest-step";

describe("parseDemoArgs", () => {
  test("defaults to 300 outcomes per second, in memory, no Kafka, seed 8, no request lines, progress every 30 s", () => {
    expect(parseDemoArgs([])).toEqual({ rate: DEFAULT_RATE, kafka: false, seed: DEFAULT_SEED, logRequests: false, progressIntervalS: 30 });
    expect(DEFAULT_RATE).toBe(300);
  });

  test("reads every option in both spellings", () => {
    expect(parseDemoArgs(["--rate", "50", "--data-dir=/tmp/x", "--port=9000", "--kafka", "--seed", "3", "--log-requests", "--progress-interval=5"])).toEqual({
      rate: 50,
      dataDir: "/tmp/x",
      port: 9000,
      kafka: true,
      seed: 3,
      logRequests: true,
      progressIntervalS: 5,
    });
  });

  test.each([
    [["--rate", "0"], 'Invalid --rate "0": expected an integer from 1 to 20000.'],
    [["--rate", "fast"], 'Invalid --rate "fast": expected an integer from 1 to 20000.'],
    [["--port", "70000"], 'Invalid --port "70000": expected an integer from 1 to 65535.'],
    [["--data-dir"], "Missing value for --data-dir: expected a directory."],
    [["--kafka=yes"], '--kafka takes no value (got "--kafka=yes").'],
    [["--progress-interval", "0"], 'Invalid --progress-interval "0": expected seconds, an integer from 1 to 3600.'],
    [["--log-requests=no"], '--log-requests takes no value (got "--log-requests=no").'],
    [["--speed", "2"], 'Unknown option "--speed": expected --rate, --data-dir, --port, --kafka, --seed, --log-requests, --progress-interval.'],
  ])("refuses %j with a usage error naming the option", (args, message) => {
    expect(() => parseDemoArgs(args)).toThrow(new UsageError(message));
  });
});

describe("usesExternalDatabase", () => {
  test("is true when DATABASE_URL or DB_HOST is set, and blank values do not count", () => {
    expect(usesExternalDatabase({})).toBe(false);
    expect(usesExternalDatabase({ DATABASE_URL: " ", DB_HOST: "" })).toBe(false);
    expect(usesExternalDatabase({ DATABASE_URL: "postgres://db/x" })).toBe(true);
    expect(usesExternalDatabase({ DB_HOST: "db" })).toBe(true);
  });
});

describe("messagesDue", () => {
  test("sends the rate per second and carries the fraction over", () => {
    expect(messagesDue(0, 300, 200)).toEqual({ count: 60, budget: 0 });
    const first = messagesDue(0, 7, 200);
    expect(first.count).toBe(1);
    expect(first.budget).toBeCloseTo(0.4, 12);
    const second = messagesDue(first.budget, 7, 100);
    expect(second.count).toBe(1);
    expect(second.budget).toBeCloseTo(0.1, 12);
  });

  test("never sends more than one second's worth after a stall", () => {
    expect(messagesDue(0, 300, 60_000)).toEqual({ count: 300, budget: 0 });
  });
});

describe("demoSources", () => {
  const generator = demoGenerator(DEFAULT_SEED, () => Date.UTC(2026, 0, 1, 12));
  const messages = [...generator.messages(0, 400)];
  const batch = toBatchInput(demoSources(messages, "2026-01-01T12:00:01Z"));

  test("keeps each message's position as topic demo, partition 0, offset = its index", () => {
    const sources = [...batch.rows.map((row) => row.source), ...batch.rejections.map((rejection) => rejection.source)];
    expect(sources.map((source) => Number(source.offset)).sort((a, b) => a - b)).toEqual(messages.map((message) => message.index));
    expect(new Set(sources.map((source) => `${source.topic}/${source.partition}`))).toEqual(new Set(["demo/0"]));
  });

  test("turns every invalid message into a rejection with a reason and its payload", () => {
    const invalid = messages.filter((message) => message.kind === "invalid");
    expect(invalid.length).toBeGreaterThan(0);
    expect(batch.rejections.map((rejection) => rejection.source.offset)).toEqual(invalid.map((message) => String(message.index)));
    for (const rejection of batch.rejections) {
      expect(rejection.reason.length).toBeGreaterThan(0);
      expect(rejection.source.payload!.byteLength).toBeGreaterThan(0);
    }
  });

  test("sends a redelivery with the bid id of the outcome it repeats", () => {
    const redelivery = messages.find((message) => message.kind === "outcome" && message.duplicateOf !== null);
    expect(redelivery).toBeDefined();
    const row = batch.rows.find((pending) => pending.source.offset === String(redelivery!.index))!;
    expect(row.row.bid_id).toBe(generator.outcomeAt((redelivery as { duplicateOf: number }).duplicateOf).bid_request_id);
  });
});

describe("originalOutcomeIndexes", () => {
  test("maps the bid id of every first delivery to its index, and leaves out redeliveries and invalid messages", () => {
    const generator = demoGenerator(DEFAULT_SEED);
    const byId = originalOutcomeIndexes(generator, 100, 300);
    const originals = [...generator.messages(100, 300)].filter((message) => message.kind === "outcome" && message.duplicateOf === null);
    expect([...byId.values()]).toEqual(originals.map((message) => message.index));
    for (const [id, index] of byId) expect(generator.outcomeAt(index).bid_request_id).toBe(id);
  });
});
