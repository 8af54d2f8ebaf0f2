// The file backfill's line splitter, pure: lines across chunk boundaries, CRLF, blank lines, a last
// line without newline, and a line over the limit kept short with its whole length counted.
import { describe, expect, test } from "bun:test";
import { ndjsonLines } from "../../src/ingest/file/ndjson-lines";

const bytes = (text: string) => new TextEncoder().encode(text);

async function* chunksOf(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield bytes(part);
}

async function linesOf(chunks: AsyncIterable<Uint8Array>, max = 1_000) {
  const out: { number: number; text: string; blank: boolean; oversizeBytes?: number }[] = [];
  for await (const line of ndjsonLines(chunks, max)) {
    out.push({
      number: line.number,
      text: new TextDecoder().decode(line.bytes),
      blank: line.blank,
      ...(line.oversizeBytes === undefined ? {} : { oversizeBytes: line.oversizeBytes }),
    });
  }
  return out;
}

describe("ndjsonLines", () => {
  test("splits lines that cross chunk boundaries, drops the CR of CRLF even when LF starts the next chunk, and keeps a last line without newline", async () => {
    expect(await linesOf(chunksOf('{"a":', "1}\r", '\n{"b":2}\n', '\r\n  \n{"c"', ":3}"))).toEqual([
      { number: 1, text: '{"a":1}', blank: false },
      { number: 2, text: '{"b":2}', blank: false },
      { number: 3, text: "", blank: true },
      { number: 4, text: "  ", blank: true },
      { number: 5, text: '{"c":3}', blank: false },
    ]);
  });

  test("keeps only the first bytes of a line over the limit and reports its whole length without the CR", async () => {
    const long = "y".repeat(25);
    expect(await linesOf(chunksOf(`${long.slice(0, 7)}`, `${long.slice(7)}\r\n`, "ok\n"), 10)).toEqual([
      { number: 1, text: "y".repeat(10), blank: false, oversizeBytes: 25 },
      { number: 2, text: "ok", blank: false },
    ]);
  });

  test("counts a line of exactly the limit as within it, its CR not included", async () => {
    expect(await linesOf(chunksOf(`${"z".repeat(10)}\r\n`), 10)).toEqual([{ number: 1, text: "z".repeat(10), blank: false }]);
  });

  test("yields nothing for an empty input and one blank line for a lone newline", async () => {
    expect(await linesOf(chunksOf())).toEqual([]);
    expect(await linesOf(chunksOf("\n"))).toEqual([{ number: 1, text: "", blank: true }]);
  });

  test("does not share the stream's buffer: a chunk reused after it was read leaves the line intact", async () => {
    const buffer = bytes('{"a":1}');
    async function* reusing() {
      yield buffer;
      buffer.fill(0x21);
      yield bytes("\n");
    }
    expect((await linesOf(reusing()))[0]!.text).toBe('{"a":1}');
  });
});
