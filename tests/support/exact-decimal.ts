// Exact decimal arithmetic on price text for test expectations: BigInt at a common scale, so the
// expected figures never pass through float sums (0.1 + 0.2 + 0.7 is 0.9999999999999999 in float).
interface Scaled {
  units: bigint;
  scale: number;
}

function scaled(text: string): Scaled {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) throw new Error(`not a non-negative decimal: ${text}`);
  const fraction = match[2] ?? "";
  return { units: BigInt(match[1]! + fraction), scale: fraction.length };
}

function rescale(value: Scaled, scale: number): bigint {
  return value.units * 10n ** BigInt(scale - value.scale);
}

function format(units: bigint, scale: number): string {
  const digits = units.toString().padStart(scale + 1, "0");
  return scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

export function compareDecimals(a: string, b: string): number {
  const x = scaled(a),
    y = scaled(b);
  const scale = Math.max(x.scale, y.scale);
  const diff = rescale(x, scale) - rescale(y, scale);
  return diff === 0n ? 0 : diff < 0n ? -1 : 1;
}

/** The exact sum as decimal text ("0" for no terms). */
export function sumDecimals(texts: readonly string[]): string {
  const values = texts.map(scaled);
  const scale = Math.max(0, ...values.map((v) => v.scale));
  return format(
    values.reduce((acc, v) => acc + rescale(v, scale), 0n),
    scale,
  );
}

/** The exact mean, as the nearest JSON number (40 exact fractional digits, then one rounding). */
export function meanAsNumber(texts: readonly string[]): number {
  if (texts.length === 0) throw new Error("mean of nothing");
  const sum = scaled(sumDecimals(texts));
  const digits = 40;
  const quotient = (sum.units * 10n ** BigInt(digits)) / (BigInt(texts.length) * 10n ** BigInt(sum.scale));
  return Number(format(quotient, digits));
}

/** wins / total × 100 to 2 places, exact ties to even; equals Python's round(wins / total * 100, 2) for total < 160. */
export function winRate(wins: number, total: number): number {
  if (total === 0) return 0;
  const numerator = BigInt(wins) * 10_000n;
  let hundredths = numerator / BigInt(total);
  const twiceRemainder = 2n * (numerator % BigInt(total));
  if (twiceRemainder > BigInt(total) || (twiceRemainder === BigInt(total) && hundredths % 2n === 1n)) hundredths += 1n;
  return Number(hundredths) / 100;
}

/** A decimal as the API renders money: no trailing zeros past the second fractional digit ("0.8" → "0.80"); signed. */
export function money(text: string): string {
  const sign = text.startsWith("-") ? "-" : "";
  const [whole, fraction = ""] = text.replace(/^-/, "").split(".") as [string, string?];
  const rendered = `${whole.replace(/^0+(?=\d)/, "")}.${fraction.replace(/0+$/, "").padEnd(2, "0")}`;
  return sign && /[1-9]/.test(rendered) ? `-${rendered}` : rendered;
}

/** a − b exactly, as signed decimal text. */
export function subtractDecimals(a: string, b: string): string {
  const x = scaled(a),
    y = scaled(b);
  const scale = Math.max(x.scale, y.scale);
  const diff = rescale(x, scale) - rescale(y, scale);
  return (diff < 0n ? "-" : "") + format(diff < 0n ? -diff : diff, scale);
}

/** The exact mean of the texts rounded half away from zero to `scale` fractional digits. */
export function meanRounded(texts: readonly string[], scale: number): string {
  const sum = scaled(sumDecimals(texts));
  const numerator = sum.units * 10n ** BigInt(scale + 1);
  const denominator = BigInt(texts.length) * 10n ** BigInt(sum.scale);
  const tenths = numerator / denominator;
  return format((tenths + 5n) / 10n, scale);
}
