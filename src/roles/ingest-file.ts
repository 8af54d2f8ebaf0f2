// `bun run start ingest-file PATH|- [--batch-size N] [--progress-interval MS]`: an NDJSON file (or
// standard input) into our tables through the one ingest step, as a process: the argument, the
// file, our pool, signals (stop after the batch in hand), exit code.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { parseOptions, UsageError } from "../cli/options";
import type { Config } from "../config";
import { DEFAULT_FILE_BATCH, FILE_SOURCE, type FileInput, fileSummary, ingestFile } from "../ingest/file/ingest-file";
import { errorSummary } from "../ingest/ingest-step";
import type { Logger } from "../log";
import { batchPool, exitCodeOf, stopAfterBatch } from "./batch-run";

const OPTIONS = {
  "--batch-size": { kind: "integer", min: 1, max: 10_000, accepts: `lines per transaction, 1 to 10000 (default ${DEFAULT_FILE_BATCH})` },
  "--progress-interval": { kind: "integer", min: 100, accepts: "milliseconds between JSON progress lines, ≥ 100 (default 5000)" },
} as const;

const POSITIONAL = { max: 1, accepts: "NDJSON file (a path, or - for standard input)" };

export interface IngestFileArgs {
  path: string;
  batchSize: number;
  progressIntervalMs?: number;
}

export function parseIngestFileArgs(args: string[]): IngestFileArgs {
  const options = parseOptions(args, OPTIONS, POSITIONAL);
  const [path] = options.positional;
  if (path === undefined) throw new UsageError(`Missing the file to ingest: expected a path to an NDJSON file, or - for standard input.`);
  return { path, batchSize: options["--batch-size"] ?? DEFAULT_FILE_BATCH, progressIntervalMs: options["--progress-interval"] };
}

const READ_CHUNK_BYTES = 256 * 1024;

/** The file (or stdin) to read, named as its dead letters will name it; null when the path is not a readable file. */
async function openInput(path: string, startedAt: string): Promise<FileInput | { error: string }> {
  if (path === "-") {
    // Standard input has no name that survives the run: each run is its own source (docs/backfill.md).
    return { topic: `${FILE_SOURCE}:stdin@${startedAt}`, name: "-", chunks: process.stdin as AsyncIterable<Uint8Array>, size: null };
  }
  const absolute = resolve(path);
  try {
    const info = await stat(absolute);
    if (!info.isFile()) return { error: `Not a file: ${absolute}` };
    return { topic: `${FILE_SOURCE}:${absolute}`, name: absolute, chunks: createReadStream(absolute, { highWaterMark: READ_CHUNK_BYTES }), size: info.size };
  } catch (error) {
    return { error: `Cannot read ${absolute}: ${(error as Error).message}` };
  }
}

export async function runIngestFile(config: Config, log: Logger, argv: string[]): Promise<number> {
  const args = parseIngestFileArgs(argv);
  const input = await openInput(args.path, new Date().toISOString());
  if ("error" in input) {
    log.error(input.error);
    return 1;
  }
  const pool = batchPool(config, log, "helios-analytics-ingest-file");
  const stop = stopAfterBatch(log);
  try {
    // Once, without the ingest step's retries: a wrong DATABASE_URL ends a one-off run at once
    // instead of retrying its first batch until someone notices (the consumer waits; a backfill exits).
    await pool.sql`select 1`;
    log.info("File ingest started", { file: input.name, bytes: input.size, batch_size: args.batchSize });
    const result = await ingestFile({ pool, log, retentionDays: config.storage.retentionDays }, input, {
      batchSize: args.batchSize,
      progressIntervalMs: args.progressIntervalMs,
      stopRequested: () => stop.signal() !== null,
    });
    const summary = fileSummary(input, result);
    if (result.completed) {
      log.info("File ingest finished", summary);
      return 0;
    }
    log.info("File ingest stopped before the end of the file; running it again stores only what is missing", summary);
    return exitCodeOf(stop.signal());
  } catch (error) {
    log.error("File ingest failed; running it again stores only what is missing", { file: input.name, ...errorSummary(error) });
    return 1;
  } finally {
    stop.release();
    await pool.end(5).catch(() => {});
  }
}
