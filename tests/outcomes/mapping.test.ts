import { describe, expect, test } from "bun:test";
import { MAX_MESSAGE_BYTES, type OutcomeInsert, parseOutcomeMessage } from "../../src/outcomes/outcome.mapping";

/** The source's own time of the message (a Kafka record's timestamp). */
const SOURCE_TIME = "2025-11-01T08:30:00.000Z";
const encode = (value: unknown) => new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));

function row(message: unknown): OutcomeInsert {
  const parsed = parseOutcomeMessage(encode(message), SOURCE_TIME);
  if (!parsed.ok) throw new Error(`expected a row, got rejection: ${parsed.reason}`);
  return parsed.row;
}

function reason(value: Uint8Array | null | unknown): string {
  const bytes = value === null || value instanceof Uint8Array ? value : encode(value);
  const parsed = parseOutcomeMessage(bytes, SOURCE_TIME);
  if (parsed.ok) throw new Error(`expected a rejection, got row for ${parsed.row.bid_id}`);
  return parsed.reason;
}

// The reference message of the upstream (shared/reference/original-service.md).
const REFERENCE = {
  bid_request_id: "req-12345",
  user_id: "user-67890",
  bid_price: 0.75,
  currency: "USD",
  timestamp: "2025-10-25T12:00:00.123456+00:00",
  enriched: true,
  user_interests: ["technology", "sports"],
  winning_interest: "technology",
  interest_score: 0.9,
  ad_creative: { creative_id: "c-1", title: "…", image_url: "…", landing_url: "…", bid_tier: "premium", targeted: "true" },
  win_status: true,
  win_price: 0.75,
  auction_timestamp: "2025-10-25T12:00:00.173Z",
};

describe("parseOutcomeMessage: the reference messages", () => {
  test("maps the upstream's reference message field by field", () => {
    expect(row(REFERENCE)).toEqual({
      bid_id: "req-12345",
      user_id: "user-67890",
      site_domain: null,
      win_status: true,
      win_price: "0.75",
      bid_price: "0.75",
      currency: "USD",
      enriched: true,
      timestamp: "2025-10-25T12:00:00.123456+00:00",
      auction_timestamp: "2025-10-25T12:00:00.173+00:00",
      user_interests: ["technology", "sports"],
      raw_data: REFERENCE,
    });
  });

  test("maps the minimal hand-made message with defaults and the source's time of the message", () => {
    const message = { bid_request_id: "test-1", user_id: "user-123", win_status: true, win_price: 10.5, bid_price: 8.0 };
    expect(row(message)).toEqual({
      bid_id: "test-1",
      user_id: "user-123",
      site_domain: null,
      win_status: true,
      win_price: "10.5",
      bid_price: "8",
      currency: "USD",
      enriched: false,
      timestamp: "2025-11-01T08:30:00.000+00:00",
      auction_timestamp: null,
      user_interests: [],
      raw_data: message,
    });
  });

  test("keeps the whole message, unknown fields included, as raw_data", () => {
    expect(row({ ...REFERENCE, extra: { nested: [1, 2] } }).raw_data).toEqual({ ...REFERENCE, extra: { nested: [1, 2] } });
  });
});

