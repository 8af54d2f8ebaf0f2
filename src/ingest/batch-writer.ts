// Rows + rejections → one transaction → counts. The same writer serves every source through the
// ingest step (ingest-step.ts): sources differ in how they read, storage does not.
//
// Exactly once in the table comes from bid_id being unique in its partition: helios_store_outcomes
// (migration 008) inserts with ON CONFLICT DO NOTHING, so a redelivery, which carries the same
// auction time and so lands in the same partition, becomes a counted duplicate, and a source may
// deliver at least once and replay freely. The same statement adds exactly the stored rows to
// the rollups. One array parameter per column: no COPY (PGlite speaks the wire protocol without
// it) and no per-value parameters (postgres.js allows 65,534 per statement).
import type { Sql } from "../db/client";
import { isDataError } from "../db/errors";
import type { OutcomeInsert } from "../outcomes/outcome.mapping";
import { PartitionKeeper } from "../storage/partitions";

/** Where a message came from and what it was, kept whole for a dead letter. */
export interface MessageSource {
  topic: string;
  partition: number;
  /** int64 as decimal text, as Kafka clients report it. */
  offset: string;
  key: Uint8Array | null;
  payload: Uint8Array | null;
  /**
   * The source's own time of the message, ISO-8601, the same on every delivery (a Kafka record's
   * timestamp): the auction time of a message that carries none. Null when the source has none.
   */
  timestamp: string | null;
  /**
   * Set when the source itself could not read the message whole (a file line over the size
   * limit, an original row without its message): the reason. The mapping is skipped and the
   * message becomes a dead letter with what the source kept of it.
   */
  unreadable?: string;
}

export interface PendingRow {
  row: OutcomeInsert;
  /** Needed only if the database refuses the row: it is then dead-lettered from here. */
  source: MessageSource;
}

export interface Rejection {
  source: MessageSource;
  reason: string;
}

export interface BatchInput {
  rows: PendingRow[];
  rejections: Rejection[];
}

export interface BatchResult {
  /** New outcomes stored. */
  inserted: number;
  /** Rows whose bid_id was already stored (or appeared earlier in the same batch). */
  duplicates: number;
  /** Rejections given plus rows the database refused; all are in dead_letters now. */
  deadLettered: number;
  /** bid_ids of the rows inserted by this batch (for per-message DEBUG lines). */
  insertedBidIds: string[];
  /** Rows the database refused despite validation, with the database's reason. */
  refused: Rejection[];
}

function describeDbError(error: unknown): string {
  const { code, message, detail } = error as { code?: string; message?: string; detail?: string };
  return `database refused the row: ${message ?? String(error)}${detail ? ` (${detail})` : ""} [SQLSTATE ${code}]`;
}

/** bytea travels as hex text inside a text[] parameter, cast to bytea[] in SQL. */
const byteaText = (bytes: Uint8Array | null) => (bytes === null ? null : `\\x${Buffer.from(bytes).toString("hex")}`);

/** One call of helios_store_outcomes (an INSERT … SELECT FROM unnest(…) plus the rollups); returns the bid_ids stored. */
async function insertOutcomes(sql: Sql, rows: OutcomeInsert[]): Promise<string[]> {
  if (rows.length === 0) return [];
  // Every column goes as text[] and is cast in SQL: postgres.js infers an array's type from its
  // first element (bool for booleans, unknown for strings), and only text[] is uniform.
  const column = <K extends keyof OutcomeInsert>(key: K) => rows.map((row) => row[key]);
  const asText = (values: boolean[]) => values.map(String);
  const asJson = (values: unknown[]) => values.map((value) => JSON.stringify(value));
  const inserted = await sql<{ bid_id: string }[]>`
    select bid_id from helios_store_outcomes(
      ${column("bid_id")}::text[],
      ${column("user_id")}::text[],
      ${column("site_domain")}::text[],
      ${asText(column("win_status"))}::text[]::boolean[],
      ${column("win_price")}::text[]::numeric[],
      ${column("bid_price")}::text[]::numeric[],
      ${column("currency")}::text[],
      ${asText(column("enriched"))}::text[]::boolean[],
      ${column("timestamp")}::text[]::timestamptz[],
      ${column("auction_timestamp")}::text[]::timestamptz[],
      ${asJson(column("user_interests"))}::text[]::jsonb[],
      ${asJson(column("raw_data"))}::text[]::jsonb[]) as stored(bid_id)`;
  return inserted.map((row) => row.bid_id);
}

