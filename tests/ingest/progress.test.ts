// The backfills' progress and summary, pure: figures from rows and time, the terminal bar, and
// which of the two a reporter writes.
import { describe, expect, test } from "bun:test";
import { createIngestCounters } from "../../src/ingest/ingest-step";
import { progressBar, progressFigures, startProgress, summaryFields } from "../../src/ingest/progress";
import { createLogger } from "../../src/log";

describe("progressFigures", () => {
  test("gives the rate of this run and the ETA from the share still ahead", () => {
    expect(progressFigures(5_000, 2_000, 0.25)).toEqual({ rows_done: 5_000, rate_rows_per_s: 2_500, percent: 25, eta_s: 6 });
  });

  test("predicts a resumed run from what this run did, not from what an earlier one did", () => {
    expect(progressFigures(1_000, 1_000, 0.6, 0.5)).toEqual({ rows_done: 1_000, rate_rows_per_s: 1_000, percent: 60, eta_s: 4 });
  });

  test("has no percent and no ETA when the size is unknown (standard input)", () => {
    expect(progressFigures(10, 1_000, null)).toEqual({ rows_done: 10, rate_rows_per_s: 10, percent: null, eta_s: null });
  });
});

describe("progressBar", () => {
  test("draws the share as a bar with rows, rate and ETA", () => {
    expect(progressBar({ rows_done: 84_000, rate_rows_per_s: 12_300, percent: 50, eta_s: 7 })).toBe(
      `[${"#".repeat(15)}${"·".repeat(15)}]  50.0 %  84,000 rows  12,300 rows/s  ETA 7 s`,
    );
  });
});

describe("startProgress", () => {
  const clock = () => {
    let at = 0;
    return {
      now: () => at,
      advance: (ms: number) => {
        at += ms;
      },
    };
  };

  test("redraws one bar line on a terminal, draws its last state at the end and ends it with a newline, writing no JSON lines", () => {
    const written: string[] = [];
    const logged: string[] = [];
    const time = clock();
    const progress = startProgress({
      log: createLogger("INFO", [], (line) => logged.push(line)),
      message: "Import progress",
      terminal: { isTTY: true, write: (text) => written.push(text) },
      now: time.now,
    });
    time.advance(1_000);
    progress.update(100, 0.5);
    time.advance(50);
    progress.update(150, 0.75); // within 100 ms of the last redraw: skipped
    time.advance(100);
    progress.update(200, 0.9);
    time.advance(10);
    progress.update(220, 1); // throttled, but the end draws it
    progress.finish();
    expect(written).toEqual([
      `\r\x1b[2K${progressBar(progressFigures(100, 1_000, 0.5))}`,
      `\r\x1b[2K${progressBar(progressFigures(200, 1_150, 0.9))}`,
      `\r\x1b[2K${progressBar(progressFigures(220, 1_160, 1))}`,
      "\n",
    ]);
    expect(logged).toEqual([]);
  });

  test("writes JSON progress lines at most once per interval when not on a terminal", () => {
    const logged: Record<string, unknown>[] = [];
    const time = clock();
    const progress = startProgress({
      log: createLogger("INFO", [], (line) => logged.push(JSON.parse(line))),
      message: "File ingest progress",
      terminal: { isTTY: false, write: () => {} },
      intervalMs: 1_000,
      fields: { file: "f.ndjson" },
      now: time.now,
    });
    time.advance(500);
    progress.update(50, 0.1);
    time.advance(500);
    progress.update(100, 0.2);
    expect(logged.map(({ timestamp: _, ...line }) => line)).toEqual([
      { level: "INFO", message: "File ingest progress", file: "f.ndjson", rows_done: 100, rate_rows_per_s: 100, percent: 20, eta_s: 4 },
    ]);
  });
});

describe("summaryFields", () => {
  test("names what was read and what became of it, with seconds to the hundredth", () => {
    const counters = { ...createIngestCounters(), totalMessages: 10, successCount: 6, duplicateCount: 3, errorCount: 1 };
    expect(summaryFields(counters, 1_234.5)).toEqual({ read: 10, stored: 6, duplicates: 3, dead_lettered: 1, seconds: 1.23 });
  });
});
