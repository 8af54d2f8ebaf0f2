// The console's static files: its TypeScript bundled by Bun.build in memory (once, at the first
// request or at startup), its stylesheet and icon, and uPlot's script and stylesheet from npm. Everything
// is a text import, so the compiled executable carries it (no node_modules, no sources beside it).
// @ts-ignore -- a text import: Bun gives the file's source, TypeScript sees the module
import mainSource from "./client/main.ts" with { type: "text" };
// @ts-ignore -- text import, as above
import apiSource from "./client/api.ts" with { type: "text" };
// @ts-ignore -- text import, as above
import domSource from "./client/dom.ts" with { type: "text" };
// @ts-ignore -- text import, as above
import formatSource from "./client/format.ts" with { type: "text" };
// @ts-ignore -- text import, as above
import routerSource from "./client/router.ts" with { type: "text" };
// @ts-ignore -- text import, as above
import tokenSource from "./client/token.ts" with { type: "text" };
// @ts-ignore -- text import, as above
import overviewSource from "./client/overview.ts" with { type: "text" };
// @ts-ignore -- text import, as above
import chartSource from "./client/chart.ts" with { type: "text" };
// @ts-ignore -- text import, as above
import pricesSource from "./client/prices.ts" with { type: "text" };
// @ts-ignore -- text import, as above
import outcomesSource from "./client/outcomes.ts" with { type: "text" };
// @ts-ignore -- text import, as above
import detailSource from "./client/detail.ts" with { type: "text" };
// @ts-ignore -- text import, as above
import deadLettersSource from "./client/dead-letters.ts" with { type: "text" };
// @ts-ignore -- text import, as above
import breakdownSource from "./client/breakdown.ts" with { type: "text" };
import consoleStyles from "./console.css" with { type: "text" };
import favicon from "./favicon.svg" with { type: "text" };
import uplotScript from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplotStyles from "uplot/dist/uPlot.min.css" with { type: "text" };
import { createHash } from "node:crypto";
import { BundleError, bundleForBrowser } from "../runtime";

/** Every module of src/console/client/, by file name; main.ts is the entry point. */
const CLIENT_SOURCES: Record<string, string> = {
  "main.ts": mainSource,
  "api.ts": apiSource,
  "dom.ts": domSource,
  "format.ts": formatSource,
  "router.ts": routerSource,
  "token.ts": tokenSource,
  "overview.ts": overviewSource,
  "chart.ts": chartSource,
  "prices.ts": pricesSource,
  "outcomes.ts": outcomesSource,
  "detail.ts": detailSource,
  "dead-letters.ts": deadLettersSource,
  "breakdown.ts": breakdownSource,
};

export interface ConsoleAsset {
  body: string;
  contentType: string;
  /** Short content hash: the `?v=` of the asset's URL, so a cached copy is never stale. */
  version: string;
}

export type AssetName = "console.js" | "console.css" | "uplot.js" | "uplot.css" | "favicon.svg";
export type ConsoleAssets = Record<AssetName, ConsoleAsset>;

const asset = (body: string, contentType: string): ConsoleAsset => ({
  body,
  contentType,
  version: createHash("sha256").update(body).digest("hex").slice(0, 10),
});

/** Bundles the client from the embedded sources under a virtual root; fails loudly on a build error. */
export async function bundleClient(sources: Record<string, string> = CLIENT_SOURCES): Promise<string> {
  try {
    return await bundleForBrowser(sources, "main.ts");
  } catch (error) {
    if (!(error instanceof BundleError)) throw error;
    throw new Error(`The console client did not build: ${error.message}`);
  }
}

let built: Promise<ConsoleAssets> | undefined;

/** The assets, built on first use and then served from memory. */
export function consoleAssets(): Promise<ConsoleAssets> {
  built ??= bundleClient().then((script) => ({
    "console.js": asset(script, "text/javascript; charset=utf-8"),
    "console.css": asset(consoleStyles, "text/css; charset=utf-8"),
    "uplot.js": asset(uplotScript, "text/javascript; charset=utf-8"),
    "uplot.css": asset(uplotStyles, "text/css; charset=utf-8"),
    "favicon.svg": asset(favicon, "image/svg+xml"),
  }));
  return built;
}
