// Validates a raw query string against a TypeBox schema of string parameters and returns
// every failing parameter at once, each with what is wrong and what is accepted.

import type { Static, TObject, TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { type FieldErrors, invalidQuery } from "./errors";

/** Last value wins for a repeated parameter, as in Django's QueryDict. Unknown names are dropped. */
export function pickParams(search: URLSearchParams, schema: TObject): Record<string, string> {
  const params: Record<string, string> = {};
  for (const name of Object.keys(schema.properties)) {
    const values = search.getAll(name);
    if (values.length > 0) params[name] = values[values.length - 1]!;
  }
  return params;
}

function shown(value: unknown): string {
  const text = String(value);
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

export function describeInvalid(value: unknown, schema: TSchema): string {
  const accepted = (schema as { "x-accepts"?: string })["x-accepts"] ?? schema.description ?? "a valid value";
  return `${shown(value)} is not valid: expected ${accepted}.`;
}

// PostgreSQL text cannot hold U+0000: a NUL would only come back from the database as an error
// (a 500), so it is refused here for every parameter, whatever its schema allows.
const NUL = "\u0000";

export function validateQuery<T extends TObject>(schema: T, search: URLSearchParams): Static<T> {
  const params = pickParams(search, schema);
  const errors: FieldErrors = {};
  for (const [name, value] of Object.entries(params)) {
    if (value.includes(NUL)) errors[name] = [`${shown(value)} is not valid: expected text without NUL characters (%00).`];
  }
  for (const error of Value.Errors(schema, params)) {
    const name = error.path.replace(/^\//, "");
    if (!name || errors[name]) continue;
    errors[name] = [describeInvalid(error.value, schema.properties[name] ?? error.schema)];
  }
  if (Object.keys(errors).length > 0) throw invalidQuery(errors);
  return params as Static<T>;
}
