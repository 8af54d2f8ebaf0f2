// The console in a real browser: headless Chromium from Debian driven by playwright-core, against
// the API served on a loopback port from a test database. Every figure and row the page shows is
// compared with what the public API answers for the same query. Screenshots of each page go to
// tests/artifacts/; with UPDATE_DOCS_SCREENSHOTS=1 the overview and outcomes browser also replace
// the pictures in docs/ (a normal run leaves the work tree as it found it).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { REFRESH_CHOICES } from "../../src/console/client/overview";
import { recordConsumerLag } from "../../src/ingest/kafka/consumer-lag";
import { type Chromium, launchChromium } from "../support/browser";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { insertOutcomes } from "../support/fixtures";
import { RECORD_FIELDS } from "../support/outcomes-model";
import { ROOT } from "../support/project";
import { type Served, serveApp } from "../support/served-app";
import { waitFor } from "../support/wait";

setDefaultTimeout(60_000);

const ARTIFACTS = join(ROOT, "tests/artifacts");
const DOCS = join(ROOT, "docs");
const TOKEN = "console-test-token-0123456789";

/** A week of outcomes with a daily rhythm (2025-11-03 to 2025-11-10), so the chart has a shape; mostly USD, some EUR and GBP. */
async function insertWeek(db: TestDatabase): Promise<void> {
  await db.setup`
    insert into auction_outcomes
      (bid_id, user_id, site_domain, win_status, win_price, bid_price, currency, enriched, "timestamp", raw_data)
    select 'wk-' || h || '-' || k,
           'user-' || lpad(((h * 7 + k * 13) % 40)::text, 3, '0'),
           (array['news.example.org', 'shop.example.net', 'example.com', 'games.example.io', 'travel.example.co', 'video.example.tv'])[1 + (h + k) % 6],
           (h + 2 * k) % 3 = 0,
           case when (h + 2 * k) % 3 = 0 then round(0.20 + ((h * k) % 17) / 20.0, 2) else 0 end,
           round(0.20 + ((h * k) % 17) / 20.0, 2),
           case when k % 5 = 0 then 'EUR' when k % 7 = 0 then 'GBP' else 'USD' end, (h + k) % 2 = 0,
           '2025-11-03T00:00:00Z'::timestamptz + make_interval(hours => h, secs => k * 37),
           jsonb_build_object('bid_request_id', 'wk-' || h || '-' || k, 'source', 'console test')
    from generate_series(0, 167) as h,
         generate_series(1, 6 + round(5 * sin(h * pi() / 12))::int) as k`;
}

async function insertDeadLetters(db: TestDatabase): Promise<void> {
  await db.setup`
    insert into dead_letters (topic, "partition", "offset", message_key, payload, reason, received_at) values
      ('auction_outcomes', 0, 41, convert_to('req-1', 'UTF8'), convert_to('{"bid_request_id": "req-1", "win_price": ', 'UTF8'), 'invalid JSON: unexpected end of input', now() - interval '3 hours'),
      ('auction_outcomes', 2, 7, null, '\\xfffe00'::bytea, 'payload is not UTF-8', now() - interval '2 hours'),
      ('auction_outcomes', 1, 1009, convert_to('req-9', 'UTF8'), convert_to('{"bid_request_id": "req-9", "win_price": -1}', 'UTF8'), 'win_price: expected a decimal ≥ 0, got -1', now() - interval '1 hour')`;
  // replay-dead-letters ran twice over the newest letter (still failing) and once over the oldest (stored).
  await db.setup`
    insert into dead_letter_replays (dead_letter_id, replayed_at, result, reason, previous_reason)
    select id, now() - interval '50 minutes', 'failed', reason, reason from dead_letters where "offset" = 1009
    union all select id, now() - interval '40 minutes', 'failed', reason, reason from dead_letters where "offset" = 1009
    union all select id, now() - interval '30 minutes', 'stored', null, reason from dead_letters where "offset" = 41`;
}

