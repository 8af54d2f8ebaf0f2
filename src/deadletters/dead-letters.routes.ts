// The dead letters plugin: what ingest set aside and why, newest first, paged like the outcomes.
import { Elysia, type DocumentDecoration } from "elysia";
import type { TSchema } from "@sinclair/typebox";
import type { Sql } from "../db/client";
import { ApiError, ErrorBody } from "../api/errors";
import { openApiQueryParameters, validateQuery } from "../api/query";
import { absoluteUrl, withParams } from "../api/urls";
import { DEFAULT_PAGE_SIZE, refuseDeepOffset } from "../outcomes/outcomes.paging";
import { countDeadLetters, listDeadLetters } from "./dead-letters.repository";
import { renderDeadLetter } from "./dead-letters.render";
import { DeadLetterPage, DeadLetterQuery } from "./dead-letters.schema";

type OpenApiResponse = NonNullable<DocumentDecoration["responses"]>[string];
// A TypeBox schema is JSON Schema; OpenAPI's SchemaObject type just does not know TypeBox's symbols.
const json = (schema: TSchema, description: string): OpenApiResponse => ({
  description,
  content: { "application/json": { schema: schema as never } },
});

async function listPage(sql: Sql, request: Request): Promise<DeadLetterPage> {
  const query = validateQuery(DeadLetterQuery, new URL(request.url).searchParams);
  const page = query.page ? Number(query.page) : 1;
  const pageSize = query.page_size ? Number(query.page_size) : DEFAULT_PAGE_SIZE;
  const offset = (page - 1) * pageSize;
  await refuseDeepOffset(page, pageSize, () => countDeadLetters(sql), "a smaller page");
  const [count, rows] = await Promise.all([countDeadLetters(sql), listDeadLetters(sql, pageSize, offset)]);
  if (rows.length === 0 && page > 1) throw new ApiError(404, "Invalid page.");
  const url = absoluteUrl(request);
  return {
    count,
    next: offset + rows.length < count ? withParams(url, { page: String(page + 1) }) : null,
    previous: page > 1 ? withParams(url, { page: page === 2 ? null : String(page - 1) }) : null,
    results: rows.map(renderDeadLetter),
  };
}

export function deadLettersRoutes(sql: Sql) {
  const detail: DocumentDecoration = {
    tags: ["dead letters"],
    summary: "Messages ingest could not store as outcomes, with the reason, newest first",
    parameters: openApiQueryParameters(DeadLetterQuery),
    responses: {
      200: json(DeadLetterPage, "One page of dead letters."),
      400: json(ErrorBody, "A query parameter is invalid; `errors` names each one with what is accepted."),
      404: json(ErrorBody, "A page past the end."),
    },
  };
  // Elysia's non-strict paths answer /api/dead_letters as well.
  return new Elysia({ name: "dead-letters-routes" }).get("/api/dead_letters/", ({ request }) => listPage(sql, request), { detail });
}
