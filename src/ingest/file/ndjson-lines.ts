// NDJSON as lines of bytes: split on LF, one CR before it dropped (CRLF files), a last line without
// a newline kept, blank lines (nothing but spaces, tabs, CR) reported as such. Bytes, not text:
// the mapping decodes UTF-8 itself and rejects what is not, as it does for a Kafka value.
//
// Memory stays bounded whatever the file: a line longer than `maxLineBytes` keeps only its first
// `maxLineBytes` bytes (for the dead letter) and counts the rest.

export interface NdjsonLine {
  /** 1-based. */
  number: number;
  /** The line without its LF (and CR); at most maxLineBytes bytes. */
  bytes: Uint8Array;
  /** The line's whole length when it was longer than maxLineBytes; undefined otherwise. */
  oversizeBytes?: number;
  blank: boolean;
}

const LF = 0x0a;
const CR = 0x0d;

function isBlank(bytes: Uint8Array): boolean {
  for (const byte of bytes) if (byte !== 0x20 && byte !== 0x09 && byte !== CR) return false;
  return true;
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Splits a stream of byte chunks into lines; `onBytes` is told of every chunk's size (progress). */
export async function* ndjsonLines(chunks: AsyncIterable<Uint8Array>, maxLineBytes: number, onBytes?: (bytes: number) => void): AsyncGenerator<NdjsonLine> {
  let number = 0;
  let parts: Uint8Array[] = [];
  let kept = 0;
  let total = 0;
  let lastByte = -1;

  const take = (piece: Uint8Array) => {
    total += piece.length;
    if (piece.length > 0) lastByte = piece[piece.length - 1]!;
    const room = maxLineBytes + 1 - kept; // one byte beyond the limit: room for a CR that may follow
    if (room <= 0) return;
    const slice = piece.length > room ? piece.subarray(0, room) : piece;
    // A copy: the stream may reuse its buffer for the next chunk.
    parts.push(slice.slice());
    kept += slice.length;
  };

  const finish = (): NdjsonLine => {
    number += 1;
    let bytes = concat(parts, kept);
    let length = total;
    if (lastByte === CR) length -= 1;
    if (length > maxLineBytes) {
      bytes = bytes.subarray(0, maxLineBytes);
    } else if (lastByte === CR) bytes = bytes.subarray(0, bytes.length - 1);
    const line: NdjsonLine = { number, bytes, blank: length <= maxLineBytes && isBlank(bytes), ...(length > maxLineBytes ? { oversizeBytes: length } : {}) };
    parts = [];
    kept = 0;
    total = 0;
    lastByte = -1;
    return line;
  };

  for await (const chunk of chunks) {
    onBytes?.(chunk.length);
    let start = 0;
    for (let newline = chunk.indexOf(LF, start); newline >= 0; newline = chunk.indexOf(LF, start)) {
      take(chunk.subarray(start, newline));
      yield finish();
      start = newline + 1;
    }
    if (start < chunk.length) take(chunk.subarray(start));
  }
  if (total > 0) yield finish();
}
