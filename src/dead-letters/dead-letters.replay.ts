// Dead-letter replay: a reader of stored dead letters for the one ingest step. Each selected
// letter's payload goes through the current mapping and the batch writer again (createIngestStep:
// the same mapping, retention check, writer and retry as the consumer), with the letter's own
// position and source time, so a message that now passes is stored exactly once (the writer's
// unique key; a redelivered copy becomes a duplicate) and one that still fails is set aside at the
// same position, where its dead letter already is. The letter is never deleted: each replay is
// recorded (dead_letter_replays), and a failing letter's reason becomes the new one.
//
// A letter a replay stored is resolved and not selected again. Between the write and the record
// of a batch a crash leaves its letters unresolved; the next replay finds them stored and records
// them as duplicates: the outcome is still stored once.
import type { Sql } from "../db/client";
import type { ReplaceablePool } from "../db/pool";
import type { MessageSource } from "../ingest/batch-writer";
import { createIngestCounters, createIngestStep, type IngestedBatch, setAsideTooOld, toBatchInput } from "../ingest/ingest-step";
import type { Logger } from "../log";
import { isoUtc } from "../values/timestamps";
import {
  countReplaySelection,
  type ReplayableDeadLetterRow,
  type ReplayRecord,
  type ReplaySelection,
  recordReplays,
  replayableAfter,
  storedBidIds,
} from "./dead-letters.repository";

/** Letters per ingest batch: one transaction each, like a consumer batch. */
export const REPLAY_BATCH_SIZE = 500;

export interface ReplayOptions {
  pool: ReplaceablePool;
  log: Logger;
  selection: ReplaySelection;
  /** Map and look up only: report what would happen, write nothing. */
  dryRun: boolean;
  /** RETENTION_DAYS: older outcomes stay dead letters, as the consumer would set them aside. */
  retentionDays?: number;
  batchSize?: number;
  /** After each batch. */
  onProgress?(progress: ReplayProgress): void;
  /** Each letter's result, as it is known (a dry run's report lists them). */
  onLetter?(letter: ReplayableDeadLetterRow, outcome: LetterOutcome): void;
  /** Checked between batches and while a write waits to be retried: true stops the replay there. */
  stopping?(): boolean;
}

export interface LetterOutcome {
  result: ReplayRecord["result"];
  /** The bid_id the message maps to, when it maps. */
  bidId: string | null;
  reason: string | null;
}

export interface ReplayProgress {
  /** Selected letters not resolved before this run: the ones it replays. */
  total: number;
  done: number;
  stored: number;
  duplicates: number;
  failed: number;
}

export interface ReplaySummary extends ReplayProgress {
  dryRun: boolean;
  /** Selected letters a previous replay resolved: not replayed again. */
  alreadyResolved: number;
  /** Stopped by a signal before every selected letter was replayed. */
  interrupted: boolean;
  seconds: number;
}

/** A dead letter as the message it was: its position, key, payload and the source's own time. */
export function messageOfLetter(letter: ReplayableDeadLetterRow): MessageSource {
  return {
    topic: letter.topic,
    partition: letter.partition,
    offset: letter.offset,
    key: letter.message_key,
    payload: letter.payload,
    timestamp: isoUtc(letter.source_timestamp),
  };
}

/**
 * What the ingest step made of each message: failed (the mapping or the database refused it),
 * stored (the first of its bid_id this batch inserted), or duplicate (already stored).
 */
export function outcomesOfBatch(batch: IngestedBatch): Map<MessageSource, LetterOutcome> {
  const outcomes = new Map<MessageSource, LetterOutcome>();
  for (const rejection of batch.input.rejections) outcomes.set(rejection.source, { result: "failed", bidId: null, reason: rejection.reason });
  const refused = new Map(batch.result.refused.map((rejection) => [rejection.source, rejection.reason]));
  const inserted = new Set(batch.result.insertedBidIds);
  for (const { row, source } of batch.input.rows) {
    const reason = refused.get(source);
    if (reason !== undefined) outcomes.set(source, { result: "failed", bidId: row.bid_id, reason });
    else outcomes.set(source, { result: inserted.delete(row.bid_id) ? "stored" : "duplicate", bidId: row.bid_id, reason: null });
  }
  return outcomes;
}

