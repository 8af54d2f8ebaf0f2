// Kafka message value → the row to store, or the reason it cannot be one. Pure: no I/O, no clock
// (the source's own time of the message comes in as an argument), so every rule is unit-tested
// without services.
//
// Unlike the original (bool("false") was true, unparsable prices silently became 0.00, the insert
// time replaced the auction time), anything that cannot be read exactly is rejected with a reason
// and kept aside as a dead letter instead of being guessed.
import { numberToDecimalText } from "../values/decimals";
import { parseIsoTimestamp } from "../values/timestamps";

/** Values larger than this are refused before decoding (a runaway producer, not an outcome). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
/** varchar(255) columns: bid_id, user_id, site_domain. */
export const MAX_TEXT_LENGTH = 255;
/** The table's check constraint is `price < 1e12`; refusing here keeps the batch insert clean. */
const MAX_PRICE_INTEGER_DIGITS = 12;
/** Deeper JSON overflows stacks (ours while checking it, PostgreSQL's while storing it). */
export const MAX_JSON_DEPTH = 100;

/** One auction_outcomes row as inserted; numerics are exact decimal text, timestamps ISO-8601 with offset. */
export interface OutcomeInsert {
  bid_id: string;
  user_id: string;
  site_domain: string | null;
  win_status: boolean;
  win_price: string;
  bid_price: string;
  currency: string;
  enriched: boolean;
  timestamp: string;
  auction_timestamp: string | null;
  user_interests: unknown[];
  raw_data: Record<string, unknown>;
}

export type ParsedOutcome = { ok: true; row: OutcomeInsert } | { ok: false; reason: string };

type Message = Record<string, unknown>;

/** Thrown by the field readers below and turned into `{ ok: false }`; never leaves this module. */
class Rejected extends Error {}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A value as it appears in a reason: JSON, cut short so a reason stays one readable line. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}

const absent = (value: unknown) => value === undefined || value === null;

