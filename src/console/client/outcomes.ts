// Outcomes browser: filters, prefix search, sortable columns and keyset pages. The address bar
// holds exactly the API's query (plus nothing else), so the table is what /api/outcomes/ answers.
import { ApiFailure, apiDownload, apiGet, type OutcomeRecord, type Page, queryOf } from "./api.ts";
import { alertBox, dataTable, field, h, replaceChildren, select, th } from "./dom.ts";
import { formatCount, formatMoney, yesNo } from "./format.ts";
import type { View, ViewContext } from "./router.ts";
import { getToken } from "./token.ts";

/** Query parameters the browser passes through to the API, in the order the URL shows them. */
export const FILTER_NAMES = ["search", "win_status", "enriched", "currency", "from", "to", "min_price", "max_price", "ordering", "page_size"] as const;
const DEFAULT_PAGE_SIZE = "50";
const SORTABLE = { timestamp: "Timestamp", win_price: "Win price", bid_price: "Bid price" } as const;
type SortField = keyof typeof SORTABLE;

export const LAST_LIST_KEY = "helios-console-last-outcomes";

/** The API query of a console URL: its filters, page size and cursor (empty = first page). */
export function apiQueryOf(params: URLSearchParams): Record<string, string> {
  const query: Record<string, string> = {};
  for (const name of FILTER_NAMES) {
    const value = params.get(name);
    if (value) query[name] = value;
  }
  query.page_size ??= DEFAULT_PAGE_SIZE;
  query.cursor = params.get("cursor") ?? "";
  return query;
}

/** The console URL of the list with the same filters at `cursor` (null: the first page). */
function listUrl(params: URLSearchParams, cursor: string | null): string {
  const next = new URLSearchParams();
  for (const name of FILTER_NAMES) if (params.get(name)) next.set(name, params.get(name)!);
  if (cursor) next.set("cursor", cursor);
  return `/console/outcomes${queryOf(Object.fromEntries(next))}`;
}

/** The console URL showing the page an API link (next / previous) points at. */
function consoleLink(params: URLSearchParams, apiLink: string | null): string | null {
  return apiLink ? listUrl(params, new URL(apiLink).searchParams.get("cursor")) : null;
}

function currentSort(params: URLSearchParams): { field: string; desc: boolean } {
  const first = (params.get("ordering") || "-timestamp").split(",")[0]!;
  return { field: first.replace(/^-/, ""), desc: first.startsWith("-") };
}

function sortedHeader(params: URLSearchParams, field: SortField, navigate: ViewContext["navigate"]): HTMLTableCellElement {
  const sort = currentSort(params);
  const active = sort.field === field;
  const button = h(
    "button",
    { type: "button", class: "sort", "data-sort": field },
    SORTABLE[field],
    h("span", { class: "sort-mark", "aria-hidden": "true" }, active ? (sort.desc ? " ▼" : " ▲") : " ↕"),
  );
  button.addEventListener("click", () => {
    const next = new URLSearchParams(params);
    next.delete("cursor");
    // Newest / highest first on the first click; the second click on the same column flips it.
    next.set("ordering", active && sort.desc ? field : `-${field}`);
    navigate(`/console/outcomes?${next}`, { focus: `[data-sort="${field}"]` });
  });
  return th(button, { class: field === "timestamp" ? "" : "num", "aria-sort": active ? (sort.desc ? "descending" : "ascending") : null });
}

function filterForm(params: URLSearchParams, navigate: ViewContext["navigate"]): HTMLFormElement {
  const text = (name: string, extra: Record<string, string> = {}) =>
    h("input", { id: `f-${name}`, name, type: "text", value: params.get(name) ?? "", spellcheck: "false", ...extra });
  const search = h("input", { id: "f-search", name: "search", type: "search", value: params.get("search") ?? "", spellcheck: "false", autocomplete: "off" });
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter outcomes", action: "/console/outcomes", method: "get" },
    field("Search (prefix of bid, user or site)", search),
    field(
      "Win status",
      select(
        "f-win_status",
        "win_status",
        [
          ["", "Any"],
          ["true", "Won"],
          ["false", "Lost"],
        ],
        params.get("win_status") ?? "",
      ),
    ),
    field(
      "Enriched",
      select(
        "f-enriched",
        "enriched",
        [
          ["", "Any"],
          ["true", "Enriched"],
          ["false", "Not enriched"],
        ],
        params.get("enriched") ?? "",
      ),
    ),
    field("Currency", text("currency", { maxlength: "3", size: "4", placeholder: "USD" })),
    field("From (UTC)", text("from", { placeholder: "2025-10-25" }), "Inclusive, ISO-8601"),
    field("To (UTC)", text("to", { placeholder: "2025-10-26T12:00:00Z" }), "Exclusive"),
    field("Min win price", text("min_price", { inputmode: "decimal", size: "8" })),
    field("Max win price", text("max_price", { inputmode: "decimal", size: "8" })),
    field(
      "Rows per page",
      select(
        "f-page_size",
        "page_size",
        [
          ["25", "25"],
          ["50", "50"],
          ["100", "100"],
          ["500", "500"],
        ],
        params.get("page_size") ?? DEFAULT_PAGE_SIZE,
      ),
    ),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Apply filters"), h("a", { href: "/console/outcomes" }, "Clear")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [name, value] of new FormData(form)) if (typeof value === "string" && value.trim()) next.set(name, value.trim());
    if (next.get("page_size") === DEFAULT_PAGE_SIZE) next.delete("page_size");
    // The sort order survives a new filter; the position (cursor) does not.
    if (params.get("ordering")) next.set("ordering", params.get("ordering")!);
    const query = next.toString();
    navigate(`/console/outcomes${query ? `?${query}` : ""}`, { focus: "#results-caption" });
  });
  return form;
}

