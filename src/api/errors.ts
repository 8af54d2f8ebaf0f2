// Errors are values with a status; the app's one onError turns them into the one JSON shape.
import { Type, type Static } from "@sinclair/typebox";

export const ErrorBody = Type.Object(
  {
    detail: Type.String({ description: "One sentence saying what went wrong." }),
    errors: Type.Optional(
      Type.Record(Type.String(), Type.Array(Type.String()), {
        description: "Per parameter: what is wrong with the value and what is accepted.",
      }),
    ),
  },
  { title: "ErrorBody" },
);
export type ErrorBody = Static<typeof ErrorBody>;

export type FieldErrors = Record<string, string[]>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors?: FieldErrors,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }

  body(): ErrorBody {
    return this.errors ? { detail: this.detail, errors: this.errors } : { detail: this.detail };
  }
}

export const notFound = () => new ApiError(404, "Not found.");

/**
 * The one JSON rendering of an ApiError, for the answers given before a request reaches Elysia's
 * lifecycle (and so its onError): the wraps of src/api/limits.ts and src/api/security.ts.
 */
export function errorResponseOf(error: ApiError): Response {
  return new Response(JSON.stringify(error.body()), {
    status: error.status,
    headers: { "content-type": "application/json", ...error.headers },
  });
}

export function invalidQuery(errors: FieldErrors): ApiError {
  const names = Object.keys(errors);
  const detail =
    names.length === 1
      ? `Invalid query parameter: ${names[0]}.`
      : `Invalid query parameters: ${names.join(", ")}.`;
  return new ApiError(400, detail, errors);
}
