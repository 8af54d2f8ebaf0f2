// Batches for the writer built the way every source builds them: messages → MessageSource →
// the ingest step's toBatchInput (the consumer's mapping), each message at its own position.
import type { BatchInput, MessageSource } from "../../src/ingest/batch-writer";
import { toBatchInput } from "../../src/ingest/ingest-step";

const encoder = new TextEncoder();

export function sourcesOf(messages: readonly unknown[], options: { topic?: string; firstOffset?: number; timestamp?: string | null } = {}): MessageSource[] {
  return messages.map((message, i) => ({
    topic: options.topic ?? "test-batches",
    partition: 0,
    offset: String((options.firstOffset ?? 0) + i),
    key: null,
    payload: encoder.encode(typeof message === "string" ? message : JSON.stringify(message)),
    timestamp: options.timestamp === undefined ? "2025-11-01T00:00:00.000Z" : options.timestamp,
  }));
}

export const batchOf = (messages: readonly unknown[], options: Parameters<typeof sourcesOf>[1] = {}): BatchInput => toBatchInput(sourcesOf(messages, options));

/** A minimal valid outcome at `timestamp`. */
export const outcomeAt = (bidId: string, timestamp: string, extra: Record<string, unknown> = {}) => ({
  bid_request_id: bidId,
  user_id: "u-storage",
  site_domain: "storage.example",
  win_status: true,
  win_price: "1.25",
  bid_price: "1.50",
  timestamp,
  ...extra,
});
