// What a new user met in the demo's console, in a real browser (headless Chromium driven by
// playwright-core, as tests/console/console.test.ts): y-axis titles drawn over their tick labels,
// the revenue line hiding the outcomes line, "last hour" as two points, a store rate read low by a
// process up for less than its window, and an outcomes table wider than a 1,400-px window. The
// chart is a canvas, so its checks read the canvas's own pixels.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { formatCount, formatMoney, formatRate } from "../../src/console/client/format";
import { type Chromium, launchChromium } from "../support/browser";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { ROOT } from "../support/project";
import { serveApp } from "../support/served-app";
import { waitFor } from "../support/wait";

setDefaultTimeout(60_000);

const ARTIFACTS = join(ROOT, "tests/artifacts");
const DAY = { from: "2025-11-03T00:00:00Z", to: "2025-11-04T00:00:00Z" };
const DAY_VIEW = `/console/?period=custom&from=${DAY.from}&to=${DAY.to}&interval=hour&refresh=0`;
/** Outcomes stored in the last ten minutes, one every 20 s: what a demo just started holds. */
const FRESH = 30;

let db: TestDatabase;
let base: string;
let stop: () => void;
let context: BrowserContext;
let browser: Chromium | undefined;
const problems: string[] = [];

async function newPage(width = 1280): Promise<Page> {
  const page = await context.newPage();
  await page.setViewportSize({ width, height: 900 });
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  return page;
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  db = await createTestDatabase("console_charts");
  // A day of thousands of outcomes an hour, every other one won at 5,000.00: tick labels such as
  // "1,500" and "4,000,000", and revenue exactly proportional to outcomes (their lines coincide).
  await db.setup`
    insert into auction_outcomes (bid_id, user_id, site_domain, win_status, win_price, bid_price, currency, enriched, "timestamp", raw_data)
    select 'day-' || h || '-' || k, 'user-' || (k % 50), 'example.com', k % 2 = 0, case when k % 2 = 0 then 5000 else 0 end, 5000, 'USD', false,
           '2025-11-03T00:00:00Z'::timestamptz + make_interval(hours => h, secs => k % 3600), '{}'::jsonb
    from generate_series(0, 23) as h, generate_series(1, 1000 + round(600 * sin(h * pi() / 12))::int) as k`;
  // Rows as wide as the demo's, and wider: 36-character bid ids, long user ids and site domains.
  await db.setup`
    insert into auction_outcomes (bid_id, user_id, site_domain, win_status, win_price, bid_price, currency, enriched, "timestamp", raw_data)
    select md5(i::text)::uuid::text, 'user-' || repeat('x', 30) || i, 'a-rather-long-subdomain.of-an-advertiser-network-' || i || '.example.com',
           true, 12345.678901, 23456.789012, 'USD', true, now() - make_interval(secs => 20 * i), '{}'::jsonb
    from generate_series(0, ${FRESH - 1}::int) as i`;
  await db.setup`analyze auction_outcomes`;
  ({ base, stop } = serveApp(db));
  browser = await launchChromium("charts");
  context = browser.context;
});

afterAll(async () => {
  await browser?.close();
  stop?.();
  await db?.drop();
});

/** The chart's canvas pixels with the plot area (uPlot's .u-over) in canvas pixels. */
interface Ink {
  /** Columns with any drawn pixel in the plot's rows, in the strip left of the plot and right of it. */
  left: boolean[];
  right: boolean[];
}

async function axisInk(page: Page): Promise<Ink> {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>("#chart canvas")!;
    const over = document.querySelector<HTMLElement>("#chart .u-over")!;
    const scale = canvas.width / canvas.getBoundingClientRect().width;
    const c = canvas.getBoundingClientRect();
    const o = over.getBoundingClientRect();
    const [left, top, right, bottom] = [o.left - c.left, o.top - c.top, o.right - c.left, o.bottom - c.top].map((v) => Math.round(v * scale)) as [
      number,
      number,
      number,
      number,
    ];
    const pixels = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
    const column = (x: number) => {
      for (let y = top; y < bottom; y++) if (pixels[(y * canvas.width + x) * 4 + 3]! > 40) return true;
      return false;
    };
    return {
      left: Array.from({ length: left }, (_, x) => column(x)),
      right: Array.from({ length: canvas.width - right }, (_, i) => column(right + i)),
    };
  });
}

/** Runs of inked columns, outermost first: [start, width] each. */
function runs(columns: boolean[]): [number, number][] {
  const out: [number, number][] = [];
  columns.forEach((inked, x) => {
    if (!inked) return;
    const last = out[out.length - 1];
    if (last && last[0] + last[1] === x) last[1]++;
    else out.push([x, 1]);
  });
  return out;
}

