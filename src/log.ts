// JSON-lines logger: one object per line with timestamp, level, message and fields.
// Every configured secret is replaced before a line is written, whatever field carries it.
import type { LogLevel } from "./config";
import { escapeRegExp } from "./values/text";

const RANK: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 };

export type Fields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
  enabled(level: LogLevel): boolean;
}

/** A hex digit in either case: `%2f` and `%2F` are one byte to a URL decoder. */
const hexDigit = (digit: string) => (/[a-f]/i.test(digit) ? `[${digit.toLowerCase()}${digit.toUpperCase()}]` : digit);
const hexPattern = (value: number, width: number) => [...value.toString(16).padStart(width, "0")].map(hexDigit).join("");

/**
 * Every way one character of a secret can be written in a line, longest first so no form is cut
 * in two: percent-encoded byte by byte (a URL writer may encode any character, `p%61ss` is "pass"),
 * JSON-escaped at any depth (`\"`, `\\\"` for a JSON string inside a JSON string, `\u00e9`), `+` for a
 * space (form encoding), or as is.
 */
function characterPattern(char: string): string {
  const bytes = [...new TextEncoder().encode(char)];
  const forms = [bytes.map((byte) => `%${hexPattern(byte, 2)}`).join("")];
  if (char.length === 1) forms.push(`\\\\+u${hexPattern(char.charCodeAt(0), 4)}`);
  const json = JSON.stringify(char).slice(1, -1);
  if (json !== char) forms.push(`\\\\+${escapeRegExp(json.slice(1))}`);
  if (char === " ") forms.push("\\+");
  forms.push(escapeRegExp(char));
  return `(?:${forms.join("|")})`;
}

const patterns = new Map<string, RegExp>();

/** One pattern for every spelling of a secret, each character in any of its forms (cached: a logger redacts every line). */
function secretPattern(secret: string): RegExp {
  let pattern = patterns.get(secret);
  if (!pattern) {
    pattern = new RegExp([...secret].map(characterPattern).join(""), "g");
    patterns.set(secret, pattern);
  }
  return pattern;
}

/**
 * The password of any URL's userinfo (`scheme://user:password@`), whatever it is: one too short to
 * count as a configured secret, or of another URL, never reaches a line either. A `"` ends it, so a
 * match cannot run from one JSON string into the next.
 */
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:"]*:)[^\s/?#@"]+@/gi;

export function redact(text: string, secrets: readonly string[]): string {
  let out = text.replace(URL_PASSWORD, "$1[REDACTED]@");
  // Longest first: a secret inside a longer one must not leave the rest of the longer one behind.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret) out = out.replace(secretPattern(secret), "[REDACTED]");
  }
  return out;
}

function errorFields(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

export function createLogger(
  level: LogLevel,
  secrets: readonly string[] = [],
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Logger {
  const threshold = RANK[level];
  const emit = (lineLevel: LogLevel, message: string, fields: Fields = {}) => {
    if (RANK[lineLevel] < threshold) return;
    const record: Fields = { timestamp: new Date().toISOString(), level: lineLevel, message };
    for (const [key, value] of Object.entries(fields)) record[key] = errorFields(value);
    write(redact(JSON.stringify(record), secrets));
  };
  return {
    debug: (message, fields) => emit("DEBUG", message, fields),
    info: (message, fields) => emit("INFO", message, fields),
    warn: (message, fields) => emit("WARN", message, fields),
    error: (message, fields) => emit("ERROR", message, fields),
    enabled: (lineLevel) => RANK[lineLevel] >= threshold,
  };
}