/** The API's CSV export of what the list shows: its filters and order, every page (so no page size or cursor). */
export function exportUrl(params: URLSearchParams): string {
  const query: Record<string, string> = { format: "csv" };
  for (const name of FILTER_NAMES) {
    const value = params.get(name);
    if (value && name !== "page_size") query[name] = value;
  }
  return `/api/outcomes/export/${queryOf(query)}`;
}

function downloadControl(params: URLSearchParams): HTMLElement {
  const href = exportUrl(params);
  const link = h("a", { href, download: "outcomes.csv", id: "download-csv", class: "download" }, "Download CSV");
  const status = h("span", { class: "hint", role: "status" });
  link.addEventListener("click", (event) => {
    // Without a token the browser follows the link itself and streams the file to disk.
    if (getToken() === null) return;
    event.preventDefault();
    status.textContent = "Preparing the download…";
    apiDownload(href, "outcomes.csv").then(
      () => (status.textContent = ""),
      (error: Error) => (status.textContent = `The download failed: ${error.message}`),
    );
  });
  return h("div", { class: "table-actions" }, link, status);
}

function outcomeRow(outcome: OutcomeRecord): HTMLTableRowElement {
  return h(
    "tr",
    { "data-id": outcome.id },
    h("th", { scope: "row" }, h("a", { href: `/console/outcomes/${outcome.id}` }, outcome.bid_id)),
    h("td", { class: "text" }, outcome.user_id),
    h("td", { class: "text" }, outcome.site_domain ?? ""),
    h("td", {}, h("span", { class: outcome.win_status ? "badge won" : "badge lost" }, outcome.win_status ? "Won" : "Lost")),
    h("td", { class: "num" }, formatMoney(outcome.win_price)),
    h("td", { class: "num" }, formatMoney(outcome.bid_price)),
    h("td", {}, yesNo(outcome.enriched)),
    h("td", {}, h("time", { datetime: outcome.timestamp }, outcome.timestamp)),
  );
}

function pager(params: URLSearchParams, page: Page<OutcomeRecord>): HTMLElement {
  const link = (href: string | null, label: string, rel: string) =>
    href ? h("a", { href, rel, "data-page": rel }, label) : h("span", { class: "disabled", "aria-disabled": "true" }, label);
  const first = params.get("cursor") ? listUrl(params, null) : null;
  return h(
    "nav",
    { class: "pager", "aria-label": "Pages of outcomes" },
    link(first, "First page", "first"),
    link(consoleLink(params, page.previous), "Previous page", "prev"),
    link(consoleLink(params, page.next), "Next page", "next"),
  );
}

export function outcomesView(): View {
  return {
    async render(context: ViewContext) {
      const { main, params, navigate } = context;
      sessionStorage.setItem(LAST_LIST_KEY, location.pathname + location.search);
      const heading = h("h1", { tabindex: "-1" }, "Outcomes");
      const form = filterForm(params, navigate);
      let page: Page<OutcomeRecord>;
      try {
        page = await apiGet<Page<OutcomeRecord>>("/api/outcomes/", apiQueryOf(params));
      } catch (error) {
        if (!(error instanceof ApiFailure) || error.status !== 400) throw error;
        if (!context.active()) return;
        replaceChildren(main, heading, form, alertBox(`The filters were not accepted: ${error.detail}`, error.lines()));
        return;
      }
      if (!context.active()) return;
      const sort = currentSort(params);
      const sortLabel = `${SORTABLE[sort.field as SortField] ?? sort.field}, ${sort.desc ? "descending" : "ascending"}`;
      const table = dataTable(
        { class: "data outcomes", id: "outcomes-table" },
        h("caption", { id: "results-caption", tabindex: "-1" }, `${formatCount(page.count)} outcomes match; sorted by ${sortLabel}.`),
        [
          th("Bid id"),
          th("User id"),
          th("Site domain"),
          th("Win status"),
          sortedHeader(params, "win_price", navigate),
          sortedHeader(params, "bid_price", navigate),
          th("Enriched"),
          sortedHeader(params, "timestamp", navigate),
        ],
        h("tbody", {}, ...(page.results.length ? page.results.map(outcomeRow) : [h("tr", {}, h("td", { colspan: 8 }, "No outcomes match these filters."))])),
      );
      replaceChildren(main, heading, form, downloadControl(params), h("div", { class: "table-scroll" }, table), pager(params, page));
    },
  };
}
