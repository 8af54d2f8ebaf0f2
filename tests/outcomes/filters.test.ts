import { describe, expect, test } from "bun:test";
import { ApiError } from "../../src/http/errors";
import { parseBooleanText } from "../../src/http/params";
import { parseFilters, prefixRange } from "../../src/outcomes/outcomes.filters";
import { winnersOf } from "../../src/outcomes/outcomes.routes";

function refusal(query: Parameters<typeof parseFilters>[0]): { status: number; body: unknown } {
  try {
    parseFilters(query);
  } catch (error) {
    if (error instanceof ApiError) return { status: error.status, body: error.body() };
    throw error;
  }
  throw new Error(`parseFilters accepted ${JSON.stringify(query)}`);
}

describe("parseFilters", () => {
  test("gives no filters for an empty query", () => {
    expect(parseFilters({})).toEqual({});
  });

  test("ignores empty user_id and site_domain, as the original did", () => {
    expect(parseFilters({ user_id: "", site_domain: "" })).toEqual({});
  });

  test("carries every filter", () => {
    expect(
      parseFilters({
        user_id: "u-1",
        site_domain: "example.com",
        win_status: "true",
        enriched: "no",
        min_price: "0.10",
        max_price: "2",
        currency: "eur",
        from: "2025-10-24",
        to: "2025-10-25T12:00:00.5+02:00",
      }),
    ).toEqual({
      userId: "u-1",
      siteDomain: "example.com",
      winStatus: true,
      enriched: false,
      minPrice: "0.10",
      maxPrice: "2",
      currency: "EUR",
      from: "2025-10-24T00:00:00+00:00",
      to: "2025-10-25T12:00:00.5+02:00",
    });
  });

  test.each([
    ["true", true],
    ["True", true],
    ["TRUE", true],
    ["1", true],
    ["yes", true],
    ["false", false],
    ["0", false],
    ["no", false],
    ["FALSE", false],
  ])("reads win_status=%s as %p", (text, value) => {
    expect(parseFilters({ win_status: text }).winStatus).toBe(value);
    expect(parseFilters({ enriched: text }).enriched).toBe(value);
  });

  test("accepts min_price equal to max_price", () => {
    expect(parseFilters({ min_price: "0.5", max_price: "0.50" })).toEqual({ minPrice: "0.5", maxPrice: "0.50" });
  });

  test("compares prices as decimals, not as text (10 > 9)", () => {
    expect(refusal({ min_price: "10", max_price: "9" })).toEqual({
      status: 400,
      body: {
        detail: "Invalid query parameter: min_price.",
        errors: { min_price: ["min_price 10 is greater than max_price 9: expected min_price ≤ max_price."] },
      },
    });
    expect(parseFilters({ min_price: "9", max_price: "10" })).toEqual({ minPrice: "9", maxPrice: "10" });
  });

  test("refuses min_price greater than max_price by a millionth", () => {
    expect(refusal({ min_price: "1.000001", max_price: "1" })).toEqual({
      status: 400,
      body: {
        detail: "Invalid query parameter: min_price.",
        errors: { min_price: ["min_price 1.000001 is greater than max_price 1: expected min_price ≤ max_price."] },
      },
    });
  });

  test("refuses from after to", () => {
    expect(refusal({ from: "2025-10-26", to: "2025-10-25" })).toEqual({
      status: 400,
      body: { detail: "Invalid query parameter: from.", errors: { from: ["from 2025-10-26 is after to 2025-10-25: expected from ≤ to."] } },
    });
  });

  test("compares from and to as instants across offsets", () => {
    // 01:00+02:00 is 23:00 UTC the day before, earlier than midnight UTC.
    expect(parseFilters({ from: "2025-10-25T01:00:00+02:00", to: "2025-10-25T00:00:00Z" }).from).toBe("2025-10-25T01:00:00+02:00");
    expect(refusal({ from: "2025-10-25T00:00:00Z", to: "2025-10-25T01:00:00+02:00" }).status).toBe(400);
  });

  test("accepts from equal to to (an empty range)", () => {
    expect(parseFilters({ from: "2025-10-25", to: "2025-10-25T00:00:00Z" })).toEqual({ from: "2025-10-25T00:00:00+00:00", to: "2025-10-25T00:00:00+00:00" });
  });

  test.each(["2025-02-30", "2025-02-29", "2025-04-31", "2025-10-25T24:00:00Z"])("refuses the unreal date %s", (text) => {
    expect(refusal({ from: text })).toEqual({
      status: 400,
      body: {
        detail: "Invalid query parameter: from.",
        errors: { from: [`${JSON.stringify(text)} is not a real date or time: expected an ISO-8601 date or date-time, e.g. 2025-10-01T12:00:00Z.`] },
      },
    });
  });

  test("names every failing parameter at once", () => {
    expect(refusal({ from: "2025-02-30", to: "2025-13-01", min_price: "3", max_price: "1" })).toEqual({
      status: 400,
      body: {
        detail: "Invalid query parameters: from, to, min_price.",
        errors: {
          from: ['"2025-02-30" is not a real date or time: expected an ISO-8601 date or date-time, e.g. 2025-10-01T12:00:00Z.'],
          to: ['"2025-13-01" is not a real date or time: expected an ISO-8601 date or date-time, e.g. 2025-10-01T12:00:00Z.'],
          min_price: ["min_price 3 is greater than max_price 1: expected min_price ≤ max_price."],
        },
      },
    });
  });
});

describe("parseBooleanText", () => {
  test("is true for true, 1 and yes in any case, false otherwise", () => {
    expect(["true", "1", "yes", "Yes", "TRUE"].map(parseBooleanText)).toEqual([true, true, true, true, true]);
    expect(["false", "0", "no", "off", ""].map(parseBooleanText)).toEqual([false, false, false, false, false]);
  });
});

describe("winnersOf", () => {
  test("restricts to wins", () => {
    expect(winnersOf({ userId: "u" })).toEqual({ userId: "u", winStatus: true });
  });

  test("matches nothing when asked for losses", () => {
    expect(winnersOf({ winStatus: false })).toEqual({ winStatus: false, matchNothing: true });
  });
});

describe("prefixRange", () => {
  test("bounds a prefix by the same text with its last character incremented", () => {
    expect(prefixRange("u-a")).toEqual({ low: "u-a", high: "u-b" });
    expect(prefixRange("b-%")).toEqual({ low: "b-%", high: "b-&" });
  });

  test("skips the surrogate range and carries past the last code point", () => {
    expect(prefixRange("x\uD7FF")).toEqual({ low: "x\uD7FF", high: "x\uE000" });
    expect(prefixRange("a\u{10FFFF}")).toEqual({ low: "a\u{10FFFF}", high: "b" });
    expect(prefixRange("\u{10FFFF}")).toEqual({ low: "\u{10FFFF}", high: null });
  });
});
