// The overview's price distribution: per price (bid; win over won auctions) and currency, the
// percentiles and exact range price_distribution/ gives, and its histogram as <meter> bars (the
// console's CSP allows no inline style, so bar widths cannot be set by hand).
import type { PriceDistribution } from "./api.ts";
import { dataTable, h, replaceChildren, th } from "./dom.ts";
import { formatCount, formatMoney } from "./format.ts";

export const PRICE_LABELS = { bid: "Bid price", win: "Win price (won auctions)" } as const;

export interface PricePanel {
  element: HTMLElement;
  fill(distributions: PriceDistribution[]): void;
}

const cell = (value: string | null) => h("td", { class: "num" }, value === null ? "–" : formatMoney(value));

function histogram(price: PriceDistribution["price"], result: PriceDistribution["results"][number]): HTMLElement {
  const most = Math.max(...result.buckets.map((b) => b.count));
  return h(
    "details",
    { "data-histogram": `${price}-${result.currency}` },
    h("summary", {}, `${PRICE_LABELS[price]}, ${result.currency}: ${formatCount(result.buckets.length)} buckets`),
    dataTable(
      { class: "data histogram" },
      `${PRICE_LABELS[price]} in ${result.currency}: outcomes per bucket (lower bound inclusive, upper exclusive)`,
      [th("From"), th("Below"), th("Outcomes", { class: "num" }), th("Share")],
      h(
        "tbody",
        {},
        ...result.buckets.map((b) =>
          h(
            "tr",
            {},
            h("td", { class: "num" }, formatMoney(b.lower)),
            h("td", { class: "num" }, b.lower === b.upper ? "(exactly 0)" : formatMoney(b.upper)),
            h("td", { class: "num" }, formatCount(b.count)),
            h("td", {}, h("meter", { min: 0, max: most, value: b.count, "aria-label": `${formatCount(b.count)} of ${formatCount(result.count)}` })),
          ),
        ),
      ),
    ),
  );
}

export function pricePanel(): PricePanel {
  const body = h("tbody");
  const note = h("p", { class: "hint", id: "price-note" });
  const histograms = h("div", { id: "price-histograms" });
  const table = dataTable(
    { class: "data", id: "price-table" },
    "Prices per currency: percentiles and exact range",
    [th("Price"), th("Currency"), th("Outcomes", { class: "num" }), ...["p50", "p90", "p99", "Lowest", "Highest"].map((label) => th(label, { class: "num" }))],
    body,
  );
  return {
    element: h("div", {}, note, table, histograms),
    fill(distributions) {
      const rows = distributions.flatMap((d) =>
        d.results.map((r) =>
          h(
            "tr",
            { "data-price": d.price, "data-currency": r.currency },
            h("th", { scope: "row" }, PRICE_LABELS[d.price]),
            h("td", {}, r.currency),
            h("td", { class: "num" }, formatCount(r.count)),
            cell(r.p50),
            cell(r.p90),
            cell(r.p99),
            cell(r.min),
            cell(r.max),
          ),
        ),
      );
      replaceChildren(body, ...(rows.length ? rows : [h("tr", {}, h("td", { colspan: 8 }, "No outcomes in this period."))]));
      const bound = Math.max(...distributions.map((d) => d.relative_error_bound));
      note.textContent =
        bound > 0
          ? `Percentiles from fixed buckets, within ${(bound * 100).toFixed(2)} % of the exact figure; counts, lowest and highest are exact.`
          : "Percentiles computed exactly from the outcomes.";
      replaceChildren(histograms, ...distributions.flatMap((d) => d.results.map((r) => histogram(d.price, r))));
    },
  };
}
