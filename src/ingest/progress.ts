// Progress and the closing summary of a backfill (import-original, ingest-file): a bar redrawn on
// stderr when it is a terminal, JSON progress lines through the logger otherwise (rows done, rate,
// ETA), and one summary line at the end. Pure arithmetic in progressFigures; the reporter only
// decides when and where to write.
import type { Fields, Logger } from "../log";
import type { IngestCounters } from "./ingest-step";

export interface ProgressFigures {
  rows_done: number;
  rate_rows_per_s: number;
  /** Share of the source read, 0–100 with one decimal; null when the size is unknown (stdin). */
  percent: number | null;
  /** Seconds left at the rate so far; null while unknown. */
  eta_s: number | null;
}

/**
 * `fraction` is how much of the whole source is behind us (0–1), `startFraction` how much was
 * already behind when this run began (a resumed import): the rate of this run predicts the rest.
 */
export function progressFigures(rowsDone: number, elapsedMs: number, fraction: number | null, startFraction = 0): ProgressFigures {
  const seconds = elapsedMs / 1000;
  const rate = seconds > 0 ? rowsDone / seconds : 0;
  let eta: number | null = null;
  if (fraction !== null && fraction > startFraction && seconds > 0) {
    eta = Math.max(0, Math.round((seconds * (1 - fraction)) / (fraction - startFraction)));
  } else if (fraction !== null && fraction >= 1) eta = 0;
  return {
    rows_done: rowsDone,
    rate_rows_per_s: Math.round(rate),
    percent: fraction === null ? null : Math.round(Math.min(1, Math.max(0, fraction)) * 1000) / 10,
    eta_s: eta,
  };
}

const BAR_WIDTH = 30;

/** One line of the terminal bar: `[#####·····]  42.0 %  84,000 rows  12,300 rows/s  ETA 7 s`. */
export function progressBar(figures: ProgressFigures): string {
  const count = `${figures.rows_done.toLocaleString("en")} rows  ${figures.rate_rows_per_s.toLocaleString("en")} rows/s`;
  if (figures.percent === null) return `${count}`;
  const filled = Math.round((figures.percent / 100) * BAR_WIDTH);
  const bar = `[${"#".repeat(filled)}${"·".repeat(BAR_WIDTH - filled)}]`;
  const eta = figures.eta_s === null ? "" : `  ETA ${figures.eta_s} s`;
  return `${bar} ${figures.percent.toFixed(1).padStart(5)} %  ${count}${eta}`;
}

export interface ProgressOptions {
  log: Logger;
  /** The message of the JSON progress lines, e.g. "Import progress". */
  message: string;
  /** Where the bar goes; a terminal gets the bar, anything else JSON lines through `log`. */
  terminal?: { isTTY?: boolean; write(text: string): unknown };
  /** Period of the JSON lines (default 5 s); the bar redraws at most every 100 ms. */
  intervalMs?: number;
  /** Fields on every JSON line (the source). */
  fields?: Fields;
  /** Share of the source already behind at start (a resumed import). */
  startFraction?: number;
  now?: () => number;
}

export interface ProgressReporter {
  /** After each committed batch: rows done in this run and the share of the source read (null: unknown). */
  update(rowsDone: number, fraction: number | null): void;
  /** Draws the bar's final state and ends its line; the summary follows it. */
  finish(): void;
  /** Milliseconds since the reporter started. */
  elapsedMs(): number;
}

const BAR_REDRAW_MS = 100;

export function startProgress(options: ProgressOptions): ProgressReporter {
  const now = options.now ?? (() => performance.now());
  const terminal = options.terminal ?? process.stderr;
  const onTerminal = terminal.isTTY === true;
  const intervalMs = options.intervalMs ?? 5_000;
  const started = now();
  let lastWritten = started;
  let drawn = false;
  let latest: { rows: number; fraction: number | null } | null = null;
  // \r and erase-line: the bar stays on one line however its width changes.
  const draw = (rows: number, fraction: number | null) => {
    terminal.write(`\r\x1b[2K${progressBar(progressFigures(rows, now() - started, fraction, options.startFraction))}`);
    drawn = true;
  };
  return {
    update(rowsDone, fraction) {
      latest = { rows: rowsDone, fraction };
      const at = now();
      if (at - lastWritten < (onTerminal ? BAR_REDRAW_MS : intervalMs)) return;
      lastWritten = at;
      if (onTerminal) draw(rowsDone, fraction);
      else options.log.info(options.message, { ...options.fields, ...progressFigures(rowsDone, at - started, fraction, options.startFraction) });
    },
    finish() {
      // The bar's last state is the end, not the last redraw the 100 ms throttle let through.
      if (onTerminal && latest !== null) draw(latest.rows, latest.fraction);
      if (drawn) terminal.write("\n");
      drawn = false;
      latest = null;
    },
    elapsedMs: () => now() - started,
  };
}

/** The closing line's figures: what this run read and what became of it. */
export function summaryFields(counters: IngestCounters, elapsedMs: number): Fields {
  return {
    read: counters.totalMessages,
    stored: counters.successCount,
    duplicates: counters.duplicateCount,
    dead_lettered: counters.errorCount,
    seconds: Math.round(elapsedMs / 10) / 100,
  };
}