/**
 * A dry run's outcomes: the mapping (and the retention check) run as in a replay, the table is
 * only read for bid_ids stored already. `willStore` carries the bid_ids earlier batches would store.
 * A row the database would refuse cannot be known without writing it: it counts as stored here.
 */
async function dryRunOutcomes(sql: Sql, messages: MessageSource[], retentionDays: number | undefined, willStore: Set<string>) {
  const mapped = toBatchInput(messages);
  const input = retentionDays === undefined ? mapped : setAsideTooOld(mapped, Date.now() - retentionDays * 86_400_000, retentionDays).input;
  const outcomes = new Map<MessageSource, LetterOutcome>();
  for (const rejection of input.rejections) outcomes.set(rejection.source, { result: "failed", bidId: null, reason: rejection.reason });
  const stored = await storedBidIds(
    sql,
    input.rows.map((pending) => pending.row.bid_id),
  );
  for (const { row, source } of input.rows) {
    const duplicate = stored.has(row.bid_id) || willStore.has(row.bid_id);
    willStore.add(row.bid_id);
    outcomes.set(source, { result: duplicate ? "duplicate" : "stored", bidId: row.bid_id, reason: null });
  }
  return outcomes;
}

export async function replayDeadLetters(options: ReplayOptions): Promise<ReplaySummary> {
  const began = performance.now();
  const { pool, log, selection, dryRun } = options;
  const stopping = options.stopping ?? (() => false);
  const counts = await countReplaySelection(pool.sql, selection);
  const progress: ReplayProgress = { total: counts.pending, done: 0, stored: 0, duplicates: 0, failed: 0 };
  const step = createIngestStep({ pool, log, counters: createIngestCounters(), quiet: true, retentionDays: options.retentionDays });
  const willStore = new Set<string>();
  let interrupted = false;
  // Keyset over id: a resolved letter drops out of the selection, a failed one stays behind the key.
  let afterId = "0";
  for (;;) {
    if (stopping()) {
      interrupted = true;
      break;
    }
    const letters = await replayableAfter(pool.sql, selection, afterId, options.batchSize ?? REPLAY_BATCH_SIZE);
    if (letters.length === 0) break;
    afterId = letters[letters.length - 1]!.id;
    const messages = letters.map(messageOfLetter);
    let outcomes: Map<MessageSource, LetterOutcome>;
    if (dryRun) outcomes = await dryRunOutcomes(pool.sql, messages, options.retentionDays, willStore);
    else {
      const batch = await step.ingest(messages, { abandoned: stopping, fields: { source: "dead-letter replay", first_id: letters[0]!.id, last_id: afterId } });
      if (batch === null) {
        interrupted = true;
        break;
      }
      outcomes = outcomesOfBatch(batch);
    }
    const records: ReplayRecord[] = letters.map((letter, i) => {
      const outcome = outcomes.get(messages[i]!)!;
      options.onLetter?.(letter, outcome);
      if (outcome.result === "stored") progress.stored++;
      else if (outcome.result === "duplicate") progress.duplicates++;
      else progress.failed++;
      return { deadLetterId: letter.id, result: outcome.result, reason: outcome.reason, previousReason: letter.reason };
    });
    if (!dryRun) await recordReplays(pool.sql, records);
    progress.done += letters.length;
    options.onProgress?.({ ...progress });
  }
  return { ...progress, dryRun, alreadyResolved: counts.resolved, interrupted, seconds: (performance.now() - began) / 1000 };
}

/** The one line a replay ends with. */
export function summaryLine(summary: ReplaySummary): string {
  const seconds = `${summary.seconds.toFixed(1)} s`;
  const earlier = summary.alreadyResolved > 0 ? `; ${summary.alreadyResolved} resolved by an earlier replay, not replayed` : "";
  const stopped = summary.interrupted ? ` (stopped early: ${summary.total - summary.done} not replayed)` : "";
  if (summary.dryRun) {
    return `Dry run, nothing written: of ${summary.done} dead letters ${summary.stored} would be stored, ${summary.duplicates} already stored (duplicates), ${summary.failed} would still fail${earlier}${stopped}; ${seconds}.`;
  }
  return `Replayed ${summary.done} dead letters: ${summary.stored} stored, ${summary.duplicates} already stored (duplicates), ${summary.failed} still failing, kept with the new reason${earlier}${stopped}; ${seconds}.`;
}
