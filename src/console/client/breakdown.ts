// Breakdown: the figures of /api/outcomes/breakdown/ per group of one or two dimensions, as a
// table with a bar per group for the metric it is ordered by, and the same table as CSV. The
// address bar holds exactly the API's query, so a breakdown can be bookmarked and shared.
import { apiGet, type Breakdown, type BreakdownGroup, queryOf } from "./api.ts";
import { dataTable, field, h, replaceChildren, select, th } from "./dom.ts";
import { formatCount, formatMoney, formatPercent } from "./format.ts";
import type { View, ViewContext } from "./router.ts";

const DIMENSIONS = ["site_domain", "user_id", "currency", "win_status", "enriched", "hour", "day", "week", "month"] as const;
const METRICS = ["revenue", "outcomes", "wins", "losses", "win_rate", "avg_win_price", "avg_bid_price", "profit_margin", "enriched_count"] as const;
type Metric = (typeof METRICS)[number];

const LABELS: Record<string, string> = {
  site_domain: "Site domain",
  user_id: "User",
  currency: "Currency",
  win_status: "Won",
  enriched: "Enriched",
  hour: "Hour (UTC start)",
  day: "Day",
  week: "Week (Monday)",
  month: "Month",
  outcomes: "Outcomes",
  wins: "Wins",
  losses: "Losses",
  win_rate: "Win rate",
  revenue: "Revenue (mixed currencies)",
  avg_win_price: "Avg win price",
  avg_bid_price: "Avg bid price",
  profit_margin: "Profit margin",
  enriched_count: "Enriched",
};

/** The parameters the page passes through to the API, in the order the URL shows them. */
export const BREAKDOWN_PARAMS = ["by", "order", "limit", "from", "to", "tz", "currency", "win_status", "site_domain"] as const;

/** The API query of a console URL (by defaults to site_domain). */
export function breakdownQueryOf(params: URLSearchParams): Record<string, string> {
  const query: Record<string, string> = {};
  for (const name of BREAKDOWN_PARAMS) {
    const value = params.get(name);
    if (value) query[name] = value;
  }
  query.by ??= "site_domain";
  return query;
}

const metricText = (group: Pick<BreakdownGroup, Metric>, metric: Metric): string => {
  const value = group[metric];
  if (value === null) return "–";
  if (metric === "win_rate") return formatPercent(value as number);
  return typeof value === "number" ? formatCount(value) : formatMoney(value);
};

const keyText = (value: string | boolean | null | undefined): string =>
  value === null || value === undefined ? "(none)" : value === true ? "Yes" : value === false ? "No" : value;

const currenciesText = (byCurrency: Record<string, string>): string =>
  Object.entries(byCurrency)
    .map(([currency, revenue]) => `${currency} ${formatMoney(revenue)}`)
    .join(", ") || "–";

