// Import of the original service's history: keyset pages of its table (original-table.ts) become
// messages — each row's raw_data, the message as the original received it — and go through the
// one ingest step, exactly as the consumer's Kafka records do. The original's own columns are not
// read for the outcome: they carry its bugs ("false" stored as true, unparsable prices stored as
// 0, the insert time stored as the auction time), and raw_data through today's mapping does not.
//
// Exactly once: the writer's unique bid_id turns the original's repeated bid_ids (it had no unique
// key) and any re-read batch into counted duplicates, and a dead letter's position
// (import-original:<source>/<table>, 0, <original id>) is unique. Resuming: the last committed id
// is kept in our database (import_progress); a crash between a batch and its progress record
// re-reads that batch, which then stores nothing new.
import type { Sql } from "../../db/client";
import type { ReplaceablePool } from "../../db/pool";
import type { Logger } from "../../log";
import type { MessageSource } from "../batch-writer";
import { createIngestCounters, createIngestStep, errorSummary, type IngestCounters } from "../ingest-step";
import { type ProgressReporter, startProgress, summaryFields } from "../progress";
import { type ImportProgress, readImportProgress, recordImportProgress } from "./import-progress.repository";
import { idRangeAfter, type OriginalRow, type OriginalSource, type ResolvedTable, readPage } from "./original-table";

export const IMPORT_SOURCE = "import-original";
/** Rows per transaction. Two pages are in memory at once (one written, one read ahead). */
export const DEFAULT_IMPORT_BATCH = 2_000;

const encoder = new TextEncoder();

/** The dead-letter topic of one source table: which import a dead letter came from; its offset is the original id. */
export const importTopic = (source: OriginalSource, table: ResolvedTable) => `${IMPORT_SOURCE}:${source.name}/${table.qualified}`;

/** The reason of a row whose message the original did not keep. */
export const missingRawDataReason = (row: OriginalRow) =>
  `original row id ${row.id}${row.bid_id === null ? "" : ` (bid_id ${JSON.stringify(row.bid_id)})`} has no raw_data: the message as received is missing, and its other columns carry the original's bugs, so no outcome is rebuilt from them`;

/**
 * The original's rows as the ingest step reads them. The source time of a row is its stored
 * `timestamp` column: the auction time only of a message that carries neither timestamp nor
 * auction_timestamp, and the same on every run, so a re-run puts such a row on the same instant
 * (the same partition) and it stays a duplicate. The wall clock would move it on every run.
 */
export function originalSources(topic: string, rows: readonly OriginalRow[]): MessageSource[] {
  return rows.map((row) => ({
    topic,
    partition: 0,
    offset: row.id,
    key: row.bid_id === null ? null : encoder.encode(row.bid_id),
    payload: row.raw_data === null ? null : encoder.encode(row.raw_data),
    timestamp: row.timestamp,
    ...(row.raw_data === null ? { unreadable: missingRawDataReason(row) } : {}),
  }));
}

export interface ImportDeps {
  /** Our database, through the ingest step's retrying pool. */
  pool: ReplaceablePool;
  /** The original's database. */
  original: Sql;
  source: OriginalSource;
  table: ResolvedTable;
  log: Logger;
  retentionDays?: number;
  /** Where the bar goes (default stderr). */
  terminal?: { isTTY?: boolean; write(text: string): unknown };
}

export interface ImportOptions {
  batchSize: number;
  progressIntervalMs?: number;
  /** Checked between batches and while retrying a write: true stops after the batch in hand. */
  stopRequested(): boolean;
}

export interface ImportResult {
  counters: IngestCounters;
  /** True when the table was read to its end; false when stopped first. */
  completed: boolean;
  /** The last original id committed (resume point), "0" when none ever was. */
  lastId: string;
  resumedFrom: ImportProgress | null;
  elapsedMs: number;
}

/** Share of this run's id range behind `id`; null when the range is unknown. */
function idFraction(range: { first: string | null; last: string | null }, id: string): number | null {
  if (range.first === null || range.last === null) return null;
  const first = Number(range.first);
  const span = Number(range.last) - first + 1;
  return span > 0 ? Math.min(1, (Number(id) - first + 1) / span) : null;
}

async function recordProgress(deps: ImportDeps, step: Parameters<typeof recordImportProgress>[3]): Promise<void> {
  try {
    await recordImportProgress(deps.pool.sql, deps.source.name, deps.table.qualified, step);
  } catch (error) {
    // The batch is stored; without this record a resume re-reads it, and it stores nothing twice.
    deps.log.warn("Import progress not recorded; a resume re-reads this batch as duplicates", { last_id: step.lastId, ...errorSummary(error) });
  }
}

export async function importOriginal(deps: ImportDeps, options: ImportOptions): Promise<ImportResult> {
  const { original, table, log } = deps;
  const counters = createIngestCounters();
  // Batch and dead-letter lines at DEBUG: the progress lines and the summary say how it goes, and
  // /api/dead_letters/ lists every row set aside.
  const step = createIngestStep({ pool: deps.pool, log, counters, quiet: true, retentionDays: deps.retentionDays });
  // Outside the ingest step's retries: a database that cannot be reached ends the run here.
  const resumedFrom = await readImportProgress(deps.pool.sql, deps.source.name, table.qualified);
  let lastId = resumedFrom?.lastId ?? "0";
  const range = await idRangeAfter(original, table, lastId);
  const topic = importTopic(deps.source, table);
  log.info("Import from the original started", {
    source: deps.source.name,
    table: table.qualified,
    resume_after_id: resumedFrom?.lastId ?? null,
    first_id: range.first,
    max_id: range.last,
    batch_size: options.batchSize,
  });
  const progress: ProgressReporter = startProgress({
    log,
    message: "Import progress",
    terminal: deps.terminal,
    intervalMs: options.progressIntervalMs,
    fields: { source: deps.source.name, table: table.qualified },
  });

  let completed = false;
  const read = (after: string) => {
    const page = readPage(original, table, after, options.batchSize);
    page.catch(() => {}); // awaited below; a page read ahead of a stop must not be an unhandled rejection
    return page;
  };
  // One page read ahead: the original's database reads the next page while ours writes this one.
  let next = read(lastId);
  while (!options.stopRequested()) {
    const rows = await next;
    if (rows.length === 0) {
      completed = true;
      break;
    }
    const pageLast = rows[rows.length - 1]!.id;
    next = read(pageLast);
    const batch = await step.ingest(originalSources(topic, rows), {
      abandoned: options.stopRequested,
      fields: { source: deps.source.name, first_id: rows[0]!.id, last_id: pageLast },
    });
    if (batch === null) break;
    await recordProgress(deps, {
      lastId: pageLast,
      read: rows.length,
      stored: batch.result.inserted,
      duplicates: batch.result.duplicates,
      deadLettered: batch.result.deadLettered,
    });
    lastId = pageLast;
    progress.update(counters.totalMessages, idFraction(range, pageLast));
  }
  progress.finish();
  return { counters, completed, lastId, resumedFrom, elapsedMs: progress.elapsedMs() };
}

/** The closing line's fields. */
export function importSummary(deps: Pick<ImportDeps, "source" | "table">, result: ImportResult) {
  return {
    source: deps.source.name,
    table: deps.table.qualified,
    ...summaryFields(result.counters, result.elapsedMs),
    last_id: result.lastId,
    resumed_after_id: result.resumedFrom?.lastId ?? null,
  };
}
