// The console's Breakdown page in headless Chromium against the API on a loopback port: every key
// and figure the table shows, the total and the CSV download are compared with what
// /api/outcomes/breakdown/ answers for the same query; the form rewrites the address (a shareable
// URL) and an API error is shown with its message. A screenshot goes to tests/artifacts/ (and to
// docs/ with UPDATE_DOCS_SCREENSHOTS=1).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { type Chromium, launchChromium } from "../support/browser";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { insertOutcomes } from "../support/fixtures";
import { ROOT } from "../support/project";
import { serveApp } from "../support/served-app";

setDefaultTimeout(60_000);

const ARTIFACTS = join(ROOT, "tests/artifacts");
const METRICS = ["revenue", "outcomes", "wins", "losses", "win_rate", "avg_win_price", "avg_bid_price", "profit_margin", "enriched_count"];

let db: TestDatabase;
let base: string;
let stop: () => void;
let context: BrowserContext;
let browser: Chromium | undefined;
const problems: string[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  db = await createTestDatabase("console_breakdown");
  await insertOutcomes(db.setup);
  ({ base, stop } = serveApp(db));
  browser = await launchChromium("breakdown", { viewport: { width: 1400, height: 900 } });
  context = browser.context;
});

afterAll(async () => {
  await browser?.close();
  stop?.();
  await db?.drop();
});

async function openPage(path: string, allowedErrors: RegExp[] = []): Promise<Page> {
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error" && !allowedErrors.some((pattern) => pattern.test(message.text()))) problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  await page.goto(base + path);
  return page;
}

async function apiBreakdown(query: string): Promise<any> {
  const response = await fetch(`${base}/api/outcomes/breakdown/?${query}`);
  expect(response.status).toBe(200);
  return response.json();
}

/** What the table shows: each body row's keys and each metric's data-value, and the total row's. */
async function shownTable(page: Page) {
  return page.evaluate(() => {
    const read = (row: Element) => ({
      keys: [...row.querySelectorAll("th[data-key]")].map((cell) => cell.textContent),
      metrics: Object.fromEntries(
        [...row.querySelectorAll("td[data-metric]")].map((cell) => [cell.getAttribute("data-metric"), cell.getAttribute("data-value") ?? cell.textContent]),
      ),
    });
    return {
      rows: [...document.querySelectorAll("#breakdown-table tbody tr")].map(read),
      total: read(document.querySelector("#breakdown-total")!),
      caption: document.querySelector("#breakdown-table caption")?.textContent,
    };
  });
}

const keyText = (value: unknown) => (value === null ? "(none)" : value === true ? "Yes" : value === false ? "No" : String(value));
const currencies = (byCurrency: Record<string, string>) =>
  Object.entries(byCurrency)
    .map(([currency, revenue]) => {
      const [whole, fraction] = revenue.split(".");
      return `${currency} ${whole!.replace(/\B(?=(\d{3})+$)/g, ",")}.${fraction}`;
    })
    .join(", ") || "–";
const expectedMetrics = (group: any) => ({
  ...Object.fromEntries(METRICS.map((metric) => [metric, group[metric] === null ? "" : String(group[metric])])),
  revenue_by_currency: currencies(group.revenue_by_currency),
});

describe("the console's Breakdown page", () => {
  const QUERY = "by=site_domain,currency&from=2025-10-23&to=2025-10-27";

  test("shows exactly the API's groups, figures and total, with the per-currency revenue", async () => {
    const page = await openPage(`/console/breakdown?${QUERY}`);
    await page.waitForSelector("#breakdown-table");
    const answer = await apiBreakdown(QUERY);
    const shown = await shownTable(page);
    expect(shown.rows).toEqual(
      answer.results.map((group: any) => ({ keys: answer.by.map((dim: string) => keyText(group.key[dim])), metrics: expectedMetrics(group) })),
    );
    expect(shown.total).toEqual({ keys: [], metrics: expectedMetrics(answer.total) });
    expect(shown.caption).toBe(`${answer.groups} groups by Site domain and Currency; days in UTC; bars: Revenue (mixed currencies).`);
    expect(await page.getAttribute("[data-nav=breakdown]", "aria-current")).toBe("page");
    expect(await page.title()).toBe("Breakdown · Helios Analytics console");
    const file = join(ARTIFACTS, "console-breakdown.png");
    await page.screenshot({ path: file, fullPage: true });
    if (process.env.UPDATE_DOCS_SCREENSHOTS === "1") copyFileSync(file, join(ROOT, "docs/console-breakdown.png"));
    await page.close();
    expect(problems).toEqual([]);
  });

  test("offers the same table as CSV, exact decimals and one column per currency", async () => {
    const page = await openPage(`/console/breakdown?${QUERY}`);
    await page.waitForSelector("#breakdown-csv");
    const href = (await page.getAttribute("#breakdown-csv", "href"))!;
    expect(await page.getAttribute("#breakdown-csv", "download")).toBe("breakdown.csv");
    const csv = decodeURIComponent(href.replace(/^data:text\/csv;charset=utf-8,/, ""));
    const answer = await apiBreakdown(QUERY);
    const cell = (value: unknown) => (value === null || value === undefined ? "" : String(value));
    const line = (keys: unknown[], group: any) =>
      [...keys, ...METRICS.map((m) => group[m]), group.revenue_by_currency.EUR, group.revenue_by_currency.USD].map(cell).join(",");
    expect(csv).toBe(
      [
        ["site_domain", "currency", ...METRICS, "revenue_EUR", "revenue_USD"].join(","),
        ...answer.results.map((group: any) => line([group.key.site_domain, group.key.currency], group)),
        line(["total", ""], answer.total),
        "",
      ].join("\r\n"),
    );
    await page.close();
  });

  test("puts the form's choice in the address, so the view can be shared, and shows it", async () => {
    const page = await openPage(`/console/breakdown?${QUERY}`);
    await page.waitForSelector("#breakdown-table");
    await page.selectOption("#breakdown-second", "day");
    await page.selectOption("#breakdown-metric", "outcomes");
    await page.selectOption("#breakdown-direction", "");
    await page.fill("#breakdown-tz", "Europe/Berlin");
    await page.click("#breakdown-form button[type=submit]");
    await page.waitForFunction(() => location.search.includes("day"));
    const search = new URL(page.url()).searchParams;
    expect(Object.fromEntries(search)).toEqual({ by: "site_domain,day", order: "outcomes", from: "2025-10-23", to: "2025-10-27", tz: "Europe/Berlin" });
    await page.waitForFunction(() => document.querySelector("#breakdown-table caption")?.textContent?.includes("Europe/Berlin"));
    const answer = await apiBreakdown(search.toString());
    expect((await shownTable(page)).rows.map((row) => row.keys)).toEqual(answer.results.map((group: any) => [keyText(group.key.site_domain), group.key.day]));
    // Reloading the shared address shows the same view.
    await page.reload();
    await page.waitForSelector("#breakdown-table");
    expect((await shownTable(page)).rows.map((row) => row.metrics.outcomes)).toEqual(answer.results.map((group: any) => String(group.outcomes)));
    await page.close();
    expect(problems).toEqual([]);
  });

  test("shows the API's own message when it refuses the query", async () => {
    const page = await openPage("/console/breakdown?by=site_domain&tz=Mars/Olympus", [/400/]);
    await page.waitForSelector("[role=alert]");
    const text = await page.textContent("[role=alert]");
    expect(text).toContain("Invalid query parameter: tz.");
    expect(text).toContain('"Mars/Olympus" is not a time zone PostgreSQL knows');
    await page.close();
  });
});