/** A bad message delivered again is recorded once, like a good one: its position is unique. */
async function insertDeadLetters(sql: Sql, rejections: Rejection[]): Promise<void> {
  if (rejections.length === 0) return;
  const sources = rejections.map((rejection) => rejection.source);
  await sql`
    insert into dead_letters (topic, "partition", "offset", message_key, payload, reason, source_timestamp)
    select * from unnest(
      ${sources.map((s) => s.topic)}::text[],
      ${sources.map((s) => String(s.partition))}::text[]::integer[],
      ${sources.map((s) => s.offset)}::text[]::bigint[],
      ${sources.map((s) => byteaText(s.key))}::text[]::bytea[],
      ${sources.map((s) => byteaText(s.payload))}::text[]::bytea[],
      ${rejections.map((r) => r.reason)}::text[],
      ${sources.map((s) => s.timestamp)}::text[]::timestamptz[])
    on conflict (topic, "partition", "offset") do nothing`;
}

type RowInserter = (tx: Sql, rows: PendingRow[], refused: Rejection[]) => Promise<string[]>;

const insertAll: RowInserter = (tx, rows) =>
  insertOutcomes(
    tx,
    rows.map((pending) => pending.row),
  );

/**
 * Halves the rows recursively, each attempt under a savepoint, until every refused row stands
 * alone: k bad rows among n cost about k·log2(n) statements, and the good rows all get stored.
 */
const insertIsolating: RowInserter = async (tx, rows, refused) => {
  if (rows.length === 0) return [];
  try {
    return await (tx as unknown as { savepoint<T>(fn: (sp: Sql) => Promise<T>): Promise<T> }).savepoint((sp) =>
      insertOutcomes(
        sp,
        rows.map((pending) => pending.row),
      ),
    );
  } catch (error) {
    if (!isDataError(error)) throw error;
    if (rows.length === 1) {
      refused.push({ source: rows[0]!.source, reason: describeDbError(error) });
      return [];
    }
    const middle = rows.length >>> 1;
    const first = await insertIsolating(tx, rows.slice(0, middle), refused);
    const second = await insertIsolating(tx, rows.slice(middle), refused);
    return [...first, ...second];
  }
};

/**
 * Concurrent batches upsert the same rollup rows. One statement locks them in key order, so two
 * such batches never deadlock; the isolating path's statements each lock their half's keys, an
 * order no other batch follows. It waits for the batches in flight and holds new ones back
 * (exclusive against their shared hold of this key) for the little while it runs: a poison row
 * costs a pause, never a deadlock and a retry.
 */
const ROLLUP_WRITERS_LOCK = 7_245_310_118;

async function store(sql: Sql, batch: BatchInput, insertRows: RowInserter): Promise<BatchResult> {
  return (await sql.begin(async (tx) => {
    if (insertRows === insertIsolating) await tx`select pg_advisory_xact_lock(${ROLLUP_WRITERS_LOCK})`;
    else await tx`select pg_advisory_xact_lock_shared(${ROLLUP_WRITERS_LOCK})`;
    const refused: Rejection[] = [];
    const insertedBidIds = await insertRows(tx as unknown as Sql, batch.rows, refused);
    await insertDeadLetters(tx as unknown as Sql, [...batch.rejections, ...refused]);
    return {
      inserted: insertedBidIds.length,
      duplicates: batch.rows.length - insertedBidIds.length - refused.length,
      deadLettered: batch.rejections.length + refused.length,
      insertedBidIds,
      refused,
    };
  })) as BatchResult;
}

/**
 * Stores a batch in one transaction: its outcomes (duplicates skipped) and its dead letters.
 * Throws only when nothing was committed (connection lost, deadlock, database down…): the caller
 * retries the same batch, which is safe because a replay only produces duplicates.
 *
 * A row the database refuses despite validation (a poison message) must not block ingest
 * forever: the batch is redone with that row isolated and dead-lettered with the database's reason.
 */
/** Partitions known to exist, per process: each period is asked for once. */
const sharedPartitions = new PartitionKeeper();

export async function writeBatch(sql: Sql, batch: BatchInput, partitions: PartitionKeeper = sharedPartitions): Promise<BatchResult> {
  if (batch.rows.length === 0 && batch.rejections.length === 0) {
    return { inserted: 0, duplicates: 0, deadLettered: 0, insertedBidIds: [], refused: [] };
  }
  // Before the batch's transaction, each in its own: a partition's DDL must not hold locks for
  // the length of a write, and a period whose partition could not be made still gets stored.
  await partitions.ensureFor(
    sql,
    batch.rows.map((pending) => pending.row.timestamp),
  );
  try {
    // The common case: one statement for all rows, no savepoints.
    return await store(sql, batch, insertAll);
  } catch (error) {
    if (!isDataError(error)) throw error;
    return store(sql, batch, insertIsolating);
  }
}
