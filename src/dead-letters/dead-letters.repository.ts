// Every SQL statement about dead letters, and nothing else. Values are always bound parameters.
import type { Sql } from "../db/client";

/** A stored dead letter: bigints and timestamps as PostgreSQL text, bytea as bytes. */
export interface DeadLetterRow {
  id: string;
  topic: string;
  partition: number;
  offset: string;
  message_key: Uint8Array | null;
  payload: Uint8Array | null;
  reason: string;
  received_at: string;
}

export async function countDeadLetters(sql: Sql): Promise<number> {
  const [row] = await sql<{ count: string }[]>`select count(*) as count from dead_letters`;
  return Number(row!.count);
}

/** Newest first; id breaks ties between letters of one transaction (same received_at). */
export async function listDeadLetters(sql: Sql, limit: number, offset: number): Promise<DeadLetterRow[]> {
  return sql<DeadLetterRow[]>`
    select id, topic, "partition", "offset", message_key, payload, reason, received_at
    from dead_letters
    order by received_at desc, id desc
    limit ${limit} offset ${offset}`;
}