/** Polls until `check` returns a truthy value; the caller asserts afterwards, so a timeout shows the diff. */
let db: TestDatabase;
let open: Served;
let context: BrowserContext;
let browser: Chromium | undefined;
/** Console errors, page errors and requests that left the loopback server, from every page. */
const problems: string[] = [];

function watch(page: Page, base: string, allowedErrors: RegExp[] = []): Page {
  page.on("console", (message) => {
    if (message.type() === "error" && !allowedErrors.some((pattern) => pattern.test(message.text()))) problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("request", (request) => {
    if (!request.url().startsWith(base) && !request.url().startsWith("data:")) problems.push(`external request: ${request.url()}`);
  });
  return page;
}

async function api<T = any>(path: string, headers: Record<string, string> = {}): Promise<T> {
  const response = await fetch(open.base + path, { headers });
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

async function screenshot(page: Page, name: string, docsName?: string): Promise<void> {
  const file = join(ARTIFACTS, `console-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  if (docsName && process.env.UPDATE_DOCS_SCREENSHOTS === "1") copyFileSync(file, join(DOCS, docsName));
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  mkdirSync(DOCS, { recursive: true });
  db = await createTestDatabase("console_browser");
  await insertOutcomes(db.setup);
  await insertWeek(db);
  await insertDeadLetters(db);
  await recordConsumerLag(db.sql, [
    { groupId: "analytics-service-group", topic: "auction_outcomes", partition: 0, committedOffset: "18250", highWatermark: "18262", lag: 12 },
    { groupId: "analytics-service-group", topic: "auction_outcomes", partition: 1, committedOffset: "18113", highWatermark: "18113", lag: 0 },
    { groupId: "analytics-service-group", topic: "auction_outcomes", partition: 2, committedOffset: "18340", highWatermark: "18345", lag: 5 },
  ]);
  await db.setup`analyze auction_outcomes`;
  open = serveApp(db);
  browser = await launchChromium("console", { viewport: { width: 1280, height: 900 } });
  context = browser.context;
});

afterAll(async () => {
  await browser?.close();
  open?.stop();
  await db?.drop();
});

const PERIOD = { from: "2025-11-03T00:00:00Z", to: "2025-11-10T00:00:00Z" };
const OVERVIEW = `/console/?period=custom&from=${PERIOD.from}&to=${PERIOD.to}&interval=hour&refresh=1`;
const STAT_KEYS = ["total_outcomes", "total_wins", "win_rate", "total_revenue", "average_win_price", "average_bid_price"] as const;

async function shownStats(page: Page): Promise<Record<string, string>> {
  return page.$$eval("[data-stat][data-value]", (items) =>
    Object.fromEntries(items.map((item) => [(item as HTMLElement).dataset.stat!, (item as HTMLElement).dataset.value!])),
  );
}

function expectedShown(stats: Record<string, any>): Record<string, string> {
  return {
    ...Object.fromEntries(STAT_KEYS.map((key) => [key, String(stats[key])])),
    // The tile shows each currency's exact sum, not the mixed total_revenue.
    total_revenue: JSON.stringify(stats.revenue_by_currency),
    enriched_share: String(stats.enriched_count),
  };
}

describe("the live overview", () => {
  let page: Page;

  beforeAll(async () => {
    page = watch(await context.newPage(), open.base);
  });

  afterAll(async () => {
    await page?.close(); // stops its refresh loop, which would compete with the next tests for CPU
  });

  test("is served with its own strict policy and no inline code", async () => {
    const response = await fetch(`${open.base}/console/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-security-policy")).toStartWith(
      "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    );
    const html = await response.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    for (const path of ["/console", "/console/outcomes", "/console/outcomes/1", "/console/dead-letters/"]) {
      expect({ path, status: (await fetch(open.base + path)).status }).toEqual({ path, status: 200 });
    }
    expect((await fetch(`${open.base}/console/nowhere`)).status).toBe(404);
  });

  test("shows the figures stats/ gives for the period, the chart, top sites and users, and ingest health", async () => {
    const started = Date.now();
    await page.goto(open.base + OVERVIEW);
    const stats = await api(`/api/outcomes/stats/?from=${PERIOD.from}&to=${PERIOD.to}`);
    await waitFor("the overview to show the stats", async () => (await shownStats(page)).total_outcomes === String(stats.total_outcomes), {
      timeoutMs: 10_000,
    });
    const timing = await page.evaluate(() => ({
      paint: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? -1,
      figures: Number((document.getElementById("updated") as HTMLElement).dataset.refreshedAt) - performance.timeOrigin,
    }));
    console.log(
      `overview: first contentful paint ${Math.round(timing.paint)} ms, figures shown ${Math.round(timing.figures)} ms after navigation (${Date.now() - started} ms seen from the test)`,
    );
    expect(await shownStats(page)).toEqual(expectedShown(stats));
    expect(await page.textContent('[data-stat="total_outcomes"]')).toBe(stats.total_outcomes.toLocaleString("en-US"));
    expect(await page.textContent('[data-stat="win_rate"]')).toBe(`${stats.win_rate.toFixed(2)} %`);
    // What the storage keeps, as /api/storage/ says: nothing expired in this database.
    expect((await api("/api/storage/")).outcomes_available_from).toBeNull();
    expect(await page.textContent("#storage-note")).toBe("Individual outcomes: all of them, kept without limit.");

    const series = await api(`/api/outcomes/timeseries/?interval=hour&from=${PERIOD.from}&to=${PERIOD.to}`);
    expect(series.results).toHaveLength(168);
    expect(await page.locator("#chart canvas").count()).toBeGreaterThan(0);
    const seriesRows = await page.$$eval("#series-table tbody tr", (trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent)));
    expect(seriesRows.length).toBe(168);
    expect(seriesRows.map((row) => Number(row[1]!.replaceAll(",", "")))).toEqual(series.results.map((p: { outcomes: number }) => p.outcomes));
    expect(seriesRows.map((row) => row[3]!.replaceAll(",", ""))).toEqual(series.results.map((p: { revenue: string }) => p.revenue));

    for (const [by, table] of [
      ["site_domain", "#top-sites"],
      ["user_id", "#top-users"],
    ] as const) {
      const top = await api(`/api/outcomes/top/?by=${by}&limit=10&from=${PERIOD.from}&to=${PERIOD.to}`);
      const rows = await page.$$eval(`${table} tbody tr`, (trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent)));
      expect(rows.map((row) => [row[0], row[1]!.replaceAll(",", ""), Number(row[2]!.replaceAll(",", ""))])).toEqual(
        top.results.map((entry: { key: string; revenue: string; outcomes: number }) => [entry.key, entry.revenue, entry.outcomes]),
      );
    }

    const ingest = await api(`/api/ingest/status/?from=${PERIOD.from}&to=${PERIOD.to}`);
    expect(await page.textContent('[data-ingest="lag"]')).toBe("17");
    expect(await page.textContent('[data-ingest="dead_letters"]')).toBe(String(ingest.dead_letters.count));
    expect(await page.locator("#lag-table tbody tr").count()).toBe(3);
  });

  test("updates itself, without a reload, after new outcomes are stored", async () => {
    await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
    const before = await api(`/api/outcomes/stats/?from=${PERIOD.from}&to=${PERIOD.to}`);
    await db.setup`
      insert into auction_outcomes (bid_id, user_id, site_domain, win_status, win_price, bid_price, currency, enriched, "timestamp", raw_data)
      values ('live-1', 'user-live', 'live.example', true, 2.50, 2.50, 'USD', true, '2025-11-06T12:34:56.789012Z', '{}'),
             ('live-2', 'user-live', 'live.example', true, 7.25, 7.25, 'USD', false, '2025-11-06T12:35:00Z', '{}'),
             ('live-3', 'user-live', 'live.example', false, 0, 1.10, 'USD', true, '2025-11-09T23:59:59.999999Z', '{}')`;
    const after = await api(`/api/outcomes/stats/?from=${PERIOD.from}&to=${PERIOD.to}`);
    expect(after.total_outcomes).toBe(before.total_outcomes + 3);
    await waitFor("the overview to show the new total", async () => (await shownStats(page)).total_outcomes === String(after.total_outcomes), {
      timeoutMs: 10_000,
    });
    expect(await shownStats(page)).toEqual(expectedShown(after));
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    // The new outcomes reach the chart and the top users in the same refresh.
    const userRows = await page.$$eval("#top-users tbody th", (ths) => ths.map((th) => th.textContent));
    expect(userRows[0]).toBe("user-live");

    // The picture in the docs shows the console as a visitor sees it: the default refresh, and only
    // the choices the console offers (this page's refresh=1 adds an "Every 1 s" of its own).
    const shown = watch(await context.newPage(), open.base);
    await shown.goto(open.base + OVERVIEW.replace("refresh=1", "refresh=5"));
    await waitFor("the picture's page to show the new total", async () => (await shownStats(shown)).total_outcomes === String(after.total_outcomes), {
      timeoutMs: 10_000,
    });
    expect(await shown.$$eval("#refresh option", (options) => options.map((option) => option.textContent))).toEqual(REFRESH_CHOICES.map(([, label]) => label));
    expect(await shown.$eval("#refresh", (select) => (select as HTMLSelectElement).value)).toBe("5");
    await shown.waitForTimeout(300); // let uPlot finish drawing before the picture
    await screenshot(shown, "overview", "console-overview.png");
    await shown.close();
  });

  test("keeps its settings in the address bar", async () => {
    await page.selectOption("#interval", "day");
    await page.waitForURL((url) => url.searchParams.get("interval") === "day");
    expect(new URL(page.url()).searchParams.get("from")).toBe(PERIOD.from);
    const series = await api(`/api/outcomes/timeseries/?interval=day&from=${PERIOD.from}&to=${PERIOD.to}`);
    await waitFor("one table row per series point", async () => (await page.locator("#series-table tbody tr").count()) === series.results.length, {
      timeoutMs: 10_000,
    });
    expect(await page.locator("#series-table tbody tr").count()).toBe(7);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("interval");
  });
});

