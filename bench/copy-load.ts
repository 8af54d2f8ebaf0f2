// Generated outcomes into auction_outcomes with COPY: streamed in chunks (never the whole data
// set in memory), or from a pre-written file so that timing a COPY measures PostgreSQL alone.
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Sql } from "../src/db/client";
import { COPY_COLUMNS, type OutcomeGenerator, toCopyRow } from "../src/simulate/generator";

/** Lines are joined into pieces of about this size: one write per piece, not per row. */
const PIECE_BYTES = 256 * 1024;

function* copyText(generator: OutcomeGenerator, from: number, count: number): Generator<string> {
  let piece = "";
  for (let i = from; i < from + count; i++) {
    piece += toCopyRow(generator.outcomeAt(i));
    if (piece.length >= PIECE_BYTES) {
      yield piece;
      piece = "";
    }
  }
  if (piece) yield piece;
}

async function copyStatement(sql: Sql) {
  return sql`copy auction_outcomes (${sql(COPY_COLUMNS as unknown as string[])}) from stdin`.writable();
}

/**
 * COPYs outcomes from..from+count-1, one COPY (one transaction) per chunk, so a huge load keeps
 * transition tables and WAL per statement bounded and can report progress.
 */
export async function copyGenerated(
  sql: Sql,
  generator: OutcomeGenerator,
  from: number,
  count: number,
  options: { chunkRows?: number; onChunk?: (done: number) => void } = {},
): Promise<void> {
  const chunkRows = options.chunkRows ?? 100_000;
  for (let start = from; start < from + count; start += chunkRows) {
    const rows = Math.min(chunkRows, from + count - start);
    await pipeline(Readable.from(copyText(generator, start, rows)), await copyStatement(sql));
    options.onChunk?.(start + rows - from);
  }
}

/** Writes the COPY text of outcomes 0..count-1 to a file. */
export async function writeCopyFile(path: string, generator: OutcomeGenerator, count: number): Promise<number> {
  const writer = Bun.file(path).writer({ highWaterMark: 4 * 1024 * 1024 });
  let bytes = 0;
  for (const piece of copyText(generator, 0, count)) {
    bytes += Buffer.byteLength(piece);
    writer.write(piece);
  }
  await writer.end();
  return bytes;
}

/** One COPY of a whole file, as one transaction. */
export async function copyFile(sql: Sql, path: string): Promise<void> {
  await pipeline(createReadStream(path, { highWaterMark: 1024 * 1024 }), await copyStatement(sql));
}
