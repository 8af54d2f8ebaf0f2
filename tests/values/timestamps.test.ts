import { describe, expect, test } from "bun:test";
import { compareInstants, epochMicros, epochMs, isoUtc, parseIsoTimestamp, pgInstant, pgInstantMicros } from "../../src/values/timestamps";
import { SERVER } from "../support/db";

describe("parseIsoTimestamp", () => {
  test.each([
    ["Python isoformat with microseconds", "2025-10-25T12:00:00.123456+00:00", "2025-10-25T12:00:00.123456+00:00"],
    ["JavaScript toISOString with milliseconds", "2025-10-25T12:00:00.173Z", "2025-10-25T12:00:00.173+00:00"],
    ["a lower-case z", "2025-10-25T12:00:00z", "2025-10-25T12:00:00+00:00"],
    ["a date alone, meaning its midnight UTC", "2025-10-25", "2025-10-25T00:00:00+00:00"],
    ["minutes without seconds", "2025-10-25T12:30", "2025-10-25T12:30:00+00:00"],
    ["no zone, meaning UTC", "2025-10-25T12:00:00", "2025-10-25T12:00:00+00:00"],
    ["a space instead of T", "2025-10-25 12:00:00Z", "2025-10-25T12:00:00+00:00"],
    ["a negative offset without colon", "2025-10-25T12:00:00-0530", "2025-10-25T12:00:00-05:30"],
    ["an hours-only offset", "2025-10-25T12:00:00+05", "2025-10-25T12:00:00+05:00"],
    ["a + that a query string decoded to a space", "2025-10-25T12:00:00 02:00", "2025-10-25T12:00:00+02:00"],
    ["a comma as decimal separator", "2025-10-25T12:00:00,5Z", "2025-10-25T12:00:00.5+00:00"],
    ["nanoseconds that are zero past the microsecond", "2025-10-25T12:00:00.123456000Z", "2025-10-25T12:00:00.123456+00:00"],
    ["29 February of a leap year", "2024-02-29", "2024-02-29T00:00:00+00:00"],
    ["the last microsecond of a day", "2025-12-31T23:59:59.999999Z", "2025-12-31T23:59:59.999999+00:00"],
    ["surrounding blanks", " 2025-10-25 ", "2025-10-25T00:00:00+00:00"],
  ])("accepts %s", (_label, text, normalised) => {
    expect(parseIsoTimestamp(text)).toBe(normalised);
  });

  test.each([
    ["a word", "yesterday"],
    ["an empty string", ""],
    ["30 February", "2025-02-30"],
    ["29 February of a common year", "2025-02-29"],
    ["31 April", "2025-04-31"],
    ["month 13", "2025-13-01"],
    ["month 0", "2025-00-10"],
    ["day 0", "2025-10-00"],
    ["year 0", "0000-01-01"],
    ["hour 24", "2025-10-25T24:00:00Z"],
    ["minute 60", "2025-10-25T12:60:00Z"],
    ["a leap second", "2025-12-31T23:59:60Z"],
    ["an offset of 24 hours", "2025-10-25T12:00:00+24:00"],
    ["an offset with 60 minutes", "2025-10-25T12:00:00+05:60"],
    ["digits past the microsecond that PostgreSQL would round", "2025-10-25T12:00:00.1234567Z"],
    ["a Unix epoch number", "1761393600"],
    ["a two-digit year", "25-10-25"],
    ["a slash date", "2025/10/25"],
  ])("refuses %s", (_label, text) => {
    expect(parseIsoTimestamp(text)).toBeNull();
  });
});

