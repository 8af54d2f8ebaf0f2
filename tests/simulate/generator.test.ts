import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { OutcomeInsert } from "../../src/outcomes/outcome.mapping";
import {
  BID_TIERS,
  COPY_COLUMNS,
  copyField,
  createOutcomeGenerator,
  DEFAULT_START,
  INTERESTS,
  INVALID_KINDS,
  messageValue,
  type OutcomeMessage,
  outcomeJson,
  pythonIsoformat,
  siteDomainOf,
  toCopyRow,
  userIdOf,
} from "../../src/simulate/generator";
import { createTestDatabase, type TestDatabase } from "../support/db";

const SAMPLE = 100_000;
const DAY_MS = 86_400_000;

function outcomes(seed: number, count: number, from = 0): OutcomeMessage[] {
  const generator = createOutcomeGenerator({ seed, spreadOver: count });
  return Array.from({ length: count }, (_, i) => generator.outcomeAt(from + i));
}

function countBy<T>(items: T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

describe("determinism", () => {
  test("the same seed gives byte-identical messages", () => {
    const a = createOutcomeGenerator({ seed: 7 });
    const b = createOutcomeGenerator({ seed: 7 });
    const first = [...a.messages(0, 2_000)].map(messageValue);
    const second = [...b.messages(0, 2_000)].map(messageValue);
    expect(second).toEqual(first);
  });

  test("a message depends only on its index, not on what was generated before it", () => {
    const sequential = [...createOutcomeGenerator({ seed: 7 }).messages(0, 500)].map(messageValue);
    const generator = createOutcomeGenerator({ seed: 7 });
    const backwards = Array.from({ length: 500 }, (_, i) => messageValue(generator.messageAt(499 - i))).reverse();
    expect(backwards).toEqual(sequential);
  });

  test("different seeds give different messages and never the same bid_request_id", () => {
    const a = outcomes(1, 5_000);
    const b = outcomes(2, 5_000);
    const idsOfA = new Set(a.map((m) => m.bid_request_id));
    expect(b.filter((m) => idsOfA.has(m.bid_request_id))).toEqual([]);
    expect(b.map(outcomeJson)).not.toEqual(a.map(outcomeJson));
  });

  test("bid_request_id is unique within a seed", () => {
    const ids = new Set(outcomes(3, SAMPLE).map((m) => m.bid_request_id));
    expect(ids.size).toBe(SAMPLE);
  });
});

describe(`distributions over ${SAMPLE.toLocaleString("en")} messages`, () => {
  const sample = outcomes(42, SAMPLE);

  test("about 70% of bids above 0.30 win, and no bid at or below 0.30 does", () => {
    const above = sample.filter((m) => m.bid_price > 0.3);
    const share = above.filter((m) => m.win_status).length / above.length;
    expect(share).toBeGreaterThan(0.68);
    expect(share).toBeLessThan(0.72);
    expect(sample.filter((m) => m.bid_price <= 0.3 && m.win_status).length).toBe(0);
  });

  test("the auction is first price: a winner pays its bid, a loser 0", () => {
    expect(sample.filter((m) => m.win_price !== (m.win_status ? m.bid_price : 0)).length).toBe(0);
  });

  test("bid prices come from the tiers in roughly their weights", () => {
    const counts = countBy(sample, (m) => String(m.bid_price));
    expect([...counts.keys()].sort()).toEqual(BID_TIERS.map((t) => String(t.price)).sort());
    for (const tier of BID_TIERS) {
      const share = counts.get(String(tier.price))! / SAMPLE;
      expect(Math.abs(share - tier.weight / 100)).toBeLessThan(0.01);
    }
  });

  test("85% are enriched with 0 to 3 distinct interests from the fixed list; the others have none", () => {
    const enriched = sample.filter((m) => m.enriched);
    const share = enriched.length / SAMPLE;
    expect(share).toBeGreaterThan(0.835);
    expect(share).toBeLessThan(0.865);
    expect(sample.filter((m) => !m.enriched && m.user_interests.length > 0).length).toBe(0);
    const sizes = countBy(enriched, (m) => String(m.user_interests.length));
    expect([...sizes.keys()].sort()).toEqual(["0", "1", "2", "3"]);
    const bad = enriched.filter(
      (m) =>
        new Set(m.user_interests).size !== m.user_interests.length ||
        m.user_interests.some((i) => !(INTERESTS as readonly string[]).includes(i)) ||
        (m.winning_interest === null) !== (m.user_interests.length === 0) ||
        (m.winning_interest !== null && !m.user_interests.includes(m.winning_interest)),
    );
    expect(bad).toEqual([]);
  });

  test("timestamps rise through the 90-day window and the auction follows 1 to 50 ms later", () => {
    const start = Date.parse(DEFAULT_START);
    const epochMicros = (text: string) => Date.parse(text) * 1000 + Number((/\.\d{3}(\d{3})/.exec(text) ?? [0, "0"])[1]);
    const micros = sample.map((m) => epochMicros(m.timestamp));
    expect(Math.min(...micros)).toBeGreaterThanOrEqual(start * 1000);
    expect(Math.max(...micros)).toBeLessThan((start + 90 * DAY_MS) * 1000);
    expect(Math.max(...micros) - Math.min(...micros)).toBeGreaterThan(89 * DAY_MS * 1000);
    expect(micros.every((t, i) => i === 0 || t > micros[i - 1]!)).toBe(true);
    const gaps = sample.map((m) => Date.parse(m.auction_timestamp) - Math.floor(Date.parse(m.timestamp.replace(/(\.\d{3})\d{3}/, "$1"))));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(50);
  });

  test("timestamp is Python isoformat with microseconds and auction_timestamp is JavaScript toISOString", () => {
    expect(sample.filter((m) => !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?\+00:00$/.test(m.timestamp))).toEqual([]);
    expect(sample.filter((m) => !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(m.auction_timestamp))).toEqual([]);
    expect(pythonIsoformat(Date.parse("2025-10-25T12:00:00Z") * 1000 + 123_456)).toBe("2025-10-25T12:00:00.123456+00:00");
    // Python leaves the fraction out when it is zero.
    expect(pythonIsoformat(Date.parse("2025-10-25T12:00:00Z") * 1000)).toBe("2025-10-25T12:00:00+00:00");
  });

  test("in live mode the timestamp is the clock's millisecond with random microseconds", () => {
    const now = Date.parse("2026-03-01T10:20:30.456Z");
    const live = createOutcomeGenerator({ seed: 4, clock: () => now + 0.75 });
    const stamps = Array.from({ length: 200 }, (_, i) => live.outcomeAt(i).timestamp);
    expect(stamps.filter((t) => !/^2026-03-01T10:20:30\.456\d{3}\+00:00$/.test(t))).toEqual([]);
    expect(new Set(stamps).size).toBeGreaterThan(100);
  });

  test("users and sites are Zipf-skewed: the rank-1 name is the heaviest, far above the median", () => {
    for (const [key, top] of [
      ["user_id", userIdOf(1)],
      ["site_domain", siteDomainOf(1)],
    ] as const) {
      const counts = countBy(sample, (m) => m[key]!);
      const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1]);
      expect(sorted[0]![0]).toBe(top);
      const median = sorted[Math.floor(sorted.length / 2)]![1];
      expect(sorted[0]![1]).toBeGreaterThan(20 * median);
    }
    expect(new Set(sample.map((m) => m.site_domain)).size).toBeLessThanOrEqual(2_000);
    expect(new Set(Array.from({ length: 2_000 }, (_, i) => siteDomainOf(i + 1))).size).toBe(2_000);
    expect(new Set(Array.from({ length: 100_000 }, (_, i) => userIdOf(i + 1))).size).toBe(100_000);
  });

  test("the fast JSON writer gives exactly JSON.stringify's text", () => {
    expect(sample.slice(0, 20_000).filter((m) => outcomeJson(m) !== JSON.stringify(m))).toEqual([]);
    const awkward: OutcomeMessage = {
      ...sample[0]!,
      user_id: 'quote " backslash \\ tab \t newline \n nul \u0000 line-sep \u2028 lone \ud800 emoji 😀',
      site_domain: undefined,
      user_interests: ['a"b', "c\\d"],
      winning_interest: 'a"b',
    };
    delete awkward.site_domain;
    expect(outcomeJson(awkward)).toBe(JSON.stringify(awkward));
  });
});