describe("a period too long for hourly buckets", () => {
  test("shows the API's reason where the chart would be, and every other figure", async () => {
    const page = watch(await context.newPage(), open.base, [/status of 400/]);
    await page.goto(`${open.base}/console/?period=custom&from=2020-01-01&to=2025-12-01&interval=hour&refresh=0`);
    await page.waitForSelector("#chart-note [role=alert]");
    expect(await page.textContent("#chart-note")).toContain("expected at most 2000; narrow from/to or use interval=day");
    const stats = await api("/api/outcomes/stats/?from=2020-01-01&to=2025-12-01");
    expect(await shownStats(page)).toEqual(expectedShown(stats));
    await page.close();
  });
});

describe("the outcomes browser", () => {
  let page: Page;

  const tableIds = () => page.$$eval("#outcomes-table tbody tr[data-id]", (trs) => trs.map((tr) => Number((tr as HTMLElement).dataset.id)));

  /** The API query of the page's own address: its parameters, page_size 50 and cursor= by default. */
  function apiQueryOfPage(): string {
    const query = new URLSearchParams(new URL(page.url()).search);
    if (!query.has("page_size")) query.set("page_size", "50");
    if (!query.has("cursor")) query.set("cursor", "");
    return query.toString();
  }

  /** Waits for the table to show what the API answers for the page's address, then asserts it. */
  async function expectTableMatchesApi(): Promise<{ count: number; results: { id: number }[]; next: string | null; previous: string | null }> {
    const answer = await api(`/api/outcomes/?${apiQueryOfPage()}`);
    const ids = answer.results.map((outcome: { id: number }) => outcome.id);
    await waitFor("the table to show the ids", async () => JSON.stringify(await tableIds()) === JSON.stringify(ids), { timeoutMs: 10_000 });
    expect(await tableIds()).toEqual(ids);
    expect(await page.textContent("#outcomes-table caption")).toStartWith(`${answer.count.toLocaleString("en-US")} outcomes match`);
    return answer;
  }

  beforeAll(async () => {
    page = watch(await context.newPage(), open.base);
    await page.goto(`${open.base}/console/outcomes`);
  });

  afterAll(async () => {
    await page?.close();
  });

  test("shows the first page the API gives, with the original admin's columns", async () => {
    const answer = await expectTableMatchesApi();
    expect(answer.results).toHaveLength(50);
    const headers = await page.$$eval("#outcomes-table thead th", (ths) =>
      ths.map((th) => [th.textContent!.replace(/[▲▼↕]/g, "").trim(), th.getAttribute("scope")]),
    );
    expect(headers).toEqual([
      ["Bid id", "col"],
      ["User id", "col"],
      ["Site domain", "col"],
      ["Win status", "col"],
      ["Win price", "col"],
      ["Bid price", "col"],
      ["Enriched", "col"],
      ["Timestamp", "col"],
    ]);
    expect(await page.getAttribute("#outcomes-table thead th:last-child", "aria-sort")).toBe("descending");
  });

  test("labels every control", async () => {
    const unlabeled = await page.$$eval("main input, main select", (controls) =>
      controls.filter((control) => ((control as HTMLInputElement).labels?.length ?? 0) === 0).map((control) => control.outerHTML),
    );
    expect(unlabeled).toEqual([]);
  });

  test("search and filters change the table to exactly the API's rows, and the address says so", async () => {
    await page.fill("#f-search", "user-01");
    await page.selectOption("#f-win_status", "true");
    await page.click("button[type=submit]");
    await page.waitForURL((url) => url.searchParams.get("search") === "user-01" && url.searchParams.get("win_status") === "true");
    const answer = await expectTableMatchesApi();
    expect(answer.count).toBeGreaterThan(50);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("results-caption");

    await page.fill("#f-min_price", "0.5");
    await page.fill("#f-max_price", "0.9");
    await page.fill("#f-from", "2025-11-04");
    await page.fill("#f-to", "2025-11-08T12:00:00Z");
    await page.fill("#f-currency", "usd");
    await page.selectOption("#f-enriched", "false");
    await page.click("button[type=submit]");
    await page.waitForURL((url) => url.searchParams.get("enriched") === "false");
    expect(Object.fromEntries(new URL(page.url()).searchParams)).toEqual({
      search: "user-01",
      win_status: "true",
      enriched: "false",
      currency: "usd",
      from: "2025-11-04",
      to: "2025-11-08T12:00:00Z",
      min_price: "0.5",
      max_price: "0.9",
    });
    const narrowed = await expectTableMatchesApi();
    expect(narrowed.count).toBeGreaterThan(0);
    expect(narrowed.count).toBeLessThan(answer.count);
  });

  test("sorting by a column header orders the rows as the API's ordering does, by mouse and by keyboard", async () => {
    await page.goto(`${open.base}/console/outcomes?search=user-0`);
    await expectTableMatchesApi();
    await page.click('[data-sort="win_price"]');
    await page.waitForURL((url) => url.searchParams.get("ordering") === "-win_price");
    await expectTableMatchesApi();
    expect(await page.getAttribute('th:has([data-sort="win_price"])', "aria-sort")).toBe("descending");
    await page.focus('[data-sort="win_price"]');
    await page.keyboard.press("Enter");
    await page.waitForURL((url) => url.searchParams.get("ordering") === "win_price");
    await expectTableMatchesApi();
    expect(await page.getAttribute('th:has([data-sort="win_price"])', "aria-sort")).toBe("ascending");
    expect(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.sort)).toBe("win_price");
  });

  test("pages follow the API's cursors forward and back, and a page's address reopens that page", async () => {
    await page.goto(`${open.base}/console/outcomes?ordering=-bid_price`);
    const first = await expectTableMatchesApi();
    await page.click('[data-page="next"]');
    await page.waitForURL((url) => url.searchParams.has("cursor"));
    const second = await expectTableMatchesApi();
    // The page the console shows is the page the API's own next link gives.
    const viaApi = await api(first.next!.replace(/^http:\/\/[^/]+/, ""));
    expect(second.results.map((o) => o.id)).toEqual(viaApi.results.map((o: { id: number }) => o.id));
    const secondUrl = page.url();
    await page.click('[data-page="next"]');
    await page.waitForURL((url) => url.toString() !== secondUrl);
    await expectTableMatchesApi();
    const thirdUrl = page.url();
    await page.click('[data-page="prev"]');
    await page.waitForURL((url) => url.toString() !== thirdUrl);
    expect((await expectTableMatchesApi()).results).toEqual(second.results);
    const shared = page.url();
    await page.reload();
    expect(page.url()).toBe(shared);
    await expectTableMatchesApi();
    await page.click('[data-page="first"]');
    await page.waitForURL((url) => !url.searchParams.has("cursor"));
    expect((await expectTableMatchesApi()).results).toEqual(first.results);
    await page.goto(`${open.base}/console/outcomes?search=user-00&page_size=25`);
    await expectTableMatchesApi();
    await screenshot(page, "outcomes", "console-outcomes.png");
  });

  test("Download CSV exports the current filters and order, and the file is the API's export", async () => {
    await page.goto(`${open.base}/console/outcomes?search=user-01&win_status=true&ordering=-win_price&page_size=25`);
    await expectTableMatchesApi();
    const href = await page.getAttribute("#download-csv", "href");
    // Every filter and the order, no page size: the export is every matching row, not a page.
    expect(href).toBe("/api/outcomes/export/?format=csv&search=user-01&win_status=true&ordering=-win_price");
    expect(await page.getAttribute("#download-csv", "download")).toBe("outcomes.csv");
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-csv")]);
    const fromApi = await fetch(open.base + href);
    expect(download.suggestedFilename()).toMatch(/^outcomes-\d{8}T\d{6}Z\.csv$/);
    const file = readFileSync(await download.path());
    expect(file.toString("utf8")).toBe(await fromApi.text());
    expect(file.toString("utf8").split("\r\n").length - 2).toBe((await api(`/api/outcomes/?${apiQueryOfPage()}`)).count);
  });

  test("a filter the API refuses shows the API's message beside the form", async () => {
    const refused = watch(await context.newPage(), open.base, [/status of 400/]);
    await refused.goto(`${open.base}/console/outcomes?min_price=abc`);
    await refused.waitForSelector("[role=alert]");
    expect(await refused.textContent("[role=alert]")).toContain('min_price: "abc" is not valid');
    expect(await refused.inputValue("#f-min_price")).toBe("abc");
    await refused.close();
  });

  test("the detail page shows every field and raw_data as formatted JSON", async () => {
    await page.goto(`${open.base}/console/outcomes?search=b-13`);
    await expectTableMatchesApi();
    await page.click("#outcomes-table tbody tr th a");
    await page.waitForURL(/\/console\/outcomes\/\d+$/);
    await page.waitForSelector("#raw-data");
    const id = page.url().split("/").pop();
    const detail = await api(`/api/outcomes/${id}/`);
    expect(JSON.parse((await page.textContent("#raw-data"))!)).toEqual(detail.raw_data);
    expect(await page.textContent("#raw-data")).toBe(JSON.stringify(detail.raw_data, null, 2));
    const fields = await page.$$eval("[data-field]", (dds) => Object.fromEntries(dds.map((dd) => [(dd as HTMLElement).dataset.field, dd.textContent])));
    expect(Object.keys(fields)).toEqual([...RECORD_FIELDS]);
    expect(fields).toMatchObject({ bid_id: "b-13", win_price: "12,345.678901", timestamp: "2025-10-25T18:45:10.654321Z", user_interests: "finance" });
    await screenshot(page, "detail");
    await page.click("a.back");
    await page.waitForURL((url) => url.searchParams.get("search") === "b-13");
  });
});

