// Query parameters as TypeBox schemas of strings: the pattern validates the raw text, `x-accepts`
// says in words what is accepted (the 400 quotes it), and the OpenAPI document shows both.
import { FormatRegistry, Type } from "@sinclair/typebox";
import { parseIsoTimestamp } from "../values/timestamps";

/** Any case, as the original lower-cased the value before comparing (so "Yes" and "NO" work too). */
export const BOOLEAN_TEXT = "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|1|0|[Yy][Ee][Ss]|[Nn][Oo])$";
export const BOOLEAN_ACCEPTS = "true or false (also 1/0, yes/no)";

const TIMESTAMP_TEXT = "^\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2}([.,]\\d{1,9})?)?(Z|z|[+\\- ]\\d{2}(:?\\d{2})?)?)?$";
// A real calendar instant (no 2025-02-30), checked in the same pass as the patterns so that one
// 400 names every bad parameter, not only those that fail a pattern.
const ISO_INSTANT_FORMAT = "iso-8601-instant";
FormatRegistry.Set(ISO_INSTANT_FORMAT, (value) => parseIsoTimestamp(value) !== null);

export interface ParamOptions {
  pattern?: string;
  maxLength?: number;
  description: string;
  accepts: string;
  format?: string;
}

/** An optional string parameter: validated from the raw text, described once for the docs and the 400s. */
export const param = (options: ParamOptions) =>
  Type.Optional(
    Type.String({
      ...(options.pattern ? { pattern: options.pattern } : {}),
      ...(options.format ? { format: options.format } : {}),
      maxLength: options.maxLength ?? 255,
      description: options.description,
      "x-accepts": options.accepts,
    }),
  );

/** An ISO-8601 instant parameter (a date means its midnight UTC, no zone means UTC). */
export const instantParam = (description: string, example: string) =>
  param({ pattern: TIMESTAMP_TEXT, format: ISO_INSTANT_FORMAT, maxLength: 40, description, accepts: `an ISO-8601 date or date-time, e.g. ${example}` });

/** true/false in the spellings the original accepted. */
export const booleanParam = (description: string) => param({ pattern: BOOLEAN_TEXT, description, accepts: BOOLEAN_ACCEPTS });

/** One of a fixed list of words. */
export const choiceParam = (choices: readonly string[], description: string, accepts = choices.join(" or ")) =>
  param({ pattern: `^(${choices.join("|")})$`, maxLength: Math.max(...choices.map((c) => c.length)), description, accepts });

/** `true`, `1` and `yes` in any case are true; anything else the patterns let through is false. */
export function parseBooleanText(text: string): boolean {
  return ["true", "1", "yes"].includes(text.toLowerCase());
}
