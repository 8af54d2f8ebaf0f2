// Live overview: totals for a period, a chart per minute, hour or day, top sites and users, ingest
// health. It refreshes in place every few seconds (no reload, focus and scroll untouched).
import {
  ApiFailure,
  AuthRequired,
  apiGet,
  type IngestStatus,
  type Params,
  type PriceDistribution,
  queryOf,
  type SeriesPoint,
  type Stats,
  type StorageState,
  type TimeSeries,
  type TopList,
} from "./api.ts";
import { type Chart, createChart } from "./chart.ts";
import { alertBox, type Child, dataTable, field, h, replaceChildren, select, th } from "./dom.ts";
import { formatAverage, formatCount, formatMoney, formatPercent, formatRate } from "./format.ts";
import { pricePanel } from "./prices.ts";
import { showError, type View, type ViewContext } from "./router.ts";

const PERIODS: [string, string][] = [
  ["1h", "Last hour"],
  ["24h", "Last 24 hours"],
  ["7d", "Last 7 days"],
  ["30d", "Last 30 days"],
  ["all", "All time"],
  ["custom", "Custom range"],
];
const PERIOD_SECONDS: Record<string, number> = { "1h": 3_600, "24h": 86_400, "7d": 604_800, "30d": 2_592_000 };
/** Seconds → label; docs/console.md describes these (tests/console/client.test.ts checks it). */
export const REFRESH_CHOICES: [string, string][] = [
  ["0", "Off"],
  ["2", "Every 2 s"],
  ["5", "Every 5 s"],
  ["15", "Every 15 s"],
  ["60", "Every minute"],
];
const BUCKET_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
export type ChartInterval = keyof typeof BUCKET_MS;
const INTERVAL_CHOICES: [ChartInterval, string][] = [
  ["minute", "Per minute"],
  ["hour", "Per hour"],
  ["day", "Per day"],
];
/** Periods short enough for minute buckets (the API counts minutes from the outcomes, at most 360). */
const MINUTE_PERIODS = ["1h", "custom"];

interface Settings {
  period: string;
  from?: string;
  to?: string;
  interval: ChartInterval;
  refreshSeconds: number;
}

export function settingsOf(params: URLSearchParams): Settings {
  const period = PERIODS.some(([value]) => value === params.get("period")) ? params.get("period")! : "24h";
  // The last hour per hour would be two points: per minute it has a shape.
  const defaultInterval = period === "1h" ? "minute" : period === "30d" || period === "all" || period === "custom" ? "day" : "hour";
  const asked = params.get("interval");
  const offered = asked === "hour" || asked === "day" || (asked === "minute" && MINUTE_PERIODS.includes(period));
  const interval = offered ? (asked as ChartInterval) : defaultInterval;
  const refresh = Number(params.get("refresh") ?? "5");
  return {
    period,
    from: params.get("from") ?? undefined,
    to: params.get("to") ?? undefined,
    interval,
    refreshSeconds: Number.isFinite(refresh) && refresh >= 0 ? Math.min(refresh, 3600) : 5,
  };
}

/** The API filters of the period, taken afresh at each refresh so a relative period slides. */
function periodFilters(settings: Settings, now: number): { from?: string; to?: string } {
  if (settings.period === "custom") return { from: settings.from, to: settings.to };
  if (settings.period === "all") return {};
  return { from: new Date(now - PERIOD_SECONDS[settings.period]! * 1000).toISOString() };
}

/** The chart runs to the end of the current bucket for a relative period, so "now" is on it. */
function seriesFilters(settings: Settings, now: number): Params {
  const period = periodFilters(settings, now);
  if (settings.period === "custom" || settings.period === "all") return period;
  const unit = BUCKET_MS[settings.interval];
  return { ...period, to: new Date(Math.ceil((now + 1) / unit) * unit).toISOString() };
}

const STAT_LABELS: [key: string, label: string][] = [
  ["total_outcomes", "Total outcomes"],
  ["total_wins", "Wins"],
  ["win_rate", "Win rate"],
  ["total_revenue", "Revenue per currency"],
  ["average_win_price", "Average win price"],
  ["average_bid_price", "Average bid price"],
  ["enriched_share", "Enriched share"],
];

