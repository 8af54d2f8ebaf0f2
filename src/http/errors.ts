// Errors are values with a status: an ApiError thrown anywhere becomes the one JSON error shape,
// rendered by errorResponse and nothing else (the app's onError, and the wraps that answer
// before a request reaches Elysia's lifecycle: limits, security, the Host check).
import { type Static, Type } from "@sinclair/typebox";
import { redact } from "../log";
import { methodRefusal } from "./methods";

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
    /** Extra members of the body (the DEBUG block of a 500). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
  }

  body(): ErrorBody {
    const body: ErrorBody = this.errors ? { detail: this.detail, errors: this.errors } : { detail: this.detail };
    return { ...body, ...this.extra };
  }
}

export const notFound = () => new ApiError(404, "Not found.");

/** A path that exists, asked with a method none of its routes serves; `allowed` is what they serve. */
export function methodNotAllowed(method: string, allowed: readonly string[]): ApiError {
  const { detail, allow } = methodRefusal(method, allowed);
  return new ApiError(405, detail, undefined, { allow });
}

/**
 * The one JSON rendering of an ApiError. `secrets` are redacted from the body: an error may echo a
 * value back, or (DEBUG) a message.
 */
export function errorResponse(error: ApiError, secrets: readonly string[] = []): Response {
  return new Response(redact(JSON.stringify(error.body()), secrets), {
    status: error.status,
    headers: { "content-type": "application/json", ...error.headers },
  });
}

export function invalidQuery(errors: FieldErrors): ApiError {
  const names = Object.keys(errors);
  const detail = names.length === 1 ? `Invalid query parameter: ${names[0]}.` : `Invalid query parameters: ${names.join(", ")}.`;
  return new ApiError(400, detail, errors);
}