function decodeJsonObject(value: Uint8Array): Message {
  if (value.byteLength > MAX_MESSAGE_BYTES) {
    throw new Rejected(`value is ${value.byteLength} bytes, over the 1 MiB limit (${MAX_MESSAGE_BYTES} bytes)`);
  }
  let text: string;
  try {
    text = utf8.decode(value);
  } catch {
    throw new Rejected("value is not valid UTF-8");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Rejected(`value is not valid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    const kind = parsed === null ? "null" : Array.isArray(parsed) ? "an array" : `a ${typeof parsed}`;
    throw new Rejected(`value is JSON but not an object (got ${kind})`);
  }
  assertStorableText(parsed);
  return parsed as Message;
}

/**
 * PostgreSQL text and jsonb cannot hold U+0000, and a lone surrogate (`"\ud800"`, legal in JSON)
 * is not Unicode: either would make the database refuse the whole batch, so refuse the message.
 */
function assertStorableText(value: unknown, depth = 0): void {
  if (typeof value === "string") {
    if (value.includes("\u0000")) throw new Rejected("value contains a NUL character (\\u0000), which PostgreSQL cannot store");
    if (!value.isWellFormed()) throw new Rejected("value contains an unpaired UTF-16 surrogate, which is not valid Unicode");
    return;
  }
  if (typeof value !== "object" || value === null) return;
  if (depth >= MAX_JSON_DEPTH) throw new Rejected(`value is nested more than ${MAX_JSON_DEPTH} levels deep`);
  if (Array.isArray(value)) {
    for (const item of value) assertStorableText(item, depth + 1);
  } else {
    for (const [key, item] of Object.entries(value)) {
      assertStorableText(key, depth + 1);
      assertStorableText(item, depth + 1);
    }
  }
}

function readBidId(message: Message): string {
  const field = absent(message.bid_request_id) ? "bid_id" : "bid_request_id";
  const value = message[field];
  if (absent(value) || (typeof value === "string" && value.trim() === "")) {
    throw new Rejected("no bid id: expected a non-empty string in bid_request_id or bid_id");
  }
  if (typeof value !== "string") throw new Rejected(`${field} is not a string: got ${shown(value)}`);
  return limitLength(field, value);
}

function limitLength(field: string, value: string): string {
  if (value.length > MAX_TEXT_LENGTH) {
    throw new Rejected(`${field} is longer than ${MAX_TEXT_LENGTH} characters (${value.length})`);
  }
  return value;
}

/** A string field that may be missing: missing, null and "" all mean absent. */
function optionalText(message: Message, field: string): string | null {
  const value = message[field];
  if (absent(value) || value === "") return null;
  if (typeof value !== "string") throw new Rejected(`${field} is not a string: got ${shown(value)}`);
  return limitLength(field, value);
}

/** JSON booleans, and "true"/"false" in any case (Python's str(True) is "True"); missing is false. */
function readBoolean(message: Message, field: string): boolean {
  const value = message[field];
  if (absent(value)) return false;
  if (typeof value === "boolean") return value;
  if (typeof value === "string") {
    const text = value.trim().toLowerCase();
    if (text === "true") return true;
    if (text === "false") return false;
  }
  throw new Rejected(`${field} is not a boolean: got ${shown(value)} (expected true, false, "true" or "false")`);
}

const DECIMAL_TEXT = /^(-?)(\d+)(?:\.\d+)?$/;

/** A price as exact decimal text: a JSON number as written (shortest round trip), or a numeric string as sent. */
function readPrice(message: Message, field: string): string {
  const value = message[field];
  if (absent(value)) return "0";
  let text: string;
  if (typeof value === "number" && Number.isFinite(value)) {
    if (value < 0) throw new Rejected(`${field} is negative: got ${shown(value)}`);
    text = numberToDecimalText(value === 0 ? 0 : value); // -0 → "0"
  } else if (typeof value === "string" && DECIMAL_TEXT.test(value.trim())) {
    text = value.trim();
    if (text.startsWith("-") && /[1-9]/.test(text)) throw new Rejected(`${field} is negative: got ${shown(value)}`);
    text = text.replace(/^-/, "");
  } else {
    throw new Rejected(`${field} is not a number: got ${shown(value)}`);
  }
  const integerDigits = text.split(".")[0]!.replace(/^0+/, "");
  if (integerDigits.length > MAX_PRICE_INTEGER_DIGITS) {
    throw new Rejected(`${field} is too large: got ${shown(value)} (expected less than 1000000000000)`);
  }
  return text;
}

function readCurrency(message: Message): string {
  const value = message.currency;
  if (absent(value) || value === "") return "USD";
  if (typeof value !== "string" || !/^[A-Za-z]{3}$/.test(value.trim())) {
    throw new Rejected(`currency is not a 3-letter code: got ${shown(value)}`);
  }
  return value.trim().toUpperCase();
}

function readTimestamp(message: Message, field: string): string | null {
  const value = message[field];
  if (absent(value) || value === "") return null;
  if (typeof value !== "string") throw new Rejected(`${field} is not an ISO-8601 string: got ${shown(value)}`);
  const parsed = parseIsoTimestamp(value);
  if (parsed === null) throw new Rejected(`${field} is not a valid ISO-8601 date-time: got ${shown(value)}`);
  return parsed;
}

function toRow(message: Message, sourceTimestamp: string | null): OutcomeInsert {
  // The bid id first: a message without one is reported as such, whatever else is wrong with it.
  const bidId = readBidId(message);
  const auctionTimestamp = readTimestamp(message, "auction_timestamp");
  const ownTimestamp = readTimestamp(message, "timestamp");
  const timestamp = ownTimestamp ?? auctionTimestamp ?? (sourceTimestamp === null ? null : parseIsoTimestamp(sourceTimestamp));
  if (timestamp === null) {
    throw new Rejected("no auction time: expected timestamp or auction_timestamp (ISO-8601), and the source gives the message no time of its own");
  }
  return {
    bid_id: bidId,
    user_id: optionalText(message, "user_id") ?? "unknown",
    site_domain: optionalText(message, "site_domain") ?? optionalText(message, "page_url"),
    win_status: readBoolean(message, "win_status"),
    win_price: readPrice(message, "win_price"),
    bid_price: readPrice(message, "bid_price"),
    currency: readCurrency(message),
    enriched: readBoolean(message, "enriched"),
    // When the auction happened: replays and consumer lag must not move an outcome to another day,
    // and a redelivery must land on the same instant (and so in the same partition) as the first
    // delivery, hence the source's own time of the message (a Kafka record's timestamp) as the
    // last resort, never the ingest wall clock.
    timestamp,
    auction_timestamp: auctionTimestamp,
    user_interests: Array.isArray(message.user_interests) ? message.user_interests : [],
    raw_data: message,
  };
}

/**
 * Maps one message value to a row. `sourceTimestamp` (ISO-8601) is the source's own time of the
 * message, the same on every delivery (a Kafka record's timestamp); it is the auction time only
 * when the message carries neither `timestamp` nor `auction_timestamp`. Null: the source has none,
 * and such a message is rejected.
 */
export function parseOutcomeMessage(value: Uint8Array | null, sourceTimestamp: string | null): ParsedOutcome {
  if (value === null) return { ok: false, reason: "message has no value (a tombstone or an empty record)" };
  try {
    return { ok: true, row: toRow(decodeJsonObject(value), sourceTimestamp) };
  } catch (error) {
    if (error instanceof Rejected) return { ok: false, reason: error.message };
    throw error;
  }
}