describe("parseOutcomeMessage: bid_id and user_id", () => {
  test("takes bid_id when bid_request_id is missing", () => {
    expect(row({ bid_id: "b-1" }).bid_id).toBe("b-1");
  });

  test("prefers bid_request_id over bid_id", () => {
    expect(row({ bid_request_id: "r-1", bid_id: "b-1" }).bid_id).toBe("r-1");
  });

  test("rejects a message without a bid id", () => {
    expect(reason({ user_id: "u" })).toBe("no bid id: expected a non-empty string in bid_request_id or bid_id");
  });

  test("rejects an empty or blank bid id", () => {
    expect(reason({ bid_request_id: "" })).toStartWith("no bid id");
    expect(reason({ bid_request_id: "   " })).toStartWith("no bid id");
  });

  test("rejects a bid id that is not a string", () => {
    expect(reason({ bid_request_id: 12345 })).toBe("bid_request_id is not a string: got 12345");
  });

  test("accepts a bid id of 255 characters and rejects one of 256", () => {
    expect(row({ bid_id: "x".repeat(255) }).bid_id).toHaveLength(255);
    expect(reason({ bid_id: "x".repeat(256) })).toBe("bid_id is longer than 255 characters (256)");
  });

  test("uses 'unknown' for a missing, null or empty user_id", () => {
    expect(row({ bid_id: "b" }).user_id).toBe("unknown");
    expect(row({ bid_id: "b", user_id: null }).user_id).toBe("unknown");
    expect(row({ bid_id: "b", user_id: "" }).user_id).toBe("unknown");
  });

  test("rejects a user_id longer than 255 characters or not a string", () => {
    expect(reason({ bid_id: "b", user_id: "u".repeat(256) })).toBe("user_id is longer than 255 characters (256)");
    expect(reason({ bid_id: "b", user_id: { id: 1 } })).toBe('user_id is not a string: got {"id":1}');
  });
});

describe("parseOutcomeMessage: site_domain", () => {
  test("takes site_domain, else page_url, else null", () => {
    expect(row({ bid_id: "b", site_domain: "news.example", page_url: "https://other.example/x" }).site_domain).toBe("news.example");
    expect(row({ bid_id: "b", page_url: "https://other.example/x" }).site_domain).toBe("https://other.example/x");
    expect(row({ bid_id: "b" }).site_domain).toBeNull();
  });

  test("rejects a site_domain longer than 255 characters", () => {
    expect(reason({ bid_id: "b", site_domain: "d".repeat(256) })).toBe("site_domain is longer than 255 characters (256)");
  });
});

describe("parseOutcomeMessage: booleans", () => {
  test("accepts JSON booleans and the strings true/false in any case", () => {
    expect(row({ bid_id: "b", win_status: false, enriched: true })).toMatchObject({ win_status: false, enriched: true });
    expect(row({ bid_id: "b", win_status: "true", enriched: "false" })).toMatchObject({ win_status: true, enriched: false });
    expect(row({ bid_id: "b", win_status: "False", enriched: "TRUE" })).toMatchObject({ win_status: false, enriched: true });
  });

  test("reads the string 'false' as false, unlike the original's bool()", () => {
    expect(row({ bid_id: "b", win_status: "false" }).win_status).toBe(false);
  });

  test("defaults missing booleans to false", () => {
    expect(row({ bid_id: "b" })).toMatchObject({ win_status: false, enriched: false });
  });

  test("rejects a boolean that is not a boolean", () => {
    expect(reason({ bid_id: "b", win_status: "maybe" })).toBe('win_status is not a boolean: got "maybe" (expected true, false, "true" or "false")');
    expect(reason({ bid_id: "b", enriched: 1 })).toBe('enriched is not a boolean: got 1 (expected true, false, "true" or "false")');
  });
});

describe("parseOutcomeMessage: prices", () => {
  test("keeps JSON numbers as exact decimal text", () => {
    expect(row({ bid_id: "b", win_price: 0.1, bid_price: 1e-7 })).toMatchObject({ win_price: "0.1", bid_price: "0.0000001" });
    expect(row({ bid_id: "b", win_price: 123456789.123456 }).win_price).toBe("123456789.123456");
  });

  test("keeps numeric strings exactly as sent, beyond float precision", () => {
    expect(row({ bid_id: "b", win_price: "0.123456789012345678901", bid_price: " 8.00 " })).toMatchObject({
      win_price: "0.123456789012345678901",
      bid_price: "8.00",
    });
  });

  test("defaults missing prices to 0", () => {
    expect(row({ bid_id: "b", win_price: null })).toMatchObject({ win_price: "0", bid_price: "0" });
  });

  test("rejects a price that is not a number", () => {
    expect(reason({ bid_id: "b", win_price: "abc" })).toBe('win_price is not a number: got "abc"');
    expect(reason({ bid_id: "b", bid_price: true })).toBe("bid_price is not a number: got true");
    expect(reason({ bid_id: "b", bid_price: "1e5" })).toBe('bid_price is not a number: got "1e5"');
  });

  test("rejects a negative price", () => {
    expect(reason({ bid_id: "b", win_price: -0.5 })).toBe("win_price is negative: got -0.5");
    expect(reason({ bid_id: "b", win_price: "-2" })).toBe('win_price is negative: got "-2"');
  });

  test("accepts prices below 1e12 and rejects 1e12 and above (the column's check constraint)", () => {
    expect(row({ bid_id: "b", win_price: 999999999999.99 }).win_price).toBe("999999999999.99");
    expect(row({ bid_id: "b", win_price: "000999999999999.5" }).win_price).toBe("000999999999999.5");
    expect(reason({ bid_id: "b", win_price: 1e12 })).toBe("win_price is too large: got 1000000000000 (expected less than 1000000000000)");
    expect(reason({ bid_id: "b", bid_price: "1000000000000" })).toStartWith("bid_price is too large");
  });
});