function statText(key: string, stats: Stats): { text: string | Child[]; value: string } {
  switch (key) {
    case "total_outcomes":
      return { text: formatCount(stats.total_outcomes), value: String(stats.total_outcomes) };
    case "total_wins":
      return { text: formatCount(stats.total_wins), value: String(stats.total_wins) };
    case "win_rate":
      return { text: formatPercent(stats.win_rate), value: String(stats.win_rate) };
    case "total_revenue":
      // Each currency's own exact sum, never total_revenue (which adds USD, EUR and GBP together).
      return { text: revenueFigures(stats.revenue_by_currency), value: JSON.stringify(sortedCurrencies(stats.revenue_by_currency)) };
    case "average_win_price":
      return { text: formatAverage(stats.average_win_price), value: String(stats.average_win_price) };
    case "average_bid_price":
      return { text: formatAverage(stats.average_bid_price), value: String(stats.average_bid_price) };
    default: {
      const share = stats.total_outcomes === 0 ? 0 : (stats.enriched_count / stats.total_outcomes) * 100;
      return { text: `${formatPercent(share)} (${formatCount(stats.enriched_count)})`, value: String(stats.enriched_count) };
    }
  }
}

/** revenue_by_currency with its currencies in code order. */
function sortedCurrencies(byCurrency: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(byCurrency).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** "EUR 78.90 · USD 1,234.56": each currency's exact figure, separately (the stylesheet puts one a line). */
function revenueFigures(byCurrency: Record<string, string>): Child[] {
  const entries = Object.entries(sortedCurrencies(byCurrency));
  if (entries.length === 0) return ["none"];
  return entries.flatMap(([currency, revenue], i) => [
    i > 0 ? h("span", { class: "currency-separator" }, " · ") : null,
    h("span", { class: "currency-figure", "data-currency": currency }, `${currency} ${formatMoney(revenue)}`),
  ]);
}

/**
 * What a figure that adds win prices (top lists, the chart, the averages) is in: "" for no or one
 * currency in the period, " (mixed currencies)" when it adds prices of more than one.
 */
function mixedLabel(currencies: readonly string[]): string {
  return currencies.length > 1 ? " (mixed currencies)" : "";
}

/** A warning beside the figures that add prices of different currencies, or nothing for one currency. */
function mixedNote(currencies: readonly string[], what: string, breakdown: { href: string; text: string }): Child[] {
  if (currencies.length <= 1) return [];
  const list = [...currencies].sort();
  const names = `${list.slice(0, -1).join(", ")} and ${list.at(-1)}`;
  return [
    h("strong", {}, "Mixed currencies: "),
    `${what} ${names} prices into one figure, as the original did. Revenue per currency is in the totals above and on the `,
    h("a", { href: breakdown.href }, breakdown.text),
    ".",
  ];
}

function sectionHeading(id: string, text: string): HTMLHeadingElement {
  return h("h2", { id }, text);
}

function topTable(id: string, caption: string, keyLabel: string): { table: HTMLTableElement; body: HTMLTableSectionElement } {
  const body = h("tbody");
  const table = dataTable(
    { id, class: "data" },
    caption,
    [th(keyLabel), th("Revenue", { class: "num", "data-revenue-heading": "" }), th("Outcomes", { class: "num" }), th("Wins", { class: "num" })],
    body,
  );
  return { table, body };
}

/** From when individual outcomes exist, and where older figures come from. */
export function storageText(storage: StorageState): string {
  const kept = storage.retention_days === null ? "kept without limit" : `kept ${storage.retention_days} days`;
  if (storage.outcomes_available_from === null) return `Individual outcomes: all of them, ${kept}.`;
  const since = storage.outcomes_available_from.replace("T", " ").replace(/(:00)?Z$/, " UTC");
  return `Individual outcomes (${kept}) from ${since} on; figures for earlier periods come from rollups.`;
}

function fillTop(body: HTMLTableSectionElement, top: TopList, noneLabel: string): void {
  if (top.results.length === 0) {
    replaceChildren(body, h("tr", {}, h("td", { colspan: 4 }, "No outcomes in this period.")));
    return;
  }
  replaceChildren(
    body,
    ...top.results.map((entry) =>
      h(
        "tr",
        {},
        h("th", { scope: "row" }, entry.key ?? noneLabel),
        h("td", { class: "num" }, formatMoney(entry.revenue)),
        h("td", { class: "num" }, formatCount(entry.outcomes)),
        h("td", { class: "num" }, formatCount(entry.wins)),
      ),
    ),
  );
}

/** A bucket's start as the table shows it: the day, or the UTC time to the minute. */
function bucketLabel(bucket: string, interval: ChartInterval): string {
  return interval === "day" ? bucket.slice(0, 10) : `${bucket.slice(0, 10)} ${bucket.slice(11, 16)} UTC`;
}

/**
 * A relative period whose outcomes all fall in its last two hourly buckets (a demo just started)
 * draws a flat line and a spike: the hint offers the last hour per minute instead.
 */
export function freshDataHint(settings: Settings, points: readonly SeriesPoint[]): string | null {
  if (settings.interval !== "hour" || settings.period === "custom" || settings.period === "all" || settings.period === "1h") return null;
  const withData = points.filter((p) => p.outcomes > 0);
  if (withData.length === 0 || points.length <= 2) return null;
  return points.slice(0, -2).every((p) => p.outcomes === 0) ? "/console/?period=1h&interval=minute" : null;
}

function fillSeriesTable(body: HTMLTableSectionElement, points: SeriesPoint[], interval: ChartInterval): void {
  const label = (bucket: string) => bucketLabel(bucket, interval);
  replaceChildren(
    body,
    ...points.map((p) =>
      h(
        "tr",
        {},
        h("th", { scope: "row" }, label(p.bucket)),
        h("td", { class: "num" }, formatCount(p.outcomes)),
        h("td", { class: "num" }, formatCount(p.wins)),
        h("td", { class: "num" }, formatMoney(p.revenue)),
      ),
    ),
  );
}

function fillIngest(list: HTMLElement, lagBody: HTMLTableSectionElement, status: IngestStatus, deadLettersLink: string): void {
  const row = (label: string, value: string, key: string) => h("div", { class: "stat" }, h("dt", {}, label), h("dd", { "data-ingest": key }, value));
  replaceChildren(
    list,
    row("Stored per second, last minute", formatRate(status.messages_per_second.last_minute), "rate_1m"),
    row("Stored per second, last 5 minutes", formatRate(status.messages_per_second.last_5_minutes), "rate_5m"),
    row("Consumer lag (messages)", status.consumer_lag.partitions.length ? formatCount(status.consumer_lag.total) : "not reported", "lag"),
    h(
      "div",
      { class: "stat" },
      h("dt", {}, "Dead letters in the period"),
      h("dd", { "data-ingest": "dead_letters" }, h("a", { href: deadLettersLink }, formatCount(status.dead_letters.count))),
    ),
  );
  if (status.consumer_lag.partitions.length === 0) {
    replaceChildren(lagBody, h("tr", {}, h("td", { colspan: 5 }, "No consumer has reported its lag yet.")));
    return;
  }
  replaceChildren(
    lagBody,
    ...status.consumer_lag.partitions.map((p) =>
      h(
        "tr",
        {},
        h("th", { scope: "row" }, `${p.topic} / ${p.partition}`),
        h("td", {}, p.group_id),
        h("td", { class: "num" }, formatCount(p.lag)),
        h("td", { class: "num" }, p.committed_offset === null ? "none" : formatCount(p.committed_offset)),
        h("td", {}, h("time", { datetime: p.updated_at }, p.updated_at)),
      ),
    ),
  );
}

/** A period too long for its buckets (over 2,000) empties the chart, with the API's reason, and nothing else. */
function seriesRefused(error: unknown): TimeSeries & { problem: string } {
  if (!(error instanceof ApiFailure) || error.status !== 400) throw error;
  return { interval: "day", results: [], problem: `No chart: ${[error.detail, ...error.lines()].join(" ")}` };
}

export function overviewView(): View {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let chart: Chart | null = null;
  return {
    dispose() {
      clearTimeout(timer);
      chart?.destroy();
    },
    async render(context: ViewContext) {
      const settings = settingsOf(context.params);
      const { main } = context;

      // Controls: a select applies at once; a custom range applies with its button.
      const period = select("period", "period", PERIODS, settings.period);
      const from = h("input", { id: "from", name: "from", type: "text", value: settings.from ?? "", placeholder: "2025-10-25T00:00:00Z", spellcheck: "false" });
      const to = h("input", { id: "to", name: "to", type: "text", value: settings.to ?? "", placeholder: "2025-10-26T00:00:00Z", spellcheck: "false" });
      const interval = select(
        "interval",
        "interval",
        INTERVAL_CHOICES.filter(([value]) => value !== "minute" || MINUTE_PERIODS.includes(settings.period)),
        settings.interval,
      );
      // A period set by hand in the address (refresh=1) is shown as itself, not as the first choice.
      const refreshChoices: [string, string][] = REFRESH_CHOICES.some(([value]) => value === String(settings.refreshSeconds))
        ? REFRESH_CHOICES
        : [...REFRESH_CHOICES, [String(settings.refreshSeconds), `Every ${settings.refreshSeconds} s`]];
      const refresh = select("refresh", "refresh", refreshChoices, String(settings.refreshSeconds));
      const custom = h(
        "div",
        { class: "custom-range", hidden: settings.period !== "custom" },
        field("From (UTC, inclusive)", from, "ISO-8601, e.g. 2025-10-25 or 2025-10-25T12:00:00Z"),
        field("To (UTC, exclusive)", to),
      );
      const form = h(
        "form",
        { class: "controls", "aria-label": "Overview settings" },
        field("Period", period),
        custom,
        field("Chart buckets", interval),
        field("Auto-refresh", refresh),
        h("button", { type: "submit" }, "Apply"),
      );
      const apply = (focus: string) => {
        const next = new URLSearchParams();
        next.set("period", period.value);
        if (period.value === "custom") {
          if (from.value.trim()) next.set("from", from.value.trim());
          if (to.value.trim()) next.set("to", to.value.trim());
        }
        next.set("interval", interval.value);
        next.set("refresh", refresh.value);
        context.navigate(`/console/?${next}`, { replace: true, focus });
      };
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        apply("#period");
      });
      period.addEventListener("change", () => {
        custom.hidden = period.value !== "custom";
        if (period.value === "custom") from.focus();
        else apply("#period");
      });
      interval.addEventListener("change", () => apply("#interval"));
      refresh.addEventListener("change", () => apply("#refresh"));

      const statList = h(
        "dl",
        { class: "stats", id: "stats" },
        ...STAT_LABELS.map(([key, label]) =>
          h("div", { class: key === "total_revenue" ? "stat wide" : "stat" }, h("dt", {}, label), h("dd", { "data-stat": key }, "…")),
        ),
      );
      const updated = h("p", { class: "updated", id: "updated" }, "Loading…");
      const storageNote = h("p", { class: "hint", id: "storage-note" });
      const problems = h("div", { id: "overview-problems" });
      const chartBox = h("div", { class: "chart", id: "chart" });
      const chartNote = h("div", { id: "chart-note" });
      const chartHint = h("p", { class: "hint", id: "chart-hint", hidden: true });
      const chartCurrencies = h("p", { class: "hint", id: "chart-currencies", hidden: true });
      const topCurrencies = h("p", { class: "hint", id: "top-currencies", hidden: true });
      const caption = h("figcaption", {}, "Outcomes and wins (lines) on the left axis, revenue (shaded, beneath them) on the right; times in UTC.");
      const seriesBody = h("tbody");
      const seriesTable = dataTable(
        { class: "data", id: "series-table" },
        "Outcomes, wins and revenue per bucket (UTC)",
        [
          th(settings.interval === "day" ? "Day" : settings.interval === "hour" ? "Hour" : "Minute"),
          th("Outcomes", { class: "num" }),
          th("Wins", { class: "num" }),
          th("Revenue", { class: "num", "data-revenue-heading": "" }),
        ],
        seriesBody,
      );
      const sites = topTable("top-sites", "Top site domains by revenue", "Site domain");
      const users = topTable("top-users", "Top users by revenue", "User");
      const prices = pricePanel();
      const ingestList = h("dl", { class: "stats", id: "ingest" });
      const lagBody = h("tbody");
      const lagTable = dataTable(
        { class: "data", id: "lag-table" },
        "Consumer lag by partition, as last reported by the consumer",
        [th("Topic / partition"), th("Group"), th("Lag", { class: "num" }), th("Committed offset", { class: "num" }), th("Reported at")],
        lagBody,
      );

      replaceChildren(
        main,
        h("h1", { tabindex: "-1" }, "Overview"),
        form,
        updated,
        storageNote,
        problems,
        h("section", { "aria-labelledby": "totals-title" }, sectionHeading("totals-title", "Totals"), statList),
        h(
          "section",
          { "aria-labelledby": "chart-title" },
          sectionHeading("chart-title", `Outcomes, wins and revenue per ${settings.interval}`),
          chartNote,
          chartHint,
          chartCurrencies,
          h("figure", {}, chartBox, caption),
          h("details", {}, h("summary", {}, "Chart data as a table"), seriesTable),
        ),
        topCurrencies,
        h(
          "div",
          { class: "columns" },
          h("section", { "aria-labelledby": "top-sites-title" }, sectionHeading("top-sites-title", "Top site domains"), sites.table),
          h("section", { "aria-labelledby": "top-users-title" }, sectionHeading("top-users-title", "Top users"), users.table),
        ),
        h("section", { "aria-labelledby": "prices-title" }, sectionHeading("prices-title", "Price distribution"), prices.element),
        h("section", { "aria-labelledby": "ingest-title" }, sectionHeading("ingest-title", "Ingest health"), ingestList, lagTable),
      );
      chart = createChart(chartBox, settings.interval);

      const refreshOnce = async () => {
        const now = Date.now();
        const filters = periodFilters(settings, now);
        const [stats, series, topSites, topUsers, ingest, storage, bidPrices, winPrices] = await Promise.all([
          apiGet<Stats>("/api/outcomes/stats/", filters),
          apiGet<TimeSeries>("/api/outcomes/timeseries/", { ...seriesFilters(settings, now), interval: settings.interval }).catch(seriesRefused),
          apiGet<TopList>("/api/outcomes/top/", { ...filters, by: "site_domain", limit: "10" }),
          apiGet<TopList>("/api/outcomes/top/", { ...filters, by: "user_id", limit: "10" }),
          apiGet<IngestStatus>("/api/ingest/status/", { from: filters.from ?? "1970-01-01T00:00:00Z", to: filters.to }),
          apiGet<StorageState>("/api/storage/"),
          apiGet<PriceDistribution>("/api/outcomes/price_distribution/", { ...filters, price: "bid" }),
          apiGet<PriceDistribution>("/api/outcomes/price_distribution/", { ...filters, price: "win", win_status: "true" }),
        ]);
        if (!context.active()) return;
        for (const [key] of STAT_LABELS) {
          const dd = statList.querySelector<HTMLElement>(`[data-stat="${key}"]`)!;
          const { text, value } = statText(key, stats);
          if (typeof text === "string") dd.textContent = text;
          else replaceChildren(dd, ...text);
          dd.dataset.value = value;
        }
        replaceChildren(chartNote, "problem" in series ? alertBox(series.problem) : null);
        chart?.update(series.results);
        const hint = "problem" in series ? null : freshDataHint(settings, series.results);
        replaceChildren(
          chartHint,
          ...(hint ? ["Every outcome of this period is in its last two hours: ", h("a", { href: hint }, "see the last hour per minute"), "."] : []),
        );
        chartHint.hidden = hint === null;
        fillSeriesTable(seriesBody, series.results, settings.interval);
        // The chart, its table, the top lists and the averages add win prices: say so when the
        // period has more than one currency (stats/ lists one entry per currency with outcomes).
        const currencies = Object.keys(stats.revenue_by_currency);
        const mixed = mixedLabel(currencies);
        for (const th of main.querySelectorAll<HTMLElement>("[data-revenue-heading]")) th.textContent = `Revenue${mixed}`;
        for (const [key, label] of STAT_LABELS) {
          if (key === "average_win_price" || key === "average_bid_price")
            statList.querySelector(`[data-stat="${key}"]`)!.previousElementSibling!.textContent = `${label}${mixed}`;
        }
        caption.textContent = `Outcomes and wins (lines) on the left axis, revenue${mixed} (shaded, beneath them) on the right; times in UTC.`;
        const breakdown = (by: string, text: string) => ({ href: `/console/breakdown${queryOf({ by, from: filters.from, to: filters.to })}`, text });
        replaceChildren(
          chartCurrencies,
          ...mixedNote(currencies, "The revenue in this chart and its table adds", breakdown("currency", "breakdown by currency")),
        );
        chartCurrencies.hidden = currencies.length <= 1;
        replaceChildren(
          topCurrencies,
          ...mixedNote(currencies, "The top lists' revenue and the average prices add", breakdown("site_domain,currency", "breakdown by site and currency")),
        );
        topCurrencies.hidden = currencies.length <= 1;
        fillTop(sites.body, topSites, "(no site domain)");
        fillTop(users.body, topUsers, "(none)");
        prices.fill([bidPrices, winPrices]);
        fillIngest(ingestList, lagBody, ingest, "/console/dead-letters");
        storageNote.textContent = storageText(storage);
        replaceChildren(problems);
        const at = new Date(now).toISOString().replace("T", " ").slice(0, 19);
        updated.textContent =
          settings.refreshSeconds > 0 ? `Updated ${at} UTC; refreshes every ${settings.refreshSeconds} s.` : `Updated ${at} UTC; auto-refresh is off.`;
        updated.dataset.refreshedAt = String(now);
      };

      await refreshOnce();
      const loop = () => {
        if (settings.refreshSeconds === 0) return;
        timer = setTimeout(async () => {
          if (!context.active()) return;
          // A hidden tab skips its turn rather than polling the API for nobody.
          if (document.visibilityState === "visible") {
            try {
              await refreshOnce();
            } catch (error) {
              if (!context.active()) return;
              if (error instanceof AuthRequired) return showError(main, error, () => context.navigate(location.pathname + location.search, { replace: true }));
              replaceChildren(problems, alertBox("The last refresh failed; showing the figures from before.", [String((error as Error).message)]));
            }
          }
          if (context.active()) loop();
        }, settings.refreshSeconds * 1000);
      };
      loop();
    },
  };
}
