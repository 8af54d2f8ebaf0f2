// ISO-8601 timestamps handled as text end to end: a JS Date keeps milliseconds only, and the
// upstream sends microseconds (Python isoformat) as well as milliseconds (JS toISOString).
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+\- ]\d{2}(?::?\d{2})?)?)?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Parses an ISO-8601 date or date-time and returns it normalised for PostgreSQL
 * (`YYYY-MM-DDTHH:MM:SS[.ffffff]±HH:MM`), or null when it is not a real instant.
 * No zone means UTC. A space where the offset sign stands is a `+` that a query string decoded.
 */
export function parseIsoTimestamp(text: string): string | null {
  const match = ISO_8601.exec(text.trim());
  if (!match) return null;
  const [, y, mo, d, h = "00", mi = "00", s = "00", fraction, zone] = match;
  const year = Number(y),
    month = Number(mo),
    day = Number(d);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return null;
  // PostgreSQL keeps microseconds; digits beyond would be rounded by it, so refuse them loudly.
  if (fraction && fraction.length > 6 && /[1-9]/.test(fraction.slice(6))) return null;
  const micro = fraction ? `.${fraction.slice(0, 6)}` : "";
  let offset = "+00:00";
  if (zone && zone !== "Z" && zone !== "z") {
    const sign = zone[0] === "-" ? "-" : "+";
    const digits = zone.slice(1).replace(":", "");
    const oh = Number(digits.slice(0, 2)),
      om = Number(digits.slice(2) || "0");
    if (oh > 23 || om > 59) return null;
    offset = `${sign}${digits.slice(0, 2)}:${(digits.slice(2) || "00").padEnd(2, "0")}`;
  }
  return `${y}-${mo}-${d}T${h}:${mi}:${s}${micro}${offset}`;
}

/** PostgreSQL's timestamptz text in a UTC session (`2025-10-25 12:00:00.123456+00`) → `2025-10-25T12:00:00.123456Z`. */
export function isoUtc(pgText: string): string;
export function isoUtc(pgText: string | null): string | null;
export function isoUtc(pgText: string | null): string | null {
  if (pgText === null) return null;
  // The shape every stored time has (a four-digit year, a UTC session) is cut and joined: a list
  // page renders 400 of them, 17 µs this way against 90 µs through the regular expressions below.
  if (pgText.charCodeAt(10) === 32 && pgText.endsWith("+00") && pgText.indexOf(" ", 11) === -1) {
    return `${pgText.slice(0, 10)}T${pgText.slice(11, -3)}Z`;
  }
  return pgText.replace(" ", "T").replace(/\+00(?::00)?$/, "Z");
}

/**
 * An instant (epoch ms) as ISO-8601 text PostgreSQL reads, for any instant a bound can round to.
 * `toISOString` writes year 10000 as `+010000` (PostgreSQL reads the sign as a zone) and the
 * year before 1 AD as `0000` (PostgreSQL has no year 0: it is 1 BC).
 */
export function pgInstant(ms: number): string {
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  const rest = date.toISOString().replace(/^[+-]?\d+/, "");
  return year >= 1 ? `${String(year).padStart(4, "0")}${rest}` : `${String(1 - year).padStart(4, "0")}${rest} BC`;
}

/** pgInstant's spellings of years past 9999 and before 1 AD in the expanded years Date.parse reads. */
function jsIsoText(text: string): string {
  const bc = / BC$/.exec(text);
  const match = /^(\d+)(-.*?)(?: BC)?$/.exec(text);
  if (!match || (!bc && match[1]!.length === 4)) return text;
  const year = bc ? 1 - Number(match[1]) : Number(match[1]);
  return `${year < 0 ? "-" : "+"}${String(Math.abs(year)).padStart(6, "0")}${match[2]}`;
}

/**
 * Epoch milliseconds of a parseIsoTimestamp or pgInstant value (the fraction past milliseconds cut off), and
 * whether anything finer than a millisecond was set. Date.parse alone reads at most 3 digits.
 */
export function epochMs(text: string): { ms: number; subMs: boolean } {
  const fraction = /\.(\d+)/.exec(text)?.[1] ?? "";
  const ms = Date.parse(jsIsoText(text.replace(/\.\d+/, ""))) + Number(`${fraction}000`.slice(0, 3));
  return { ms, subMs: /[1-9]/.test(fraction.slice(3)) };
}

/** Orders two parseIsoTimestamp or pgInstant values to the microsecond (Date.parse stops at the millisecond). */
export function compareInstants(a: string, b: string): number {
  const micros = (text: string) => Number(`${/\.(\d+)/.exec(text)?.[1] ?? ""}000000`.slice(3, 6));
  return epochMs(a).ms - epochMs(b).ms || micros(a) - micros(b);
}

/** Microseconds since the epoch of a parseIsoTimestamp or pgInstant value. */
export function epochMicros(text: string): bigint {
  const micros = Number(`${/\.(\d+)/.exec(text)?.[1] ?? ""}000000`.slice(3, 6));
  return BigInt(epochMs(text).ms) * 1000n + BigInt(micros);
}

/** An instant in microseconds as ISO-8601 text PostgreSQL reads (pgInstant's, to the microsecond). */
export function pgInstantMicros(micros: bigint): string {
  const ms = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const rest = micros - ms * 1000n;
  return pgInstant(Number(ms)).replace(/(\.\d{3})Z/, `$1${String(rest).padStart(3, "0")}Z`);
}
