import { describe, expect, test } from "bun:test";
import { ApiError } from "../../src/api/errors";
import { decodeCursor, encodeCursor, orderingText, parseOrdering, type OrderKey } from "../../src/outcomes/outcomes.paging";

const BAD_CURSOR = {
  detail: "Invalid query parameter: cursor.",
  errors: {
    cursor: ["The cursor is not valid for this ordering: expected a cursor exactly as returned in next or previous, or an empty cursor for the first page."],
  },
};

function refusalOf(text: string, keys: OrderKey[]): unknown {
  try {
    decodeCursor(text, keys);
  } catch (error) {
    if (error instanceof ApiError) return { status: error.status, body: error.body() };
    throw error;
  }
  throw new Error(`decodeCursor accepted ${text}`);
}

const raw = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("parseOrdering", () => {
  test("defaults to newest first, ties by highest id", () => {
    expect(parseOrdering(undefined)).toEqual([{ field: "timestamp", desc: true }, { field: "id", desc: true }]);
    expect(parseOrdering("")).toEqual([{ field: "timestamp", desc: true }, { field: "id", desc: true }]);
  });

  test.each([
    ["win_price", [{ field: "win_price", desc: false }, { field: "id", desc: false }]],
    ["-bid_price", [{ field: "bid_price", desc: true }, { field: "id", desc: true }]],
    ["created_at", [{ field: "created_at", desc: false }, { field: "id", desc: false }]],
    ["id", [{ field: "id", desc: false }]],
    ["-id", [{ field: "id", desc: true }]],
    ["-win_price,timestamp", [{ field: "win_price", desc: true }, { field: "timestamp", desc: false }, { field: "id", desc: false }]],
    ["-timestamp,id", [{ field: "timestamp", desc: true }, { field: "id", desc: false }]],
    ["timestamp,-timestamp", [{ field: "timestamp", desc: false }, { field: "id", desc: false }]],
  ])("parses %s with the id tie-breaker in the last key's direction", (text, keys) => {
    expect(parseOrdering(text)).toEqual(keys as OrderKey[]);
  });

  test("writes the keys back as ordering text", () => {
    expect(orderingText(parseOrdering("-win_price,timestamp"))).toBe("-win_price,timestamp,id");
  });
});

describe("cursors", () => {
  const keys = parseOrdering("-timestamp");

  test("decode what encode made", () => {
    const cursor = { ordering: "-timestamp,-id", values: ["2025-10-25 12:00:00.123456+00", "42"], forward: true };
    expect(decodeCursor(encodeCursor(cursor), keys)).toEqual(cursor);
    const back = { ...cursor, forward: false };
    expect(decodeCursor(encodeCursor(back), keys)).toEqual(back);
  });

  test("are URL-safe text", () => {
    const text = encodeCursor({ ordering: "win_price,id", values: ["12345.678901", "9007199254740993"], forward: true });
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(text, parseOrdering("win_price")).values).toEqual(["12345.678901", "9007199254740993"]);
  });

  test("are refused under another ordering", () => {
    const text = encodeCursor({ ordering: "-timestamp,-id", values: ["2025-10-25 12:00:00+00", "42"], forward: true });
    expect(refusalOf(text, parseOrdering("timestamp"))).toEqual({ status: 400, body: BAD_CURSOR });
  });

  test.each([
    ["text that is not base64 JSON", "bm90IGpzb24"],
    ["a JSON object instead of the array", raw({ ordering: "-timestamp,-id" })],
    ["a missing direction", raw(["-timestamp,-id", ["2025-10-25 12:00:00+00", "42"]])],
    ["a direction other than 0 or 1", raw(["-timestamp,-id", ["2025-10-25 12:00:00+00", "42"], 2])],
    ["too few values", raw(["-timestamp,-id", ["42"], 1])],
    ["a number instead of text", raw(["-timestamp,-id", ["2025-10-25 12:00:00+00", 42], 1])],
    ["SQL in the id", raw(["-timestamp,-id", ["2025-10-25 12:00:00+00", "1 or 1=1"], 1])],
    ["SQL in the timestamp", raw(["-timestamp,-id", ["2025-10-25 12:00:00+00'; drop table auction_outcomes; --", "1"], 1])],
    ["an ISO timestamp instead of PostgreSQL's text", raw(["-timestamp,-id", ["2025-10-25T12:00:00Z", "1"], 1])],
    ["a negative id", raw(["-timestamp,-id", ["2025-10-25 12:00:00+00", "-1"], 1])],
    ["a value longer than 64 characters", raw(["-timestamp,-id", ["2025-10-25 12:00:00+00", "1".repeat(65)], 1])],
  ])("refuse %s", (_label, text) => {
    expect(refusalOf(text, keys)).toEqual({ status: 400, body: BAD_CURSOR });
  });

  test("refuse a price that is not a decimal", () => {
    const priceKeys = parseOrdering("win_price");
    expect(refusalOf(raw(["win_price,id", ["-1", "1"], 1]), priceKeys)).toEqual({ status: 400, body: BAD_CURSOR });
    expect(refusalOf(raw(["win_price,id", ["1e5", "1"], 1]), priceKeys)).toEqual({ status: 400, body: BAD_CURSOR });
    expect(decodeCursor(raw(["win_price,id", ["0.000001", "1"], 1]), priceKeys).values).toEqual(["0.000001", "1"]);
  });
});
