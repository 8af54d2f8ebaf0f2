// `bun run start import-original --source-url URL [--table outcomes_auctionoutcome] [--batch-size N]
// [--progress-interval MS]`: the original service's history into our tables, as a process: flags,
// both databases' pools, signals (stop after the batch in hand; run again to resume), exit code.
import { parseOptions, UsageError } from "../cli/options";
import type { Config } from "../config";
import { errorSummary } from "../ingest/ingest-step";
import { DEFAULT_IMPORT_BATCH, importOriginal, importSummary } from "../ingest/original/import-original";
import {
  connectOriginal,
  DEFAULT_ORIGINAL_TABLE,
  type OriginalSource,
  OriginalTableError,
  parseSourceUrl,
  resolveOriginalTable,
} from "../ingest/original/original-table";
import { createLogger, type Logger } from "../log";
import { batchPool, exitCodeOf, stopAfterBatch } from "./batch-run";

const OPTIONS = {
  "--source-url": { kind: "text", accepts: "the original's database as postgres://user[:password]@host[:port]/database" },
  "--table": { kind: "text", accepts: `the original's table, name or schema.name (default ${DEFAULT_ORIGINAL_TABLE})` },
  "--batch-size": { kind: "integer", min: 1, max: 10_000, accepts: `rows per transaction, 1 to 10000 (default ${DEFAULT_IMPORT_BATCH})` },
  "--progress-interval": { kind: "integer", min: 100, accepts: "milliseconds between JSON progress lines, ≥ 100 (default 5000)" },
} as const;

export interface ImportArgs {
  source: OriginalSource;
  table: string;
  batchSize: number;
  progressIntervalMs?: number;
}

export function parseImportArgs(args: string[]): ImportArgs {
  const options = parseOptions(args, OPTIONS);
  const url = options["--source-url"];
  if (url === undefined) throw new UsageError(`Missing --source-url: expected ${OPTIONS["--source-url"].accepts}.`);
  return {
    source: parseSourceUrl(url),
    table: options["--table"] ?? DEFAULT_ORIGINAL_TABLE,
    batchSize: options["--batch-size"] ?? DEFAULT_IMPORT_BATCH,
    progressIntervalMs: options["--progress-interval"],
  };
}

export async function runImportOriginal(config: Config, baseLog: Logger, argv: string[]): Promise<number> {
  const args = parseImportArgs(argv);
  // The source's password is a secret of this run, wherever a line might carry it (URLs are
  // redacted anyway; this covers it spelled out, e.g. in a driver's message).
  const log = args.source.password.length >= 4 ? createLogger(config.logLevel, [...config.secrets, args.source.password]) : baseLog;
  const original = connectOriginal(args.source, config.db);
  const pool = batchPool(config, log, "helios-analytics-import");
  const stop = stopAfterBatch(log);
  try {
    const table = await resolveOriginalTable(original, args.source, args.table);
    const result = await importOriginal(
      { pool, original, source: args.source, table, log, retentionDays: config.storage.retentionDays },
      { batchSize: args.batchSize, progressIntervalMs: args.progressIntervalMs, stopRequested: () => stop.signal() !== null },
    );
    const summary = importSummary({ source: args.source, table }, result);
    if (result.completed) {
      log.info("Import from the original finished", summary);
      return 0;
    }
    log.info("Import from the original stopped; run the same command again to resume", summary);
    return exitCodeOf(stop.signal());
  } catch (error) {
    if (error instanceof OriginalTableError) {
      log.error(error.message);
      return 1;
    }
    const code = (error as { code?: string }).code;
    if (code === "42P01" && /import_progress/.test(String((error as Error).message))) {
      log.error("Our database has no import_progress table: run `bun run start migrate` first");
      return 1;
    }
    log.error("Import from the original failed; run the same command again to resume", { source: args.source.name, ...errorSummary(error) });
    return 1;
  } finally {
    stop.release();
    await Promise.allSettled([original.end({ timeout: 5 }), pool.end(5)]);
  }
}
