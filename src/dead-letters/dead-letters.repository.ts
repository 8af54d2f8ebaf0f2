// Every SQL statement about dead letters and their replays, and nothing else. Values are always
// bound parameters.
import type { Sql } from "../db/client";
import { type Fragment, whereAll } from "../db/fragments";

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

export type ReplayResult = "stored" | "duplicate" | "failed";

/** A letter as the list shows it: with how often it was replayed and how the last replay went. */
export interface ListedDeadLetterRow extends DeadLetterRow {
  replay_count: string;
  last_replayed_at: string | null;
  last_result: ReplayResult | null;
  last_replay_reason: string | null;
}

/** A letter as a replay reads it: the source's own time too, so the mapping sees what it saw. */
export interface ReplayableDeadLetterRow extends DeadLetterRow {
  source_timestamp: string | null;
}

export async function countDeadLetters(sql: Sql): Promise<number> {
  const [row] = await sql<{ count: string }[]>`select count(*) as count from dead_letters`;
  return Number(row!.count);
}

/** Newest first; id breaks ties between letters of one transaction (same received_at). */
export async function listDeadLetters(sql: Sql, limit: number, offset: number): Promise<ListedDeadLetterRow[]> {
  return sql<ListedDeadLetterRow[]>`
    select d.id, d.topic, d."partition", d."offset", d.message_key, d.payload, d.reason, d.received_at,
           coalesce(n.count, 0) as replay_count, l.replayed_at as last_replayed_at, l.result as last_result, l.reason as last_replay_reason
    from (select * from dead_letters order by received_at desc, id desc limit ${limit} offset ${offset}) d
    left join lateral (
      select replayed_at, result, reason from dead_letter_replays r
      where r.dead_letter_id = d.id order by replayed_at desc, id desc limit 1) l on true
    left join lateral (select count(*) from dead_letter_replays r where r.dead_letter_id = d.id) n on true
    order by d.received_at desc, d.id desc`;
}

/** Which letters a replay takes; every given part must hold (and). */
export interface ReplaySelection {
  ids?: number[];
  /** Case-insensitive substring of the reason. */
  reasonContains?: string;
  /** ISO-8601: letters received at or after it. */
  since?: string;
}

function selectionConditions(sql: Sql, selection: ReplaySelection): Fragment[] {
  const parts: Fragment[] = [];
  if (selection.ids?.length) parts.push(sql`d.id = any(${selection.ids.map(String)}::bigint[])`);
  if (selection.reasonContains !== undefined) parts.push(sql`strpos(lower(d.reason), lower(${selection.reasonContains})) > 0`);
  if (selection.since !== undefined) parts.push(sql`d.received_at >= ${selection.since}::timestamptz`);
  return parts;
}

/** A letter some replay stored (or found stored already) is resolved: it is never replayed again. */
const resolved = (sql: Sql) => sql`exists (select from dead_letter_replays r where r.dead_letter_id = d.id and r.result <> 'failed')`;

/** How many selected letters are still to replay, and how many a replay resolved already. */
export async function countReplaySelection(sql: Sql, selection: ReplaySelection): Promise<{ pending: number; resolved: number }> {
  const [row] = await sql<{ pending: string; resolved: string }[]>`
    select count(*) filter (where not ${resolved(sql)}) as pending, count(*) filter (where ${resolved(sql)}) as resolved
    from dead_letters d ${whereAll(sql, selectionConditions(sql, selection))}`;
  return { pending: Number(row!.pending), resolved: Number(row!.resolved) };
}

/** The next `limit` unresolved selected letters after id `afterId`, in id order (keyset: constant cost per batch). */
export async function replayableAfter(sql: Sql, selection: ReplaySelection, afterId: string, limit: number): Promise<ReplayableDeadLetterRow[]> {
  const where = whereAll(sql, [...selectionConditions(sql, selection), sql`d.id > ${afterId}::bigint`, sql`not ${resolved(sql)}`]);
  return sql<ReplayableDeadLetterRow[]>`
    select d.id, d.topic, d."partition", d."offset", d.message_key, d.payload, d.reason, d.received_at, d.source_timestamp
    from dead_letters d ${where} order by d.id limit ${limit}`;
}

/** bid_ids among `bidIds` that an outcome already has (a dry run's "already stored"). */
export async function storedBidIds(sql: Sql, bidIds: string[]): Promise<Set<string>> {
  if (bidIds.length === 0) return new Set();
  const rows = await sql<{ bid_id: string }[]>`select distinct bid_id from auction_outcomes where bid_id = any(${bidIds}::text[])`;
  return new Set(rows.map((row) => row.bid_id));
}

export interface ReplayRecord {
  deadLetterId: string;
  result: ReplayResult;
  /** The new reason of a failed replay; null otherwise. */
  reason: string | null;
  previousReason: string;
}

/** One transaction: a replay row per letter, and each still-failing letter's reason replaced by the new one. */
export async function recordReplays(sql: Sql, records: readonly ReplayRecord[]): Promise<void> {
  if (records.length === 0) return;
  const failed = records.filter((record) => record.result === "failed");
  await sql.begin(async (tx) => {
    await tx`
      insert into dead_letter_replays (dead_letter_id, result, reason, previous_reason)
      select * from unnest(
        ${records.map((r) => r.deadLetterId)}::bigint[],
        ${records.map((r) => r.result)}::text[],
        ${records.map((r) => r.reason)}::text[],
        ${records.map((r) => r.previousReason)}::text[])`;
    if (failed.length === 0) return;
    await tx`
      update dead_letters d set reason = f.reason
      from unnest(${failed.map((r) => r.deadLetterId)}::bigint[], ${failed.map((r) => r.reason!)}::text[]) as f(id, reason)
      where d.id = f.id`;
  });
}
