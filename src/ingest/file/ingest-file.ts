// Backfill from NDJSON, one Kafka message value a line (what `produce-sample --file` sends): lines
// become messages and go through the one ingest step, as Kafka records do. A line's position is
// (ingest-file:<absolute path>, 0, <line number>), so a bad line is a dead letter naming the file
// and the line, recorded once however often the file is ingested; outcomes are stored once by
// the writer's unique bid_id.
//
// A line carries no time of its own (a Kafka record has its timestamp), so a message without
// timestamp and auction_timestamp is a dead letter, not given a time: the file's mtime changes
// with a copy or a touch and the clock with every run, and an outcome given another instant on
// a second run can land in another partition, where its bid_id is not yet taken — stored twice.

import type { ReplaceablePool } from "../../db/pool";
import type { Logger } from "../../log";
import { MAX_MESSAGE_BYTES } from "../../outcomes/outcome.mapping";
import type { MessageSource } from "../batch-writer";
import { createIngestCounters, createIngestStep, type IngestCounters, type IngestedBatch } from "../ingest-step";
import { startProgress, summaryFields } from "../progress";
import { type NdjsonLine, ndjsonLines } from "./ndjson-lines";

export const FILE_SOURCE = "ingest-file";
/** Lines per transaction, as import-original's rows. */
export const DEFAULT_FILE_BATCH = 2_000;

/** The consumer's reason for a value over the limit, and what the dead letter keeps of the line. */
export const oversizeReason = (bytes: number) =>
  `value is ${bytes} bytes, over the 1 MiB limit (${MAX_MESSAGE_BYTES} bytes); the dead letter keeps its first ${MAX_MESSAGE_BYTES} bytes`;

export function lineSource(topic: string, line: NdjsonLine): MessageSource {
  return {
    topic,
    partition: 0,
    offset: String(line.number),
    key: null,
    payload: line.bytes,
    timestamp: null,
    ...(line.oversizeBytes === undefined ? {} : { unreadable: oversizeReason(line.oversizeBytes) }),
  };
}

export interface FileInput {
  /** The dead-letter topic: ingest-file:<absolute path>, or ingest-file:stdin@<start time>. */
  topic: string;
  /** What the lines say as `file`. */
  name: string;
  chunks: AsyncIterable<Uint8Array>;
  /** Bytes in all, for the ETA; null for standard input. */
  size: number | null;
}

export interface FileIngestDeps {
  pool: ReplaceablePool;
  log: Logger;
  retentionDays?: number;
  terminal?: { isTTY?: boolean; write(text: string): unknown };
}

export interface FileIngestOptions {
  batchSize: number;
  progressIntervalMs?: number;
  stopRequested(): boolean;
}

export interface FileIngestResult {
  counters: IngestCounters;
  lines: number;
  blankLines: number;
  /** False when stopped before the end. */
  completed: boolean;
  elapsedMs: number;
}

export async function ingestFile(deps: FileIngestDeps, input: FileInput, options: FileIngestOptions): Promise<FileIngestResult> {
  const { log } = deps;
  const counters = createIngestCounters();
  const step = createIngestStep({ pool: deps.pool, log, counters, quiet: true, retentionDays: deps.retentionDays });
  const progress = startProgress({
    log,
    message: "File ingest progress",
    terminal: deps.terminal,
    intervalMs: options.progressIntervalMs,
    fields: { file: input.name },
  });
  let bytesRead = 0;
  let lines = 0;
  let blankLines = 0;
  let stopped = false;
  // One batch written while the next is read and split: at most two batches in memory.
  let writing: Promise<IngestedBatch | null> | null = null;
  const settle = async () => {
    if (writing === null) return;
    const batch = await writing;
    writing = null;
    if (batch === null) stopped = true;
    progress.update(counters.totalMessages, input.size ? bytesRead / input.size : null);
  };
  const write = (batch: MessageSource[]) => {
    const first = batch[0]!.offset;
    const last = batch[batch.length - 1]!.offset;
    writing = step.ingest(batch, { abandoned: options.stopRequested, fields: { file: input.name, first_line: first, last_line: last } });
  };

  let batch: MessageSource[] = [];
  for await (const line of ndjsonLines(input.chunks, MAX_MESSAGE_BYTES, (bytes) => (bytesRead += bytes))) {
    lines = line.number;
    if (line.blank) {
      blankLines += 1;
      continue;
    }
    batch.push(lineSource(input.topic, line));
    if (batch.length >= options.batchSize) {
      await settle();
      if (stopped || options.stopRequested()) break;
      write(batch);
      batch = [];
    }
  }
  await settle();
  if (!stopped && !options.stopRequested() && batch.length > 0) {
    write(batch);
    await settle();
  }
  const completed = !stopped && !options.stopRequested();
  progress.finish();
  return { counters, lines, blankLines, completed, elapsedMs: progress.elapsedMs() };
}

export function fileSummary(input: Pick<FileInput, "name">, result: FileIngestResult) {
  return { file: input.name, lines: result.lines, blank_lines: result.blankLines, ...summaryFields(result.counters, result.elapsedMs) };
}
