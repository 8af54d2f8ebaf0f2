// GET /api/outcomes/export/: every outcome the list's filters match, as one CSV or NDJSON download.
// Same filters and ordering as /api/outcomes/ (the one filter table), no paging: the body is
// streamed from one snapshot at constant memory (outcomes.export.ts).
import { Elysia } from "elysia";
import type { Sql } from "../db/client";
import { ApiError, ErrorBody, invalidQuery } from "../http/errors";
import { InflightGate } from "../http/limits";
import { jsonResponse, openApiQueryParameters } from "../http/openapi";
import { validateQuery } from "../http/query";
import type { Logger } from "../log";
import { openOutcomeExport } from "./outcomes.export";
import { EXPORT_FORMAT_NAMES, EXPORT_FORMATS, type ExportFormat, negotiateExportFormat } from "./outcomes.export-format";
import { parseFilters } from "./outcomes.filters";
import { parseOrdering } from "./outcomes.paging";
import { OutcomeExportQuery, PAGING_PARAM_NAMES } from "./outcomes.schema";

/** page, page_size and cursor select a part of the list; an export is every matching row. */
function refusePaging(search: URLSearchParams): void {
  const given = PAGING_PARAM_NAMES.filter((name) => search.has(name));
  if (given.length === 0) return;
  const why = "the export streams every matching row in one response; narrow it with the filters (e.g. from and to) instead";
  throw invalidQuery(Object.fromEntries(given.map((name) => [name, [`${name} is not accepted here: ${why}.`]])));
}

/** `outcomes-20261203T110000Z.csv`: when it was asked for, so two downloads do not overwrite each other. */
export function exportFileName(format: ExportFormat, at: Date = new Date()): string {
  const stamp = at
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replace(/[-:]/g, "");
  return `outcomes-${stamp}.${EXPORT_FORMATS[format].extension}`;
}

/**
 * Each export holds a pool connection for as long as the client reads. At most half the pool is
 * given to exports, so downloads can never starve the JSON endpoints of connections.
 */
export function exportSlots(poolMax: number): number {
  return Math.max(1, Math.floor(poolMax / 2));
}

export function outcomesExportRoutes(sql: Sql, log: Logger) {
  const gate = new InflightGate(exportSlots(sql.options.max));
  const bodyDoc = (format: ExportFormat, description: string) => [EXPORT_FORMATS[format].mediaType, { schema: { type: "string" as const, description } }];
  return new Elysia({ name: "outcomes-export-routes" }).get(
    "/api/outcomes/export/",
    async ({ request }) => {
      const search = new URL(request.url).searchParams;
      refusePaging(search);
      const query = validateQuery(OutcomeExportQuery, search);
      const filters = parseFilters(query);
      const keys = parseOrdering(query.ordering);
      const format = negotiateExportFormat(query.format as ExportFormat | undefined, request.headers.get("accept"));
      if (!gate.tryEnter()) {
        throw new ApiError(503, `${gate.max} exports are running, as many as this server runs at once (half of DB_POOL_MAX); try again shortly.`, undefined, {
          "retry-after": "5",
        });
      }
      // onEnd gives the slot back however the export ends, a failure before its first batch included.
      const body = await openOutcomeExport(sql, filters, keys, format, { log, signal: request.signal, onEnd: () => gate.leave() });
      return new Response(body, {
        headers: {
          "content-type": EXPORT_FORMATS[format].contentType,
          "content-disposition": `attachment; filename="${exportFileName(format)}"`,
        },
      });
    },
    {
      detail: {
        tags: ["outcomes"],
        summary: "Every matching outcome as a CSV or NDJSON download, from one snapshot",
        description: [
          "The list's filters and ordering, no paging: every matching outcome, streamed from one consistent snapshot.",
          `Pick the format with \`format\` (${EXPORT_FORMAT_NAMES.join(", ")}) or the Accept header (${EXPORT_FORMAT_NAMES.map((f) => EXPORT_FORMATS[f].mediaType).join(", ")}); neither means CSV.`,
          "Values are rendered as in the JSON records: prices as exact decimal text, instants as ISO-8601 UTC; CSV quotes per RFC 4180, lines end in CRLF, an empty field is null, user_interests is its JSON text.",
        ].join(" "),
        parameters: openApiQueryParameters(OutcomeExportQuery),
        responses: {
          200: {
            description: "The file, as an attachment (Content-Disposition).",
            headers: { "content-disposition": { schema: { type: "string" }, description: 'attachment; filename="outcomes-<UTC time>.<csv|ndjson>"' } },
            content: Object.fromEntries([
              bodyDoc("csv", "A header line with the record's field names, then one line per outcome."),
              bodyDoc("ndjson", "One OutcomeRecord as JSON per line."),
            ]),
          },
          400: jsonResponse(ErrorBody, "A query parameter is invalid, or a paging parameter (page, page_size, cursor) was sent; `errors` names each one."),
          406: jsonResponse(ErrorBody, "The Accept header allows neither format, or not the one `format` asks for; `detail` names the accepted types."),
          503: jsonResponse(ErrorBody, "As many exports as the server runs at once are running, or the database is unavailable; see Retry-After."),
        },
      },
    },
  );
}
