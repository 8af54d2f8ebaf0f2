// JSON-lines logger: one object per line with timestamp, level, message and fields.
// Every configured secret is replaced before a line is written, whatever field carries it.
import type { LogLevel } from "./config";

const RANK: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 };

export type Fields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
  enabled(level: LogLevel): boolean;
}

/**
 * The spellings a secret takes in a line: as is, escaped inside a JSON string (a password with a
 * quote or backslash), and percent-encoded (inside a URL). Longest first, so no form is cut in two.
 */
function spellings(secret: string): string[] {
  const forms = new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]);
  return [...forms].sort((a, b) => b.length - a.length);
}

export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret) continue;
    for (const form of spellings(secret)) out = out.split(form).join("[REDACTED]");
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
