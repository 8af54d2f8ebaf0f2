// OpenAPI pieces written once: a JSON response, the query parameters of a validating schema, and
// the error responses every route shares. The document comes from the same schemas that validate.

import type { TObject, TSchema } from "@sinclair/typebox";
import type { DocumentDecoration } from "elysia";
import { ErrorBody } from "./errors";

type OpenApiResponse = NonNullable<DocumentDecoration["responses"]>[string];

/** A JSON response of `schema`. A TypeBox schema is JSON Schema; OpenAPI's type just does not know TypeBox's symbols. */
export const jsonResponse = (schema: TSchema, description: string): OpenApiResponse => ({
  description,
  content: { "application/json": { schema: schema as never } },
});

export const invalidParameterResponse = jsonResponse(ErrorBody, "A query parameter is invalid; `errors` names each one with what is accepted.");
export const notFoundResponse = (description = "Not found, or a page past the end.") => jsonResponse(ErrorBody, description);

/** OpenAPI parameter objects for a query schema, so the docs come from the validating schema. */
export function openApiQueryParameters(schema: TObject) {
  return Object.entries(schema.properties).map(([name, property]) => {
    const { description, ...rest } = property as TSchema;
    const { "x-accepts": _accepts, ...schemaOnly } = rest as Record<string, unknown>;
    return { name, in: "query", required: false, description, schema: schemaOnly };
  });
}

export const BEARER_SCHEME = "bearerAuth";

/**
 * The document's part on authentication, when API_TOKENS is set: one bearer scheme, required by
 * default (the probes opt out with `security: []`), so Swagger UI shows Authorize and sends the
 * header on "Try it out". Without tokens the API is open and the document says nothing of auth.
 */
export function bearerAuthDocumentation(tokensConfigured: boolean) {
  if (!tokensConfigured) return {};
  return {
    components: {
      securitySchemes: {
        [BEARER_SCHEME]: { type: "http" as const, scheme: "bearer", description: "One of API_TOKENS, sent as `Authorization: Bearer <token>`." },
      },
    },
    security: [{ [BEARER_SCHEME]: [] as string[] }],
  };
}