describe("isoUtc", () => {
  test("turns PostgreSQL's UTC text into ISO-8601 with Z, keeping microseconds", () => {
    expect(isoUtc("2025-10-25 12:00:00.123456+00")).toBe("2025-10-25T12:00:00.123456Z");
  });

  test("keeps a whole second without a fraction, as PostgreSQL prints it", () => {
    expect(isoUtc("2025-10-25 00:00:00+00")).toBe("2025-10-25T00:00:00Z");
  });

  test("accepts the +00:00 spelling", () => {
    expect(isoUtc("2025-10-25 12:00:00.5+00:00")).toBe("2025-10-25T12:00:00.5Z");
  });

  test("passes null through", () => {
    expect(isoUtc(null)).toBeNull();
  });

  test.each([
    ["a year past 9999", "10000-01-01 00:00:00+00", "10000-01-01T00:00:00Z"],
    ["a year before 1 AD", "0001-12-31 10:00:00+00 BC", "0001-12-31T10:00:00+00 BC"],
    ["another session's zone", "2025-10-25 14:00:00+02", "2025-10-25T14:00:00+02"],
  ])("writes %s as the general rule does", (_label, text, iso) => {
    expect(isoUtc(text)).toBe(iso);
  });
});

// Rounding a bound to a rollup bucket can leave years 1–9999: the first hour of 0001-01-01 at
// +14:00 is in 1 BC, the last of 9999-12-31 rounds up into 10000.
const EXTREME_INSTANTS: [string, number][] = [
  ["10000-01-01T00:00:00.000Z", Date.UTC(10000, 0, 1)],
  ["9999-12-31T23:00:00.000Z", Date.UTC(9999, 11, 31, 23)],
  ["0001-12-31T10:00:00.000Z BC", Date.parse("0001-01-01T00:00:00+14:00")],
  ["0001-01-01T00:00:00.000Z", Date.parse("0001-01-01T00:00:00Z")],
  ["2025-10-25T12:00:00.000Z", Date.UTC(2025, 9, 25, 12)],
];

describe("pgInstant", () => {
  test.each(EXTREME_INSTANTS)("writes %s, which epochMs reads back", (text, ms) => {
    expect(pgInstant(ms)).toBe(text);
    expect(epochMs(text).ms).toBe(ms);
  });

  test("writes text PostgreSQL reads as the same instant, where toISOString's is refused or shifted", async () => {
    const sql = SERVER.admin();
    try {
      for (const [, ms] of EXTREME_INSTANTS) {
        const [row] = await sql<{ ms: string }[]>`select (extract(epoch from ${pgInstant(ms)}::timestamptz) * 1000)::bigint::text as ms`;
        expect(Number(row!.ms)).toBe(ms);
      }
      await expect(sql`select ${new Date(Date.UTC(10000, 0, 1)).toISOString()}::timestamptz`).rejects.toThrow("time zone displacement out of range");
    } finally {
      await sql.end();
    }
  });
});

describe("compareInstants", () => {
  test("orders to the microsecond, across offsets", () => {
    expect(compareInstants("2025-10-25T12:00:00.000002+00:00", "2025-10-25T12:00:00.000001+00:00")).toBeGreaterThan(0);
    expect(compareInstants("2025-10-25T14:00:00+02:00", "2025-10-25T12:00:00+00:00")).toBe(0);
    expect(compareInstants("9999-12-31T23:59:59.999999+00:00", pgInstant(Date.UTC(10000, 0, 1)))).toBeLessThan(0);
  });
});

describe("epochMicros and pgInstantMicros", () => {
  test.each([
    ["2025-10-24T23:59:59.999999+00:00", "2025-10-24T23:59:59.999999Z"],
    ["2025-10-25T00:00:00+00:00", "2025-10-25T00:00:00.000000Z"],
    ["2025-10-25T02:00:00.5+02:00", "2025-10-25T00:00:00.500000Z"],
    ["1969-12-31T23:59:59.999999+00:00", "1969-12-31T23:59:59.999999Z"],
    ["0001-01-01T00:00:00.000001+00:00", "0001-01-01T00:00:00.000001Z"],
  ])("%s round-trips to the microsecond as %s", (text, iso) => {
    expect(pgInstantMicros(epochMicros(text))).toBe(iso);
  });

  test("a period shifted back by its own length keeps every microsecond", () => {
    const from = epochMicros("2025-10-24T23:59:59.999999+00:00");
    const to = epochMicros("2025-10-25T00:00:00.000001+00:00");
    expect(pgInstantMicros(from - (to - from))).toBe("2025-10-24T23:59:59.999997Z");
  });
});
