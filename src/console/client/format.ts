// How figures are shown. Prices arrive as exact decimal text (records) or JSON numbers (stats);
// neither goes through arithmetic here, only digit grouping.
const GROUPING = /\B(?=(\d{3})+(?!\d))/g;

export function formatCount(n: number): string {
  return String(n).replace(GROUPING, ",");
}

/** Decimal text or a number, with its digits kept as they are, grouped by thousands. */
export function formatMoney(value: string | number): string {
  let text = typeof value === "number" ? numberText(value) : value;
  const [whole = "0", fraction] = text.split(".");
  text = whole.replace(GROUPING, ",");
  return fraction === undefined ? text : `${text}.${fraction}`;
}

/** A number as plain decimal digits (no exponent), at least two fractional digits. */
function numberText(n: number): string {
  let text = String(n);
  if (/e/i.test(text)) text = n.toFixed(12).replace(/0+$/, "");
  const [whole, fraction = ""] = text.split(".");
  return `${whole}.${fraction.padEnd(2, "0")}`;
}

/** A mean price (already a float in stats/), shown to 4 decimals; the exact figure is in data-value. */
export function formatAverage(n: number): string {
  return formatMoney(Number.isInteger(n * 100) ? n : n.toFixed(4));
}

export function formatPercent(n: number): string {
  return `${n.toFixed(2)} %`;
}

export function formatRate(perSecond: number): string {
  return `${perSecond.toFixed(perSecond < 10 ? 2 : 1)} /s`;
}

export function yesNo(value: boolean): string {
  return value ? "Yes" : "No";
}