/** Pixels of the outcomes line's colour (#1d4f91) inside the plot area. */
async function outcomesPixels(page: Page): Promise<number> {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>("#chart canvas")!;
    const pixels = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < pixels.length; i += 4) {
      if (pixels[i + 3]! > 200 && Math.abs(pixels[i]! - 0x1d) + Math.abs(pixels[i + 1]! - 0x4f) + Math.abs(pixels[i + 2]! - 0x91) < 60) n++;
    }
    return n;
  });
}

async function openDay(page: Page): Promise<void> {
  await page.goto(base + DAY_VIEW);
  await waitFor("the day's 24 rows in the chart table", async () => (await page.locator("#series-table tbody tr").count()) === 24, { timeoutMs: 15_000 });
  await page.waitForTimeout(300); // uPlot draws on the next animation frame
}

describe("the store rate of a process up for less than the window", () => {
  test("divides what was stored by the seconds since the first outcome, and the console shows exactly that", async () => {
    const page = await newPage();
    const answered = page.waitForResponse((response) => response.url().includes("/api/ingest/status/"));
    await page.goto(`${base}/console/?refresh=0`);
    const status = await (await answered).json();
    await waitFor("the ingest figures", async () => (await page.textContent('[data-ingest="rate_1m"]')) !== null, { timeoutMs: 10_000 });
    // Every outcome was stored by this file's beforeAll, seconds ago: both windows are cut to that.
    expect(status.seconds_covered.last_minute).toBeLessThan(60);
    expect(status.seconds_covered.last_5_minutes).toBe(status.seconds_covered.last_minute);
    const total = status.messages_stored.last_5_minutes;
    expect(total).toBeGreaterThan(20_000);
    expect(status.messages_per_second.last_5_minutes).toBe(total / status.seconds_covered.last_5_minutes);
    expect(status.messages_per_second.last_5_minutes).toBeGreaterThan(total / 60);
    expect(await page.textContent('[data-ingest="rate_1m"]')).toBe(formatRate(status.messages_per_second.last_minute));
    expect(await page.textContent('[data-ingest="rate_5m"]')).toBe(formatRate(status.messages_per_second.last_5_minutes));
    await page.close();
  });
});

describe("the overview chart", () => {
  let page: Page;

  beforeAll(async () => {
    page = await newPage();
    await openDay(page);
  });

  afterAll(async () => {
    await page?.close();
  });

  test("draws each y-axis title clear of its tick labels", async () => {
    const ink = await axisInk(page);
    const left = runs(ink.left);
    const right = runs(ink.right).reverse(); // outermost first: the title is at the canvas's edge
    for (const [side, strip, columns] of [
      ["left", left, ink.left],
      ["right", right, ink.right],
    ] as const) {
      // title, tick labels, tick marks: separate runs, the title's a rotated line of text
      expect({ side, runs: strip.length >= 3 }).toEqual({ side, runs: true });
      const [title, labels] = [strip[0]!, strip[1]!];
      expect({ side, titleWidth: title[1] <= 16 }).toEqual({ side, titleWidth: true });
      const gap = side === "left" ? labels[0] - (title[0] + title[1]) : title[0] - (labels[0] + labels[1]);
      expect({ side, gap: gap >= 2 }).toEqual({ side, gap: true });
      expect(columns.length).toBeGreaterThan(0);
    }
    await page.screenshot({ path: join(ARTIFACTS, "console-chart-axes.png") });
  });

  test("keeps the outcomes line visible where revenue follows it exactly", async () => {
    const withRevenue = await outcomesPixels(page);
    const revenue = page.locator(".u-legend tr.u-series", { hasText: "Revenue" });
    await revenue.click(); // hidden
    await page.waitForTimeout(300);
    const alone = await outcomesPixels(page);
    await revenue.click();
    expect(alone).toBeGreaterThan(500);
    // Revenue is drawn beneath the lines: they lose (almost) nothing of their own colour to it.
    expect(withRevenue / alone).toBeGreaterThan(0.95);
  });
});

describe("the price distribution panel", () => {
  test("shows exactly what price_distribution/ gives for the period, bid prices and the won auctions' win prices", async () => {
    const page = await newPage();
    await openDay(page);
    const period = `from=${DAY.from}&to=${DAY.to}`;
    const [bid, win] = await Promise.all(
      ["price=bid", "price=win&win_status=true"].map(async (q) => (await fetch(`${base}/api/outcomes/price_distribution/?${period}&${q}`)).json()),
    );
    const rows = await page.$$eval("#price-table tbody tr", (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent ?? "")));
    const money = (v: string) => formatMoney(v);
    const expected = [bid, win].flatMap((d) =>
      d.results.map((r: Record<string, string>) => [
        d.price === "bid" ? "Bid price" : "Win price (won auctions)",
        r.currency,
        formatCount(Number(r.count)),
        money(r.p50!),
        money(r.p90!),
        money(r.p99!),
        money(r.min!),
        money(r.max!),
      ]),
    );
    expect(rows).toEqual(expected);
    expect(rows.length).toBe(2);
    expect(await page.textContent("#price-note")).toBe(
      "Percentiles from fixed buckets, within 4.89 % of the exact figure; counts, lowest and highest are exact.",
    );
    const meters = await page.$$eval('[data-histogram="bid-USD"] meter', (ms) => ms.map((m) => (m as HTMLMeterElement).value));
    expect(meters).toEqual(bid.results[0].buckets.map((b: { count: number }) => b.count));
    await page.close();
  });
});