describe("the dead letters page", () => {
  test("lists each letter with its reason, position and payload as received", async () => {
    const page = watch(await context.newPage(), open.base);
    await page.goto(`${open.base}/console/dead-letters`);
    await page.waitForSelector("#dead-letters-table tbody tr[data-id]");
    const answer = await api("/api/dead_letters/?page_size=50");
    const rows = await page.$$eval("#dead-letters-table tbody tr", (trs) =>
      trs.map((tr) => ({
        id: Number((tr as HTMLElement).dataset.id),
        cells: [...tr.children].map((cell) => cell.querySelector("code")?.textContent ?? cell.textContent),
      })),
    );
    expect(rows.map((row) => row.id)).toEqual(answer.results.map((letter: { id: number }) => letter.id));
    expect(rows.map((row) => [row.cells[1], row.cells[2], row.cells[4]])).toEqual(
      answer.results.map((letter: { reason: string; topic: string; partition: number; offset: number; payload: string }) => [
        letter.reason,
        `${letter.topic} / ${letter.partition} / ${letter.offset}`,
        letter.payload,
      ]),
    );
    expect(await page.textContent("#dead-letters-table caption")).toBe("3 dead letters, newest first.");
    // Each letter's last replay as the API gives it: never, or its result and when.
    expect(rows.map((row) => row.cells[5])).toEqual(
      answer.results.map((letter: { last_replay: { result: string; replayed_at: string } | null; replay_count: number }) =>
        letter.last_replay === null
          ? "Never replayed"
          : `${{ stored: "Stored", duplicate: "Already stored", failed: "Still failing" }[letter.last_replay.result]} ${letter.last_replay.replayed_at}${letter.replay_count > 1 ? ` (${letter.replay_count} replays)` : ""}`,
      ),
    );
    expect(answer.results.map((letter: { replay_count: number }) => letter.replay_count)).toEqual([2, 0, 1]);
    await screenshot(page, "dead-letters");
    await page.close();
  });
});

