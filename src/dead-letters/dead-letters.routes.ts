// The dead letters plugin: what ingest set aside and why, newest first, paged like the outcomes.
import { type DocumentDecoration, Elysia } from "elysia";
import type { Sql } from "../db/client";
import { invalidParameterResponse, jsonResponse, notFoundResponse, openApiQueryParameters } from "../http/openapi";
import { numberedPage, type Page, pagePosition, refuseDeepOffset } from "../http/pagination";
import { validateQuery } from "../http/query";
import { absoluteUrl } from "../http/urls";
import { renderDeadLetter } from "./dead-letters.render";
import { countDeadLetters, listDeadLetters } from "./dead-letters.repository";
import { DeadLetterPage, DeadLetterQuery, type DeadLetterRecord } from "./dead-letters.schema";

async function listPage(sql: Sql, request: Request): Promise<Page<DeadLetterRecord>> {
  const at = pagePosition(validateQuery(DeadLetterQuery, new URL(request.url).searchParams));
  await refuseDeepOffset(at, () => countDeadLetters(sql), "a smaller page");
  const [count, rows] = await Promise.all([countDeadLetters(sql), listDeadLetters(sql, at.pageSize, at.offset)]);
  return numberedPage(absoluteUrl(request), at, count, rows.map(renderDeadLetter));
}

export function deadLettersRoutes(sql: Sql) {
  const detail: DocumentDecoration = {
    tags: ["dead letters"],
    summary: "Messages ingest could not store as outcomes, with the reason, newest first",
    parameters: openApiQueryParameters(DeadLetterQuery),
    responses: {
      200: jsonResponse(DeadLetterPage, "One page of dead letters."),
      400: invalidParameterResponse,
      404: notFoundResponse("A page past the end."),
    },
  };
  // Elysia's non-strict paths answer /api/dead_letters as well.
  return new Elysia({ name: "dead-letters-routes" }).get("/api/dead_letters/", ({ request }) => listPage(sql, request), { detail });
}