describe("short periods", () => {
  test("the last hour is charted per minute by default: one point a minute, the outcomes of the hour in them", async () => {
    const page = await newPage();
    await page.goto(`${base}/console/?period=1h&refresh=0`);
    expect(await page.$eval("#interval", (select) => (select as HTMLSelectElement).value)).toBe("minute");
    await waitFor("the minute rows", async () => (await page.locator("#series-table tbody tr").count()) >= 60, { timeoutMs: 10_000 });
    const rows = await page.$$eval("#series-table tbody tr", (trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent ?? "")));
    expect(rows.length === 60 || rows.length === 61).toBe(true);
    expect(rows[0]![0]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
    expect(rows.reduce((sum, row) => sum + Number(row[1]!.replaceAll(",", "")), 0)).toBe(FRESH);
    expect(await page.textContent("#chart-title")).toBe("Outcomes, wins and revenue per minute");
    await page.close();
  });

  test("offers minute buckets only where the API serves them", async () => {
    const page = await newPage();
    await page.goto(`${base}/console/?period=7d&interval=minute&refresh=0`);
    const choices = await page.$$eval("#interval option", (options) => options.map((o) => (o as HTMLOptionElement).value));
    expect(choices).toEqual(["hour", "day"]);
    expect(await page.$eval("#interval", (select) => (select as HTMLSelectElement).value)).toBe("hour");
    await page.goto(`${base}/console/?period=1h&refresh=0`);
    expect(await page.$$eval("#interval option", (options) => options.map((o) => (o as HTMLOptionElement).value))).toEqual(["minute", "hour", "day"]);
    await page.close();
  });

  test("the last 24 hours of a fresh database offer the last hour per minute instead of a spike", async () => {
    const page = await newPage();
    await page.goto(`${base}/console/?period=24h&refresh=0`);
    await waitFor("the hint", async () => await page.isVisible("#chart-hint"), { timeoutMs: 10_000 });
    const link = page.locator("#chart-hint a");
    expect(await link.getAttribute("href")).toBe("/console/?period=1h&interval=minute");
    await link.click();
    await page.waitForURL((url) => url.searchParams.get("interval") === "minute");
    await waitFor("the minute rows", async () => (await page.locator("#series-table tbody tr").count()) >= 60, { timeoutMs: 10_000 });
    await page.goto(base + DAY_VIEW);
    await waitFor("the day's rows", async () => (await page.locator("#series-table tbody tr").count()) === 24, { timeoutMs: 10_000 });
    expect(await page.isVisible("#chart-hint")).toBe(false);
    await page.close();
  });
});

describe("the outcomes table in a 1,400-pixel window", () => {
  test("fits the window, and every timestamp is shown whole", async () => {
    const page = await newPage(1400);
    await page.goto(`${base}/console/outcomes`);
    await waitFor("the table", async () => (await page.locator("#outcomes-table tbody tr").count()) === 50, { timeoutMs: 10_000 });
    const fit = await page.evaluate(() => {
      const scroller = document.querySelector<HTMLElement>(".table-scroll")!;
      const table = document.getElementById("outcomes-table")!;
      const times = [...table.querySelectorAll<HTMLElement>("tbody time")];
      return {
        tableWidth: table.getBoundingClientRect().width,
        scrollerWidth: scroller.clientWidth,
        overflow: scroller.scrollWidth - scroller.clientWidth,
        pageOverflow: document.documentElement.scrollWidth - window.innerWidth,
        timesCut: times.filter((t) => t.getBoundingClientRect().right > scroller.getBoundingClientRect().right || t.getClientRects().length !== 1).length,
        times: times.length,
      };
    });
    expect(fit.times).toBe(50);
    expect(fit).toMatchObject({ overflow: 0, pageOverflow: 0, timesCut: 0 });
    expect(fit.tableWidth).toBeLessThanOrEqual(fit.scrollerWidth);
    await page.screenshot({ path: join(ARTIFACTS, "console-outcomes-1400.png") });
    await page.close();
  });
});

describe("every page of this file", () => {
  test("had no console error and no page error", () => {
    expect(problems).toEqual([]);
  });
});