describe("with API_TOKENS set", () => {
  let guarded: Served;

  beforeAll(() => {
    guarded = serveApp(db, { API_TOKENS: TOKEN });
  });

  afterAll(() => {
    guarded?.stop();
  });

  test("asks for a token, refuses a wrong one, and keeps the right one in the tab's sessionStorage only", async () => {
    const page = watch(await context.newPage(), guarded.base, [/status of 401/]);
    await page.goto(`${guarded.base}/console/?period=all&refresh=0`);
    await page.waitForSelector("#api-token");
    expect(await page.textContent("h1")).toBe("API token required");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("api-token");
    await screenshot(page, "token");
    await page.fill("#api-token", "not-the-token-at-all");
    await page.keyboard.press("Enter");
    await page.waitForSelector("[role=alert]");
    expect(await page.textContent("[role=alert]")).toContain("The token was refused");
    await page.fill("#api-token", TOKEN);
    await page.click("button[type=submit]");
    await page.waitForSelector('[data-stat="total_outcomes"][data-value]');
    const stats = await (await fetch(`${guarded.base}/api/outcomes/stats/`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
    expect(await shownStats(page)).toEqual(expectedShown(stats));
    expect(
      await page.evaluate(() => ({ session: sessionStorage.getItem("helios-console-token"), local: localStorage.length, cookie: document.cookie })),
    ).toEqual({ session: TOKEN, local: 0, cookie: "" });
    expect(await page.locator("#token-status button").textContent()).toBe("Forget token");
    // A link cannot carry the token: Download CSV fetches with it and saves the same file.
    await page.goto(`${guarded.base}/console/outcomes?search=b-1`);
    await page.waitForSelector("#outcomes-table tbody tr[data-id]");
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-csv")]);
    const href = (await page.getAttribute("#download-csv", "href"))!;
    const fromApi = await fetch(guarded.base + href, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(download.suggestedFilename()).toMatch(/^outcomes-\d{8}T\d{6}Z\.csv$/);
    expect(readFileSync(await download.path()).toString("utf8")).toBe(await fromApi.text());
    await page.close();
  });
});

describe("across every page", () => {
  test("no console error, no page error and no request beyond the API's own origin", () => {
    expect(problems).toEqual([]);
  });
});
