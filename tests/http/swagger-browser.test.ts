// Swagger UI under its strict policy in a real browser (headless Chromium from Debian, as the
// console tests use): the page renders every documented operation, "Try it out" reaches the API,
// and not one script, style or request is refused by the policy or sent off this origin.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { BrowserContext } from "playwright-core";
import { type Chromium, launchChromium } from "../support/browser";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { insertOutcomes } from "../support/fixtures";
import { type Served, serveApp } from "../support/served-app";

setDefaultTimeout(60_000);

let db: TestDatabase;
let server: Served;
let context: BrowserContext;
let browser: Chromium | undefined;

beforeAll(async () => {
  db = await createTestDatabase("swagger_browser");
  await insertOutcomes(db.setup);
  server = serveApp(db);
  browser = await launchChromium("swagger");
  context = browser.context;
});

afterAll(async () => {
  await browser?.close();
  server?.stop();
  await db?.drop();
});

describe("Swagger UI in a browser", () => {
  test("renders every documented operation and runs one, with no policy violation and nothing off this origin", async () => {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()} (${message.location().url})`);
    });
    page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
    page.on("response", (response) => {
      if (response.status() >= 400) problems.push(`${response.status()}: ${response.url()}`);
    });
    page.on("request", (request) => {
      if (!request.url().startsWith(server.base) && !request.url().startsWith("data:")) problems.push(`external request: ${request.url()}`);
    });
    await page.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (event) => {
        console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
      });
    });

    const doc = (await (await fetch(`${server.base}/swagger/json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);

    await page.goto(`${server.base}/swagger/`);
    await page.waitForSelector(".opblock", { timeout: 20_000 });
    expect(await page.locator(".opblock").count()).toBe(operations);

    const stats = page.locator(".opblock", { has: page.locator('[data-path="/api/outcomes/stats/"]') });
    await stats.locator(".opblock-summary").click();
    await stats.locator("button.try-out__btn").click();
    await stats.locator("button.execute").click();
    const status = stats.locator(".live-responses-table .response .response-col_status");
    await status.first().waitFor({ timeout: 10_000 });
    // biome-ignore lint/performance/useDomNodeTextContent: Playwright's Locator.innerText, the text as rendered, not a DOM property.
    expect((await status.first().innerText()).trim()).toBe("200");

    await page.close();
    expect(problems).toEqual([]);
  });
});
