// Rows → JSON records. Bytes are shown as text when they are UTF-8 (the usual bad JSON), else as
// base64, so a payload that was rejected for not being UTF-8 still comes back byte for byte.
import { isoUtc } from "../values/timestamps";
import type { ListedDeadLetterRow } from "./dead-letters.repository";
import type { DeadLetterRecord } from "./dead-letters.schema";

const utf8 = new TextDecoder("utf-8", { fatal: true });

export function renderBytes(bytes: Uint8Array | null): { text: string | null; encoding: "utf-8" | "base64" | null } {
  if (bytes === null) return { text: null, encoding: null };
  try {
    return { text: utf8.decode(bytes), encoding: "utf-8" };
  } catch {
    return { text: Buffer.from(bytes).toString("base64"), encoding: "base64" };
  }
}

export function renderDeadLetter(row: ListedDeadLetterRow): DeadLetterRecord {
  const key = renderBytes(row.message_key);
  const payload = renderBytes(row.payload);
  return {
    id: Number(row.id),
    topic: row.topic,
    partition: row.partition,
    offset: Number(row.offset),
    key: key.text,
    key_encoding: key.encoding,
    payload: payload.text,
    payload_encoding: payload.encoding,
    reason: row.reason,
    received_at: isoUtc(row.received_at),
    replay_count: Number(row.replay_count),
    last_replay:
      row.last_replayed_at === null || row.last_result === null
        ? null
        : { replayed_at: isoUtc(row.last_replayed_at), result: row.last_result, reason: row.last_replay_reason },
  };
}
