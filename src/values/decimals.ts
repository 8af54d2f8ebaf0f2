// Money stays decimal text from the message to the JSON record; no float arithmetic touches it.
const DECIMAL = /^(\d+)(?:\.(\d+))?$/;
/** A price already as renderPrice writes it, with exactly two fractional digits: no leading zero but the units'. */
const RENDERED_PRICE = /^(?:0|[1-9]\d*)\.\d\d$/;

/** A price as the API renders it: at least 2 fractional digits, no trailing noise ("0.8" → "0.80"). */
export function renderPrice(text: string): string {
  // Already so (how prices are usually stored): returned as it is, without the work below.
  if (RENDERED_PRICE.test(text)) return text;
  const match = DECIMAL.exec(text);
  if (!match) return text;
  const whole = match[1]!.replace(/^0+(?=\d)/, "");
  const fraction = (match[2] ?? "").replace(/0+$/, "").padEnd(2, "0");
  return `${whole}.${fraction}`;
}

/** Compares two non-negative decimal texts exactly (as numbers, not as text: "10" > "9"). */
export function compareDecimals(a: string, b: string): number {
  const [ai, af = ""] = a.split(".") as [string, string?];
  const [bi, bf = ""] = b.split(".") as [string, string?];
  const width = Math.max(af.length, bf.length);
  const scaled = (i: string, f: string) => BigInt(i + f.padEnd(width, "0"));
  const diff = scaled(ai, af) - scaled(bi, bf);
  return diff === 0n ? 0 : diff < 0n ? -1 : 1;
}

/**
 * A finite non-negative JS number as exact decimal text (no exponent), e.g. 1e-7 → "0.0000001".
 * The shortest round-trip form is what the sender wrote, for any price written with ≤ 15 digits.
 */
export function numberToDecimalText(value: number): string {
  const text = String(value);
  if (!/e/i.test(text)) return text;
  const [mantissa, exponentText] = text.toLowerCase().split("e") as [string, string];
  const exponent = Number(exponentText);
  const [intPart, fracPart = ""] = mantissa.split(".") as [string, string?];
  const digits = intPart + fracPart;
  const point = intPart.length + exponent;
  if (point <= 0) return `0.${"0".repeat(-point)}${digits}`.replace(/\.?0+$/, "") || "0";
  if (point >= digits.length) return digits + "0".repeat(point - digits.length);
  return `${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Numeric text from PostgreSQL → JSON number for aggregates (exact for ≤ 15 significant digits). */
export function aggregateNumber(text: string | null, whenNull: number | null = 0): number | null {
  return text === null ? whenNull : Number(text);
}

/** a − b of two decimal texts (either may be signed), exactly, as signed decimal text. */
export function subtractDecimals(a: string, b: string): string {
  const parse = (text: string) => {
    const negative = text.startsWith("-");
    const [i, f = ""] = text.replace(/^-/, "").split(".") as [string, string?];
    return { negative, i, f };
  };
  const x = parse(a),
    y = parse(b);
  const scale = Math.max(x.f.length, y.f.length);
  const units = (v: ReturnType<typeof parse>) => (v.negative ? -1n : 1n) * BigInt(v.i + v.f.padEnd(scale, "0"));
  const diff = units(x) - units(y);
  const digits = (diff < 0n ? -diff : diff).toString().padStart(scale + 1, "0");
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return diff < 0n ? `-${text}` : text;
}
