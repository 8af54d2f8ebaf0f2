// The overview's revenue, currency by currency, in headless Chromium against the API on a loopback
// port: the Revenue tile shows each currency's exact sum as stats/ gives it (and as the test adds up
// from its own fixture rows), never the mixed total_revenue; every figure that adds win prices of
// different currencies (chart, its table, top lists, averages) says "mixed currencies" when the
// period has more than one currency, and says nothing of the kind when it has one, also after a
// refresh brings a second currency in.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { type Chromium, launchChromium } from "../support/browser";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { sumDecimals } from "../support/exact-decimal";
import { ROOT } from "../support/project";
import { serveApp } from "../support/served-app";
import { waitFor } from "../support/wait";

setDefaultTimeout(60_000);

const ARTIFACTS = join(ROOT, "tests/artifacts");

/** [bid_id, site_domain, win_status, win_price, bid_price, currency, timestamp]: 2025-11-03 in three currencies, 2025-11-05 in USD only. */
type Row = [string, string, boolean, string, string, string, string];
const ROWS: Row[] = [
  ["m-1", "news.example.org", true, "1000.10", "1000.10", "USD", "2025-11-03T01:00:00Z"],
  ["m-2", "shop.example.net", true, "234.46", "240.00", "USD", "2025-11-03T05:30:00Z"],
  ["m-3", "shop.example.net", false, "0", "5.00", "USD", "2025-11-03T06:00:00Z"],
  ["m-4", "news.example.org", true, "40.45", "41.00", "EUR", "2025-11-03T09:15:00Z"],
  ["m-5", "example.com", true, "38.45", "38.45", "EUR", "2025-11-03T12:00:00Z"],
  ["m-6", "example.com", true, "0.05", "0.05", "GBP", "2025-11-03T23:59:59Z"],
  ["u-1", "news.example.org", true, "12.34", "12.34", "USD", "2025-11-05T02:00:00Z"],
  ["u-2", "example.com", true, "0.66", "1.00", "USD", "2025-11-05T08:00:00Z"],
  ["u-3", "example.com", false, "0", "3.00", "USD", "2025-11-05T09:00:00Z"],
];
const MIXED = { from: "2025-11-03T00:00:00Z", to: "2025-11-04T00:00:00Z" };
const SINGLE = { from: "2025-11-05T00:00:00Z", to: "2025-11-06T00:00:00Z" };
const overview = (period: { from: string; to: string }) => `/console/?period=custom&from=${period.from}&to=${period.to}&interval=hour&refresh=1`;

/** The test's own figure: win prices of the period's wins summed exactly, per currency. */
function expectedByCurrency(period: { from: string; to: string }, rows: Row[] = ROWS): Record<string, string> {
  const inPeriod = rows.filter(([, , win, , , , at]) => win && at >= period.from && at < period.to);
  const currencies = [...new Set(inPeriod.map((row) => row[5]))].sort();
  return Object.fromEntries(currencies.map((c) => [c, sumDecimals(inPeriod.filter((row) => row[5] === c).map((row) => row[3]))]));
}

let db: TestDatabase;
let base: string;
let stop: () => void;
let context: BrowserContext;
let browser: Chromium | undefined;
const problems: string[] = [];

async function insert(rows: Row[]): Promise<void> {
  for (const [bid, site, win, winPrice, bidPrice, currency, at] of rows) {
    await db.setup`
      insert into auction_outcomes (bid_id, user_id, site_domain, win_status, win_price, bid_price, currency, enriched, "timestamp", raw_data)
      values (${bid}, ${`user-${bid}`}, ${site}, ${win}, ${winPrice}::numeric, ${bidPrice}::numeric, ${currency}, false, ${at}::timestamptz, '{}')`;
  }
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  db = await createTestDatabase("console_currencies");
  await insert(ROWS);
  ({ base, stop } = serveApp(db));
  browser = await launchChromium("currencies", { viewport: { width: 1400, height: 900 } });
  context = browser.context;
});

afterAll(async () => {
  await browser?.close();
  stop?.();
  await db?.drop();
});

async function stats(period: {
  from: string;
  to: string;
}): Promise<{ total_outcomes: number; total_revenue: number; revenue_by_currency: Record<string, string> }> {
  const response = await fetch(`${base}/api/outcomes/stats/?from=${period.from}&to=${period.to}`);
  expect(response.status).toBe(200);
  return response.json() as never;
}

async function openOverview(period: { from: string; to: string }): Promise<Page> {
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  await page.goto(base + overview(period));
  const expected = await stats(period);
  await waitFor(
    "the overview's figures",
    async () => (await page.getAttribute('[data-stat="total_outcomes"]', "data-value")) === String(expected.total_outcomes),
    {
      timeoutMs: 10_000,
    },
  );
  return page;
}