describe("parseOutcomeMessage: currency and interests", () => {
  test("upper-cases a 3-letter currency and defaults a missing one to USD", () => {
    expect(row({ bid_id: "b", currency: "eur" }).currency).toBe("EUR");
    expect(row({ bid_id: "b" }).currency).toBe("USD");
  });

  test("rejects a currency that is not 3 letters", () => {
    expect(reason({ bid_id: "b", currency: "US Dollar" })).toBe('currency is not a 3-letter code: got "US Dollar"');
    expect(reason({ bid_id: "b", currency: 840 })).toBe("currency is not a 3-letter code: got 840");
  });

  test("keeps user_interests when it is an array, else stores []", () => {
    expect(row({ bid_id: "b", user_interests: ["a", 1] }).user_interests).toEqual(["a", 1]);
    expect(row({ bid_id: "b", user_interests: "sports" }).user_interests).toEqual([]);
  });
});

describe("parseOutcomeMessage: timestamps", () => {
  test("parses Python isoformat with microseconds and +00:00", () => {
    expect(row({ bid_id: "b", timestamp: "2025-10-25T12:00:00.123456+00:00" }).timestamp).toBe("2025-10-25T12:00:00.123456+00:00");
  });

  test("parses JavaScript toISOString with milliseconds and Z", () => {
    expect(row({ bid_id: "b", timestamp: "2025-10-25T12:00:00.173Z" }).timestamp).toBe("2025-10-25T12:00:00.173+00:00");
  });

  test("reads a timestamp without zone as UTC and keeps other offsets", () => {
    expect(row({ bid_id: "b", timestamp: "2025-10-25T12:00:00" }).timestamp).toBe("2025-10-25T12:00:00+00:00");
    expect(row({ bid_id: "b", timestamp: "2025-10-25T14:00:00+02:00" }).timestamp).toBe("2025-10-25T14:00:00+02:00");
  });

  test("takes timestamp from the message, else auction_timestamp, else the source's time of the message", () => {
    const both = { bid_id: "b", timestamp: "2025-10-25T12:00:00Z", auction_timestamp: "2025-10-25T12:00:01Z" };
    expect(row(both).timestamp).toBe("2025-10-25T12:00:00+00:00");
    expect(row({ bid_id: "b", auction_timestamp: "2025-10-25T12:00:01.5Z" }).timestamp).toBe("2025-10-25T12:00:01.5+00:00");
    expect(row({ bid_id: "b" }).timestamp).toBe("2025-11-01T08:30:00.000+00:00");
  });

  test("maps a message without an auction time to the same instant on every delivery, never the wall clock", () => {
    const message = encode({ bid_id: "b" });
    const first = parseOutcomeMessage(message, SOURCE_TIME);
    const again = parseOutcomeMessage(message, SOURCE_TIME);
    expect(first).toEqual(again);
  });

  test("rejects a message without an auction time when the source gives it no time of its own", () => {
    const parsed = parseOutcomeMessage(encode({ bid_id: "b" }), null);
    expect(parsed).toEqual({
      ok: false,
      reason: "no auction time: expected timestamp or auction_timestamp (ISO-8601), and the source gives the message no time of its own",
    });
    expect(parseOutcomeMessage(encode({ bid_id: "b", auction_timestamp: "2025-10-25T12:00:01Z" }), null).ok).toBe(true);
  });

  test("stores a missing auction_timestamp as null", () => {
    expect(row({ bid_id: "b", timestamp: "2025-10-25T12:00:00Z" }).auction_timestamp).toBeNull();
  });

  test("rejects an unparsable timestamp or auction_timestamp", () => {
    expect(reason({ bid_id: "b", timestamp: "yesterday" })).toBe('timestamp is not a valid ISO-8601 date-time: got "yesterday"');
    expect(reason({ bid_id: "b", auction_timestamp: "2025-02-30T00:00:00Z" })).toBe(
      'auction_timestamp is not a valid ISO-8601 date-time: got "2025-02-30T00:00:00Z"',
    );
    expect(reason({ bid_id: "b", timestamp: 1761393600 })).toBe("timestamp is not an ISO-8601 string: got 1761393600");
  });
});

