// The console's pure parts, without a browser: routes, the API query of an address, the overview
// settings, number formatting, and the bundle the server builds from the embedded sources.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { queryOf } from "../../src/console/client/api";
import { formatAverage, formatCount, formatMoney } from "../../src/console/client/format";
import { apiQueryOf, exportUrl } from "../../src/console/client/outcomes";
import { REFRESH_CHOICES, settingsOf, storageText } from "../../src/console/client/overview";
import { routeOf } from "../../src/console/client/router";
import { bundleClient, consoleAssets } from "../../src/console/console.assets";
import { CONSOLE_CSP, renderConsolePage } from "../../src/console/console.page";
import { ROOT } from "../support/project";

describe("routeOf", () => {
  test("names every console path, with or without a trailing slash", () => {
    expect(routeOf("/console")).toEqual({ name: "overview" });
    expect(routeOf("/console/")).toEqual({ name: "overview" });
    expect(routeOf("/console/outcomes/")).toEqual({ name: "outcomes" });
    expect(routeOf("/console/outcomes/42")).toEqual({ name: "outcome", id: "42" });
    expect(routeOf("/console/dead-letters")).toEqual({ name: "dead-letters" });
    expect(routeOf("/console/outcomes/0")).toEqual({ name: "not-found" });
    expect(routeOf("/console/elsewhere")).toEqual({ name: "not-found" });
  });
});

describe("apiQueryOf", () => {
  test("passes the address's filters through, asks for keyset pages of 50, and drops what the API does not take", () => {
    expect(apiQueryOf(new URLSearchParams("search=u-a&win_status=true&period=24h&page=3"))).toEqual({
      search: "u-a",
      win_status: "true",
      page_size: "50",
      cursor: "",
    });
    expect(apiQueryOf(new URLSearchParams("ordering=-win_price&page_size=25&cursor=abc"))).toEqual({ ordering: "-win_price", page_size: "25", cursor: "abc" });
  });

  test("exports the address's filters and order as CSV, without page size or cursor", () => {
    expect(exportUrl(new URLSearchParams("search=u-a&from=2025-10-01&ordering=-win_price&page_size=25&cursor=abc&period=24h"))).toBe(
      "/api/outcomes/export/?format=csv&search=u-a&from=2025-10-01&ordering=-win_price",
    );
    expect(exportUrl(new URLSearchParams())).toBe("/api/outcomes/export/?format=csv");
  });

  test("keeps an empty cursor in the query string, which means the first keyset page", () => {
    expect(queryOf({ cursor: "", page_size: "50", from: undefined })).toBe("?cursor=&page_size=50");
  });
});

describe("settingsOf", () => {
  test("defaults to the last 24 hours per hour, refreshed every 5 s", () => {
    expect(settingsOf(new URLSearchParams(""))).toEqual({ period: "24h", from: undefined, to: undefined, interval: "hour", refreshSeconds: 5 });
  });

  test("charts long periods per day unless asked otherwise, and ignores an unknown period", () => {
    expect(settingsOf(new URLSearchParams("period=30d")).interval).toBe("day");
    expect(settingsOf(new URLSearchParams("period=30d&interval=hour")).interval).toBe("hour");
    expect(settingsOf(new URLSearchParams("period=decade")).period).toBe("24h");
    expect(settingsOf(new URLSearchParams("refresh=0")).refreshSeconds).toBe(0);
    expect(settingsOf(new URLSearchParams("refresh=-3")).refreshSeconds).toBe(5);
  });
});

describe("formatting", () => {
  test("groups digits without touching a decimal's fraction", () => {
    expect(formatCount(1234567)).toBe("1,234,567");
    expect(formatMoney("12345.678901")).toBe("12,345.678901");
    expect(formatMoney(13353.603402)).toBe("13,353.603402");
    expect(formatMoney(0)).toBe("0.00");
    expect(formatMoney(1e-7)).toBe("0.0000001");
  });

  test("shows a mean price to 4 decimals unless it has at most 2", () => {
    expect(formatAverage(834.600212625)).toBe("834.6002");
    expect(formatAverage(0.15)).toBe("0.15");
  });
});

describe("the console's assets", () => {
  test("bundle the embedded client sources into one ES module", async () => {
    const assets = await consoleAssets();
    expect(assets["console.js"].body).toContain("helios-console-token");
    expect(assets["console.js"].body).not.toMatch(/\bimport\s*[{*"]/); // every module is inlined
    expect(assets["uplot.js"].body).toContain("uPlot");
    expect(assets["console.js"].version).toMatch(/^[0-9a-z]{1,10}$/);
  });

  test("fail loudly when a client module does not compile", async () => {
    await expect(bundleClient({ "main.ts": "import { x } from '../unit/missing.ts'; console.log(x);" })).rejects.toThrow("The console client did not build");
  });

  test("are named in the page by version, with no inline script or style", async () => {
    const assets = await consoleAssets();
    const html = renderConsolePage(assets);
    expect(html).toContain(`/console/assets/console.js?v=${assets["console.js"].version}`);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i);
    expect(CONSOLE_CSP).toContain("script-src 'self'");
  });
});

describe("storageText", () => {
  const state = {
    partition_interval: "day" as const,
    rollup_retention_days: null,
    rollups_available_from: null,
    last_maintenance_at: null,
    partitions: { count: 4, oldest_lower: "2025-06-15T00:00:00Z", newest_upper: "2025-06-22T00:00:00Z", default_rows_estimate: 0, dropped: 5 },
  };
  test("says all outcomes are kept when nothing expired", () => {
    expect(storageText({ ...state, retention_days: null, outcomes_available_from: null })).toBe("Individual outcomes: all of them, kept without limit.");
  });
  test("says from when individual outcomes exist and where older figures come from", () => {
    expect(storageText({ ...state, retention_days: 5, outcomes_available_from: "2025-06-15T00:00:00Z" })).toBe(
      "Individual outcomes (kept 5 days) from 2025-06-15 00:00 UTC on; figures for earlier periods come from rollups.",
    );
  });
});

describe("docs/console.md", () => {
  test("describes the refresh choices the overview offers, and no other", () => {
    const seconds = REFRESH_CHOICES.map(([value]) => Number(value)).filter((value) => value > 0);
    const longest = Math.max(...seconds);
    const upTo = longest === 60 ? "1 min" : `${longest} s`;
    const off = REFRESH_CHOICES.some(([value]) => value === "0") ? ", or off" : "";
    const byDefault = settingsOf(new URLSearchParams()).refreshSeconds;
    const doc = readFileSync(join(ROOT, "docs", "console.md"), "utf8");
    expect(doc).toContain(`refreshes in place (every ${Math.min(...seconds)} s to ${upTo}, default ${byDefault} s${off})`);
  });
});