describe("fault injection", () => {
  test("is off by default: every message is a first delivery of a valid outcome", () => {
    const messages = [...createOutcomeGenerator({ seed: 9 }).messages(0, 10_000)];
    expect(messages.filter((m) => m.kind !== "outcome" || m.duplicateOf !== null)).toEqual([]);
  });

  test("redelivers earlier outcomes unchanged and emits every kind of invalid payload at the asked rates", () => {
    const clean = createOutcomeGenerator({ seed: 9 });
    const faulty = createOutcomeGenerator({ seed: 9, duplicateRate: 0.05, invalidRate: 0.02 });
    const messages = [...faulty.messages(0, 50_000)];
    const duplicates = messages.filter((m) => m.kind === "outcome" && m.duplicateOf !== null);
    const invalid = messages.filter((m) => m.kind === "invalid");
    expect(invalid.length / 50_000).toBeGreaterThan(0.017);
    expect(invalid.length / 50_000).toBeLessThan(0.023);
    expect(duplicates.length / 50_000).toBeGreaterThan(0.045);
    expect(duplicates.length / 50_000).toBeLessThan(0.055);
    for (const m of duplicates) {
      if (m.kind !== "outcome") continue;
      expect(m.duplicateOf!).toBeLessThan(m.index);
      expect(outcomeJson(m.outcome)).toBe(outcomeJson(clean.outcomeAt(m.duplicateOf!)));
    }
    // Faults never shift the outcomes at the other indexes.
    for (const m of messages.slice(0, 5_000)) {
      if (m.kind === "outcome" && m.duplicateOf === null) expect(outcomeJson(m.outcome)).toBe(outcomeJson(clean.outcomeAt(m.index)));
    }
    expect(new Set(invalid.map((m) => (m.kind === "invalid" ? m.invalid : "")))).toEqual(new Set(INVALID_KINDS));
  });

  test("invalid payloads are really unusable: bad JSON, bad UTF-8, or a field a mapping must refuse", () => {
    const faulty = createOutcomeGenerator({ seed: 11, invalidRate: 1 });
    const seen = new Map<string, string | Uint8Array>();
    for (const m of faulty.messages(0, 500)) if (m.kind === "invalid") seen.set(m.invalid, m.payload);
    expect(() => JSON.parse(seen.get("malformed-json") as string)).toThrow();
    expect(() => new TextDecoder("utf-8", { fatal: true }).decode(seen.get("not-utf8") as Uint8Array)).toThrow();
    expect(Array.isArray(JSON.parse(seen.get("not-an-object") as string))).toBe(true);
    expect(JSON.parse(seen.get("missing-bid-request-id") as string).bid_request_id).toBeUndefined();
    expect(JSON.parse(seen.get("unparsable-price") as string).win_price).toBe("0.7O");
    expect(JSON.parse(seen.get("impossible-timestamp") as string).timestamp).toBe("2025-02-30T25:61:00.000000+00:00");
    expect(JSON.parse(seen.get("non-boolean-win-status") as string).win_status).toBe("maybe");
  });
});