/** What the overview says about revenue and currencies. */
async function shown(page: Page) {
  return page.evaluate(() => {
    const tile = document.querySelector<HTMLElement>('[data-stat="total_revenue"]')!;
    const visibleNote = (id: string) => {
      const note = document.getElementById(id)!;
      return note.hidden ? null : note.textContent;
    };
    return {
      label: tile.previousElementSibling!.textContent,
      tile: tile.textContent,
      value: JSON.parse(tile.dataset.value!) as Record<string, string>,
      revenueHeadings: [...document.querySelectorAll("#top-sites thead th, #top-users thead th, #series-table thead th")]
        .map((th) => th.textContent!)
        .filter((text) => text.startsWith("Revenue")),
      averages: [...document.querySelectorAll('[data-stat^="average_"]')].map((dd) => dd.previousElementSibling!.textContent),
      caption: document.querySelector("#chart-title ~ figure figcaption")?.textContent,
      chartNote: visibleNote("chart-currencies"),
      topNote: visibleNote("top-currencies"),
      breakdownLinks: [...document.querySelectorAll("#chart-currencies a, #top-currencies a")].map((a) => [a.textContent, a.getAttribute("href")]),
      text: document.querySelector("main")!.textContent!,
    };
  });
}

/** "EUR 78.90 · USD 1,234.56" from the API's map: the codes in order, each exact figure grouped by thousands. */
function tileText(byCurrency: Record<string, string>): string {
  return Object.entries(byCurrency)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, revenue]) => {
      const [whole, fraction] = revenue.split(".");
      return `${currency} ${whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}${fraction === undefined ? "" : `.${fraction}`}`;
    })
    .join(" · ");
}

describe("the overview's revenue per currency", () => {
  test("lists each currency's exact revenue and labels every mixed figure when the period has three currencies", async () => {
    const api = await stats(MIXED);
    // The API's split is the test's own exact sums of the fixture rows.
    expect(api.revenue_by_currency).toEqual(expectedByCurrency(MIXED));
    expect(api.revenue_by_currency).toEqual({ EUR: "78.90", GBP: "0.05", USD: "1234.56" });
    const page = await openOverview(MIXED);
    const seen = await shown(page);
    expect(seen.label).toBe("Revenue per currency");
    expect(seen.tile).toBe(tileText(api.revenue_by_currency));
    expect(seen.tile).toBe("EUR 78.90 · GBP 0.05 · USD 1,234.56");
    expect(seen.value).toEqual(api.revenue_by_currency);
    // The mixed total (1313.51) is nowhere on the page as a revenue figure.
    expect(seen.text).not.toContain("1,313.51");
    expect(seen.revenueHeadings).toEqual(["Revenue (mixed currencies)", "Revenue (mixed currencies)", "Revenue (mixed currencies)"]);
    expect(seen.averages).toEqual(["Average win price (mixed currencies)", "Average bid price (mixed currencies)"]);
    expect(seen.caption).toContain("revenue (mixed currencies)");
    expect(seen.chartNote).toBe(
      "Mixed currencies: The revenue in this chart and its table adds EUR, GBP and USD prices into one figure, as the original did. Revenue per currency is in the totals above and on the breakdown by currency.",
    );
    expect(seen.topNote).toStartWith("Mixed currencies: The top lists' revenue and the average prices add EUR, GBP and USD prices into one figure");
    const period = `from=${encodeURIComponent(MIXED.from)}&to=${encodeURIComponent(MIXED.to)}`;
    expect(seen.breakdownLinks).toEqual([
      ["breakdown by currency", `/console/breakdown?by=currency&${period}`],
      ["breakdown by site and currency", `/console/breakdown?by=site_domain%2Ccurrency&${period}`],
    ]);
    await page.screenshot({ path: join(ARTIFACTS, "console-overview-currencies.png"), fullPage: true });
    await page.close();
  });

  test("shows the one currency without any mixed label, and adds the label when a refresh brings a second currency", async () => {
    const api = await stats(SINGLE);
    expect(api.revenue_by_currency).toEqual(expectedByCurrency(SINGLE));
    expect(api.revenue_by_currency).toEqual({ USD: "13.00" });
    const page = await openOverview(SINGLE);
    const seen = await shown(page);
    expect(seen.tile).toBe("USD 13.00");
    expect(seen.value).toEqual({ USD: "13.00" });
    expect(seen.text.toLowerCase()).not.toContain("mixed");
    expect(seen.revenueHeadings).toEqual(["Revenue", "Revenue", "Revenue"]);
    expect(seen.averages).toEqual(["Average win price", "Average bid price"]);
    expect(seen.chartNote).toBeNull();
    expect(seen.topNote).toBeNull();

    const late: Row = ["u-4", "example.com", true, "2500.00", "2500.00", "EUR", "2025-11-05T10:00:00Z"];
    await insert([late]);
    const after = await stats(SINGLE);
    expect(after.revenue_by_currency).toEqual(expectedByCurrency(SINGLE, [...ROWS, late]));
    await waitFor("the refresh to show the second currency", async () => (await shown(page)).tile === "EUR 2,500.00 · USD 13.00", { timeoutMs: 10_000 });
    const refreshed = await shown(page);
    expect(refreshed.revenueHeadings).toEqual(["Revenue (mixed currencies)", "Revenue (mixed currencies)", "Revenue (mixed currencies)"]);
    expect(refreshed.chartNote).toContain("adds EUR and USD prices into one figure");
    await page.close();
  });

  test("logged no console error", () => {
    expect(problems).toEqual([]);
  });
});