/** RFC 4180 CSV of the groups and the total: keys, then every metric as the API gives it (exact decimals), then revenue per currency. */
export function breakdownCsv(answer: Breakdown): string {
  const currencies = [...new Set([...answer.results, answer.total].flatMap((group) => Object.keys(group.revenue_by_currency)))].sort();
  const cell = (value: unknown) => {
    const text = value === null || value === undefined ? "" : String(value);
    return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const header = [...answer.by, ...METRICS, ...currencies.map((currency) => `revenue_${currency}`)];
  const line = (keys: unknown[], group: Breakdown["total"]) =>
    [...keys, ...METRICS.map((metric) => group[metric]), ...currencies.map((currency) => group.revenue_by_currency[currency] ?? "")].map(cell).join(",");
  const rows = answer.results.map((group) =>
    line(
      answer.by.map((dim) => group.key[dim]),
      group,
    ),
  );
  return `${[
    header.join(","),
    ...rows,
    line(
      answer.by.map((_, i) => (i === 0 ? "total" : "")),
      answer.total,
    ),
  ].join("\r\n")}\r\n`;
}

function form(context: ViewContext, query: Record<string, string>): HTMLFormElement {
  const [first = "site_domain", second = ""] = query.by!.split(",");
  const order = query.order ?? "-revenue";
  const dimensionOptions = DIMENSIONS.map((d): [string, string] => [d, LABELS[d]!]);
  const controls = {
    first: select("breakdown-first", "first", dimensionOptions, first),
    second: select("breakdown-second", "second", [["", "(none)"], ...dimensionOptions], second),
    metric: select(
      "breakdown-metric",
      "metric",
      METRICS.map((m): [string, string] => [m, LABELS[m]!]),
      order.replace(/^-/, ""),
    ),
    direction: select(
      "breakdown-direction",
      "direction",
      [
        ["-", "Highest first"],
        ["", "Lowest first"],
      ],
      order.startsWith("-") ? "-" : "",
    ),
    from: h("input", { id: "breakdown-from", name: "from", type: "text", value: query.from ?? "", placeholder: "2025-10-01" }),
    to: h("input", { id: "breakdown-to", name: "to", type: "text", value: query.to ?? "", placeholder: "2025-11-01" }),
    tz: h("input", { id: "breakdown-tz", name: "tz", type: "text", value: query.tz ?? "", placeholder: "UTC" }),
  };
  const element = h(
    "form",
    { class: "filters", id: "breakdown-form" },
    field("Group by", controls.first),
    field("Then by", controls.second),
    field("Order by", controls.metric),
    field("Direction", controls.direction),
    field("From", controls.from, "inclusive, ISO-8601"),
    field("To", controls.to, "exclusive"),
    field("Time zone", controls.tz, "IANA name, e.g. Europe/Berlin"),
    h("button", { type: "submit" }, "Show"),
  );
  element.addEventListener("submit", (event) => {
    event.preventDefault();
    const by = [controls.first.value, controls.second.value].filter((d, i, all) => d && all.indexOf(d) === i).join(",");
    const next = {
      ...breakdownQueryOf(context.params),
      by,
      order: `${controls.direction.value}${controls.metric.value}`,
      from: controls.from.value.trim() || undefined,
      to: controls.to.value.trim() || undefined,
      tz: controls.tz.value.trim() || undefined,
    };
    context.navigate(`/console/breakdown${queryOf(next)}`, { replace: true, focus: "#breakdown-table" });
  });
  return element;
}

/** The metric the bars show: the one ordered by, or revenue when the order is a dimension. */
function barMetric(order: string): Metric {
  const name = order.replace(/^-/, "");
  return (METRICS as readonly string[]).includes(name) ? (name as Metric) : "revenue";
}

function table(answer: Breakdown): HTMLElement {
  const metric = barMetric(answer.order);
  const values = answer.results.map((group) => Math.abs(Number(group[metric] ?? 0)));
  const max = Math.max(0, ...values) || 1;
  const metricCells = (group: Breakdown["total"]) => [
    ...METRICS.map((m) => h("td", { class: "num", "data-metric": m, "data-value": group[m] === null ? "" : String(group[m]) }, metricText(group, m))),
    h("td", { "data-metric": "revenue_by_currency" }, currenciesText(group.revenue_by_currency)),
  ];
  const rows = answer.results.map((group, i) =>
    h(
      "tr",
      {},
      ...answer.by.map((dim) => h("th", { scope: "row", "data-key": dim }, keyText(group.key[dim]))),
      h("td", { class: "bar" }, h("meter", { min: 0, max, value: values[i]!, "aria-label": `${LABELS[metric]}: ${metricText(group, metric)}` })),
      ...metricCells(group),
    ),
  );
  return h(
    "div",
    { class: "table-scroll" },
    dataTable(
      { class: "data", id: "breakdown-table", tabindex: "-1" },
      `${formatCount(answer.groups)} groups by ${answer.by.map((d) => LABELS[d]).join(" and ")}${answer.groups > answer.results.length ? `, the first ${answer.results.length} shown` : ""}; days in ${answer.tz}; bars: ${LABELS[metric]}.`,
      [...answer.by.map((dim) => th(LABELS[dim])), th("Bar"), ...METRICS.map((m) => th(LABELS[m])), th("Revenue per currency")],
      h("tbody", {}, ...(rows.length ? rows : [h("tr", {}, h("td", { colspan: answer.by.length + METRICS.length + 2 }, "No outcomes match."))])),
      h(
        "tfoot",
        {},
        h("tr", { id: "breakdown-total" }, h("th", { scope: "row", colspan: answer.by.length }, "Total"), h("td", {}), ...metricCells(answer.total)),
      ),
    ),
  );
}

export function breakdownView(): View {
  return {
    async render(context: ViewContext) {
      const query = breakdownQueryOf(context.params);
      const answer = await apiGet<Breakdown>("/api/outcomes/breakdown/", query);
      if (!context.active()) return;
      const csv = `data:text/csv;charset=utf-8,${encodeURIComponent(breakdownCsv(answer))}`;
      replaceChildren(
        context.main,
        h("h1", { tabindex: "-1" }, "Breakdown"),
        h("p", {}, "Every figure of stats per group, from /api/outcomes/breakdown/. Revenue adds currencies as the original did; the last column splits it."),
        form(context, query),
        h(
          "p",
          {},
          h("a", { href: csv, download: "breakdown.csv", id: "breakdown-csv" }, "Download CSV"),
          " · ",
          h("a", { href: `/api/outcomes/breakdown/${queryOf(query)}` }, "As JSON"),
        ),
        table(answer),
      );
    },
  };
}