describe("COPY rows", () => {
  test("escape backslash, tab, newline and carriage return, and write null as \\N", () => {
    expect(copyField("a\\b\tc\nd\re")).toBe("a\\\\b\\tc\\nd\\re");
    expect(copyField("plain")).toBe("plain");
    expect(copyField(null)).toBe("\\N");
  });

  test("hold one line per message with the columns in COPY_COLUMNS order", () => {
    const message = createOutcomeGenerator({ seed: 5 }).outcomeAt(0);
    const line = toCopyRow(message);
    expect(line.endsWith("\n")).toBe(true);
    const fields = line.slice(0, -1).split("\t");
    expect(fields.length).toBe(COPY_COLUMNS.length);
    expect(fields[COPY_COLUMNS.indexOf("bid_id")]).toBe(message.bid_request_id);
    expect(fields[COPY_COLUMNS.indexOf("raw_data")]).toBe(JSON.stringify(message));
  });

  describe("round trip through PostgreSQL", () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await createTestDatabase("generator_copy");
    });
    afterAll(async () => {
      await db?.drop();
    });

    test("COPY of generated rows, awkward text included, reads back equal to the messages", async () => {
      const generator = createOutcomeGenerator({ seed: 21, spreadOver: 200 });
      const messages = Array.from({ length: 200 }, (_, i) => generator.outcomeAt(i));
      const awkward: OutcomeMessage = {
        ...generator.outcomeAt(200),
        user_id: 'tab\there newline\nthere cr\r backslash\\ quote" unicode é 😀',
        user_interests: ["back\\slash", "tab\t"],
      };
      delete awkward.site_domain;
      const all = [...messages, awkward];

      const stream = await db.sql`copy auction_outcomes (${db.sql(COPY_COLUMNS as unknown as string[])}) from stdin`.writable();
      await pipeline(Readable.from(all.map(toCopyRow)), stream);

      const rows = await db.sql<
        (Omit<OutcomeInsert, "user_interests" | "raw_data" | "auction_timestamp"> & { auction_timestamp: string; user_interests: unknown; raw_data: unknown })[]
      >`
        select bid_id, user_id, site_domain, win_status, win_price::text as win_price, bid_price::text as bid_price, currency,
               enriched, "timestamp", auction_timestamp, user_interests, raw_data
        from auction_outcomes order by id`;
      // PostgreSQL's text drops trailing zeros of the fraction: .350 → .35, .000000 → nothing.
      const pgTime = (iso: string) =>
        iso
          .replace("T", " ")
          .replace(/(\+00:00|Z)$/, "+00")
          .replace(/(\.\d*?)0+\+00$/, "$1+00")
          .replace(/\.\+00$/, "+00");
      expect([...rows]).toEqual(
        all.map((m) => ({
          bid_id: m.bid_request_id,
          user_id: m.user_id,
          site_domain: m.site_domain ?? null,
          win_status: m.win_status,
          win_price: String(m.win_price),
          bid_price: String(m.bid_price),
          currency: "USD",
          enriched: m.enriched,
          timestamp: pgTime(m.timestamp),
          auction_timestamp: pgTime(m.auction_timestamp),
          user_interests: m.user_interests,
          raw_data: JSON.parse(JSON.stringify(m)),
        })),
      );
    });
  });
});