describe("parseOutcomeMessage: values that are not an outcome", () => {
  test("rejects a missing value (tombstone)", () => {
    expect(reason(null)).toBe("message has no value (a tombstone or an empty record)");
  });

  test("rejects bytes that are not UTF-8", () => {
    expect(reason(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))).toBe("value is not valid UTF-8");
  });

  test("rejects text that is not JSON", () => {
    expect(reason("not json {")).toStartWith("value is not valid JSON (");
    expect(reason(new Uint8Array())).toStartWith("value is not valid JSON (");
  });

  test("rejects JSON that is not an object", () => {
    expect(reason("[1,2]")).toBe("value is JSON but not an object (got an array)");
    expect(reason("null")).toBe("value is JSON but not an object (got null)");
    expect(reason('"req-1"')).toBe("value is JSON but not an object (got a string)");
    expect(reason("42")).toBe("value is JSON but not an object (got a number)");
  });

  test("rejects a value over 1 MiB before decoding it", () => {
    const big = encode({ bid_id: "b", padding: "x".repeat(MAX_MESSAGE_BYTES) });
    expect(reason(big)).toBe(`value is ${big.byteLength} bytes, over the 1 MiB limit (1048576 bytes)`);
  });

  test("accepts a value of exactly 1 MiB", () => {
    const prefix = '{"bid_id":"b","padding":"';
    const text = `${prefix + "x".repeat(MAX_MESSAGE_BYTES - prefix.length - 2)}"}`;
    expect(parseOutcomeMessage(encode(text), SOURCE_TIME).ok).toBe(true);
  });

  test("rejects a NUL character anywhere, which PostgreSQL cannot store", () => {
    expect(reason('{"bid_id":"b","note":"a\\u0000b"}')).toBe("value contains a NUL character (\\u0000), which PostgreSQL cannot store");
    expect(reason('{"bid_id":"b","nested":{"k\\u0000":1}}')).toStartWith("value contains a NUL character");
  });

  test("rejects an unpaired surrogate escape", () => {
    expect(reason('{"bid_id":"b","note":"\\ud800"}')).toBe("value contains an unpaired UTF-16 surrogate, which is not valid Unicode");
  });

  test("rejects JSON nested more than 100 levels deep and accepts 100", () => {
    const nested = (depth: number) => `{"bid_id":"b","deep":${"[".repeat(depth - 1)}${"]".repeat(depth - 1)}}`;
    expect(parseOutcomeMessage(encode(nested(100)), SOURCE_TIME).ok).toBe(true);
    expect(reason(nested(101))).toBe("value is nested more than 100 levels deep");
    expect(reason(`{"bid_id":"b","deep":${"[".repeat(200_000)}${"]".repeat(200_000)}}`)).toMatch(/^value is (not valid JSON|nested more than 100 levels deep)/);
  });

  test("accepts a literal backslash-u0000 text, which is not a NUL", () => {
    expect(row(JSON.parse('{"bid_id":"b","note":"\\\\u0000"}')).raw_data.note).toBe("\\u0000");
  });
});
