// `bun run start replay-dead-letters [--id N …] [--reason-contains TEXT] [--since ISO] [--dry-run]`:
// passes the selected dead letters through the current mapping and the ingest step again (after a
// mapping fix, or for rows the database refused while it was misconfigured). Progress as JSON log
// lines after each batch, one summary line on stdout at the end; a dry run also lists each letter.
import { parseOptions, UsageError } from "../cli/options";
import type { Config } from "../config";
import { replayDeadLetters, summaryLine } from "../dead-letters/dead-letters.replay";
import type { ReplaySelection } from "../dead-letters/dead-letters.repository";
import type { Logger } from "../log";
import { parseIsoTimestamp } from "../values/timestamps";
import { batchPool, stopAfterBatch } from "./batch-run";

const OPTIONS = {
  "--id": { kind: "integers", min: 1, accepts: "a dead letter id, an integer ≥ 1 (repeat --id for several)" },
  "--reason-contains": { kind: "text", accepts: "text the reason contains (case-insensitive)" },
  "--since": { kind: "text", accepts: "an ISO-8601 date or date-time, e.g. 2025-10-01 or 2025-10-01T12:00:00Z" },
  "--dry-run": { kind: "flag" },
} as const;

export function parseReplayArgs(args: string[]): { selection: ReplaySelection; dryRun: boolean } {
  const options = parseOptions(args, OPTIONS);
  const selection: ReplaySelection = {};
  if (options["--id"]) selection.ids = options["--id"];
  if (options["--reason-contains"] !== undefined) selection.reasonContains = options["--reason-contains"];
  if (options["--since"] !== undefined) {
    const since = parseIsoTimestamp(options["--since"]);
    if (since === null) throw new UsageError(`Invalid --since ${JSON.stringify(options["--since"])}: expected ${OPTIONS["--since"].accepts}.`);
    selection.since = since;
  }
  return { selection, dryRun: options["--dry-run"] === true };
}

export async function runReplayDeadLetters(config: Config, log: Logger, args: string[]): Promise<number> {
  const { selection, dryRun } = parseReplayArgs(args);
  const pool = batchPool(config, log, "helios-analytics-replay");
  const stop = stopAfterBatch(null);
  const began = performance.now();
  try {
    const summary = await replayDeadLetters({
      pool,
      log,
      selection,
      dryRun,
      retentionDays: config.storage.retentionDays,
      stopping: () => stop.signal() !== null,
      onLetter: dryRun
        ? (letter, outcome) => {
            const what = outcome.result === "stored" ? "would be stored" : outcome.result === "duplicate" ? "is already stored" : "would still fail";
            const detail = outcome.result === "failed" ? `: ${outcome.reason}` : ` (bid_id ${outcome.bidId})`;
            console.log(`dead letter ${letter.id} (${letter.topic} / ${letter.partition} / ${letter.offset}) ${what}${detail}`);
          }
        : undefined,
      onProgress: (progress) => {
        const seconds = (performance.now() - began) / 1000;
        const rate = progress.done / Math.max(seconds, 0.001);
        log.info(dryRun ? "Dry-run progress" : "Replay progress", {
          ...progress,
          rate_per_s: Math.round(rate),
          eta_s: Math.round((progress.total - progress.done) / Math.max(rate, 0.001)),
        });
      },
    });
    console.log(summaryLine(summary));
    return summary.interrupted ? 1 : 0;
  } finally {
    stop.release();
    await pool.end(5);
  }
}
