// The fixed logarithmic price bins of outcome_rollup_price_hourly (migration 015) and the
// estimates read from them (pure: SQL is in outcomes.price-distribution.ts).
//
// A price p > 0 is in bin k = floor(ln p / ln 1.1), i.e. 1.1^k ≤ p < 1.1^(k+1); price 0 has a bin
// of its own. A bin's estimate is its geometric midpoint 1.1^(k+½) moved into the [min, max] of
// the prices the bin counted, which is within √1.1 − 1 ≈ 4.881% of every price in the bin (the
// midpoint is; moving toward the prices only brings it closer). A percentile interpolates between
// two order statistics exactly as percentile_cont does, x = (1 − f)·a + f·b; with estimates
// â, b̂ each within α of a and b, |x̂ − x| ≤ (1 − f)·α·a + f·α·b = α·x. So every percentile is within
// α of the exact percentile_cont, relative; the 6 significant digits it is given to add < 0.0005%.
import { compareDecimals } from "../values/decimals";

export const BIN_BASE = 1.1;
/** The bin of price 0 (smallint's lowest value, below every bin of a positive price). */
export const ZERO_BIN = -32768;
/** √1.1 − 1 plus the rounding to 6 significant digits, rounded up: what the API promises. */
export const RELATIVE_ERROR_BOUND = 0.0489;
export const PERCENTILES = [
  ["p50", 0.5],
  ["p90", 0.9],
  ["p99", 0.99],
] as const;
export type PercentileName = (typeof PERCENTILES)[number][0];

export interface BinRow {
  bin: number;
  outcomes: number;
  /** Exact decimal text: the lowest and highest price the bin counted. */
  min: string;
  max: string;
}

/** A finite non-negative number as plain decimal text with `digits` significant digits (no exponent, no trailing zeros). */
export function significantText(value: number, digits = 6): string {
  if (value === 0) return "0";
  const [mantissa, exponentText] = value.toExponential(digits - 1).split("e") as [string, string];
  const exponent = Number(exponentText);
  const figures = mantissa.replace(".", "");
  const point = exponent + 1;
  const text =
    point <= 0
      ? `0.${"0".repeat(-point)}${figures}`
      : point >= figures.length
        ? figures + "0".repeat(point - figures.length)
        : `${figures.slice(0, point)}.${figures.slice(point)}`;
  return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}

/** A bin's lower (inclusive) and upper (exclusive) bound as decimal text; the zero bin is [0, 0]. */
export function binBounds(bin: number): { lower: string; upper: string } {
  if (bin === ZERO_BIN) return { lower: "0", upper: "0" };
  return { lower: significantText(BIN_BASE ** bin), upper: significantText(BIN_BASE ** (bin + 1)) };
}

/** A value with its exact text when it is one of the stored prices. */
interface Estimate {
  value: number;
  exact?: string;
}

/** The bin's estimate: the geometric midpoint, moved into [min, max] of what it counted. */
export function binEstimate(row: BinRow): Estimate {
  if (row.bin === ZERO_BIN) return { value: 0, exact: "0" };
  const mid = BIN_BASE ** (row.bin + 0.5);
  if (mid <= Number(row.min)) return { value: Number(row.min), exact: row.min };
  if (mid >= Number(row.max)) return { value: Number(row.max), exact: row.max };
  return { value: mid };
}

/** The estimate at 0-based rank `rank` of bins sorted by bin. */
function atRank(bins: readonly BinRow[], rank: number): Estimate {
  let seen = 0;
  for (const row of bins) {
    seen += row.outcomes;
    if (rank < seen) return binEstimate(row);
  }
  return binEstimate(bins[bins.length - 1]!);
}

/** percentile_cont(q) over the prices the bins counted, from their estimates; null when there are none. */
export function percentileFromBins(bins: readonly BinRow[], q: number): string | null {
  const n = bins.reduce((sum, row) => sum + row.outcomes, 0);
  if (n === 0) return null;
  const h = q * (n - 1);
  const lo = Math.floor(h);
  const f = h - lo;
  const a = atRank(bins, lo);
  if (f === 0) return a.exact ?? significantText(a.value);
  const b = atRank(bins, lo + 1);
  if (a.exact !== undefined && a.exact === b.exact) return a.exact;
  return significantText(a.value + f * (b.value - a.value));
}

/** Bins ordered by bin, the zero bin first (the rows may come in any order). */
export function sortBins(bins: readonly BinRow[]): BinRow[] {
  return [...bins].sort((a, b) => a.bin - b.bin);
}

/** The lowest and highest price counted, exactly. */
export function extremes(bins: readonly BinRow[]): { min: string; max: string } | null {
  if (bins.length === 0) return null;
  const min = bins.map((b) => b.min).reduce((x, y) => (compareDecimals(x, y) <= 0 ? x : y));
  const max = bins.map((b) => b.max).reduce((x, y) => (compareDecimals(x, y) >= 0 ? x : y));
  return { min, max };
}
