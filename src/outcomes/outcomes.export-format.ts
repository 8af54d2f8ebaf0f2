// The export's two formats and how a request picks one: `format=csv|ndjson`, or the Accept header
// (text/csv, application/x-ndjson). Pure: records in, text out; the streaming is outcomes.export.ts.
// Both formats carry the JSON record exactly as the list endpoint renders it (renderOutcome):
// prices as exact decimal text, instants as ISO-8601 UTC with their microseconds.
import { ApiError } from "../http/errors";
import { OutcomeRecord } from "./outcomes.schema";

export const EXPORT_FORMATS = {
  csv: { mediaType: "text/csv", contentType: "text/csv; charset=utf-8; header=present", extension: "csv" },
  ndjson: { mediaType: "application/x-ndjson", contentType: "application/x-ndjson", extension: "ndjson" },
} as const;
export type ExportFormat = keyof typeof EXPORT_FORMATS;
export const EXPORT_FORMAT_NAMES = Object.keys(EXPORT_FORMATS) as ExportFormat[];

/** The CSV columns: the record's fields in the schema's order, so CSV and JSON cannot drift apart. */
export const CSV_COLUMNS = Object.keys(OutcomeRecord.properties) as (keyof OutcomeRecord)[];

/** RFC 4180: a field with a comma, a double quote, CR or LF is quoted, its quotes doubled. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One value as CSV text: null is an empty field, a list its JSON text, the rest as JSON shows it. */
function csvValue(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return csvField(value);
  if (typeof value === "object") return csvField(JSON.stringify(value));
  return String(value);
}

/** Lines end in CRLF, as RFC 4180 says; the header names the columns as the JSON record does. */
export const CSV_HEADER = `${CSV_COLUMNS.join(",")}\r\n`;

export function csvRecord(record: OutcomeRecord): string {
  return `${CSV_COLUMNS.map((column) => csvValue(record[column])).join(",")}\r\n`;
}

export function ndjsonRecord(record: OutcomeRecord): string {
  return `${JSON.stringify(record)}\n`;
}

/** What the body starts with, and each record's text. */
export const ENCODERS: Record<ExportFormat, { header: string; record(record: OutcomeRecord): string }> = {
  csv: { header: CSV_HEADER, record: csvRecord },
  ndjson: { header: "", record: ndjsonRecord },
};

interface MediaRange {
  type: string;
  subtype: string;
  q: number;
}

// `text/csv;q=0.9, */*;q=0.1` → its ranges; a malformed item is skipped, as most servers do.
export function parseAccept(header: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const item of header.split(",")) {
    const [range = "", ...params] = item.split(";").map((part) => part.trim().toLowerCase());
    const match = /^([a-z0-9!#$%&'*+.^_`|~-]+)\/([a-z0-9!#$%&'*+.^_`|~-]+)$/.exec(range);
    if (!match) continue;
    const qParam = params.find((p) => p.startsWith("q="));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    ranges.push({ type: match[1]!, subtype: match[2]!, q: Number.isFinite(q) ? Math.min(Math.max(q, 0), 1) : 0 });
  }
  return ranges;
}

/** How much `ranges` want `mediaType`: the q of the most specific range that matches it (RFC 9110 §12.5.1), 0 when none does. */
export function acceptance(ranges: readonly MediaRange[], mediaType: string): number {
  const [type, subtype] = mediaType.split("/") as [string, string];
  const specificity = (r: MediaRange) =>
    r.type === type && r.subtype === subtype ? 3 : r.type === type && r.subtype === "*" ? 2 : r.type === "*" && r.subtype === "*" ? 1 : 0;
  let best = { specificity: 0, q: 0 };
  for (const range of ranges) {
    const s = specificity(range);
    if (s > best.specificity) best = { specificity: s, q: range.q };
  }
  return best.q;
}

const ACCEPTED_TYPES = EXPORT_FORMAT_NAMES.map((name) => EXPORT_FORMATS[name].mediaType).join(" or ");

/**
 * The format of one export request. `format` wins when the Accept header allows it; without it
 * the Accept header chooses (the higher q, CSV on a tie); no Accept header, or one that takes any type, means CSV.
 * A format the Accept header refuses, or an Accept header that wants neither, is a 406.
 */
export function negotiateExportFormat(format: ExportFormat | undefined, accept: string | null): ExportFormat {
  const ranges = accept === null || accept.trim() === "" ? [] : parseAccept(accept);
  if (ranges.length === 0) return format ?? "csv";
  if (format !== undefined) {
    if (acceptance(ranges, EXPORT_FORMATS[format].mediaType) > 0) return format;
    throw new ApiError(
      406,
      `format=${format} asks for ${EXPORT_FORMATS[format].mediaType}, which the Accept header (${accept}) does not allow: send an Accept header that allows it (or */*), or leave format out and let Accept choose between ${ACCEPTED_TYPES}.`,
    );
  }
  let chosen: ExportFormat | undefined;
  let bestQ = 0;
  for (const name of EXPORT_FORMAT_NAMES) {
    const q = acceptance(ranges, EXPORT_FORMATS[name].mediaType);
    if (q > bestQ) [chosen, bestQ] = [name, q];
  }
  if (chosen) return chosen;
  throw new ApiError(
    406,
    `The export is available as ${ACCEPTED_TYPES}, and the Accept header (${accept}) allows neither: send Accept: ${ACCEPTED_TYPES}, or format=${EXPORT_FORMAT_NAMES.join(" or format=")}.`,
  );
}
