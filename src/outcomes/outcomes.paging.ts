// Ordering and pagination: page numbers (compatible with the original) and keyset cursors
// (constant cost at any depth). Column names come from a fixed map; user text never reaches SQL.
import type { Sql } from "../db/client";
import { commaList, type Fragment, joined } from "../db/fragments";
import { ApiError } from "../http/errors";
import { parseIsoTimestamp } from "../values/timestamps";
import { ORDERING_FIELDS, type OrderingField } from "./outcomes.schema";

const MAX_BIGINT = 9_223_372_036_854_775_807n;

export interface OrderKey {
  field: OrderingField;
  desc: boolean;
}

/** Parses `-timestamp,win_price` and appends the id tie-breaker so every order is total. */
export function parseOrdering(text: string | undefined): OrderKey[] {
  const keys: OrderKey[] = [];
  for (const item of (text || "-timestamp").split(",")) {
    const field = item.replace(/^-/, "") as OrderingField;
    if (!ORDERING_FIELDS.includes(field) || keys.some((key) => key.field === field)) continue;
    keys.push({ field, desc: item.startsWith("-") });
  }
  if (!keys.some((key) => key.field === "id")) keys.push({ field: "id", desc: keys[keys.length - 1]!.desc });
  return keys;
}

export function orderingText(keys: OrderKey[]): string {
  return keys.map((key) => (key.desc ? "-" : "") + key.field).join(",");
}

export function orderByClause(sql: Sql, keys: OrderKey[], reverse = false): Fragment {
  return sql`order by ${commaList(
    sql,
    keys.map((key) => (key.desc !== reverse ? sql`${sql(key.field)} desc` : sql`${sql(key.field)} asc`)),
  )}`;
}

export interface Cursor {
  /** The ordering the cursor was made for; a cursor is refused under another one. */
  ordering: string;
  /** Values of the ordering keys of the row the page continues from. */
  values: string[];
  /** true: rows after that row; false: rows before it (a `previous` link). */
  forward: boolean;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.ordering, cursor.values, cursor.forward ? 1 : 0])).toString("base64url");
}

const badCursor = () =>
  new ApiError(400, "Invalid query parameter: cursor.", {
    cursor: ["The cursor is not valid for this ordering: expected a cursor exactly as returned in next or previous, or an empty cursor for the first page."],
  });

export function decodeCursor(text: string, keys: OrderKey[]): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    throw badCursor();
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 3 ||
    parsed[0] !== orderingText(keys) ||
    !Array.isArray(parsed[1]) ||
    parsed[1].length !== keys.length ||
    !parsed[1].every((value: unknown) => typeof value === "string" && value.length <= 64) ||
    (parsed[2] !== 0 && parsed[2] !== 1)
  ) {
    throw badCursor();
  }
  const values = parsed[1] as string[];
  // Values go to SQL as bound parameters cast to the column type; check they will cast (a forged
  // cursor with 2025-13-45 or an id past bigint would otherwise come back from PostgreSQL as a 500).
  keys.forEach((key, i) => {
    const value = values[i]!;
    const ok =
      key.field === "id"
        ? /^\d{1,19}$/.test(value) && BigInt(value) <= MAX_BIGINT
        : key.field === "win_price" || key.field === "bid_price"
          ? /^\d{1,13}(\.\d{1,30})?$/.test(value)
          : /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?\+00$/.test(value) && parseIsoTimestamp(value) !== null;
    if (!ok) throw badCursor();
  });
  return { ordering: parsed[0], values, forward: parsed[2] === 1 };
}

const CAST = { timestamp: "timestamptz", created_at: "timestamptz", win_price: "numeric", bid_price: "numeric", id: "bigint" } as const;

function typed(sql: Sql, key: OrderKey, value: string) {
  switch (CAST[key.field]) {
    case "timestamptz":
      return sql`${value}::timestamptz`;
    case "numeric":
      return sql`${value}::numeric`;
    case "bigint":
      return sql`${value}::bigint`;
  }
}

/**
 * Rows strictly after (or before) the cursor row in the given order. With one direction for
 * every key this is a row comparison that walks a composite index; mixed directions expand.
 */
export function keysetCondition(sql: Sql, keys: OrderKey[], cursor: Cursor) {
  const after = (key: OrderKey) => key.desc === cursor.forward; // descending + forward → "<"
  if (keys.every((key) => key.desc === keys[0]!.desc)) {
    const columns = commaList(
      sql,
      keys.map((key) => sql`${sql(key.field)}`),
    );
    const values = commaList(
      sql,
      keys.map((key, i) => typed(sql, key, cursor.values[i]!)),
    );
    return after(keys[0]!) ? sql`(${columns}) < (${values})` : sql`(${columns}) > (${values})`;
  }
  const branches = keys.map((key, i) => {
    const equal = keys.slice(0, i).map((prev, j) => sql`${sql(prev.field)} = ${typed(sql, prev, cursor.values[j]!)}`);
    const strict = after(key) ? sql`${sql(key.field)} < ${typed(sql, key, cursor.values[i]!)}` : sql`${sql(key.field)} > ${typed(sql, key, cursor.values[i]!)}`;
    return joined(sql, [...equal, strict], sql` and `);
  });
  return joined(
    sql,
    branches.map((b) => sql`(${b})`),
    sql` or `,
  );
}
