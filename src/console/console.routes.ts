// The console plugin: the page for every console path, and its assets. It reads no data itself:
// the page calls the public /api/ endpoints, so whatever it shows a script can get too.
import { Elysia } from "elysia";
import { notFound } from "../http/errors";
import { type AssetName, consoleAssets } from "./console.assets";
import { CONSOLE_CSP, renderConsolePage } from "./console.page";

/** The client's routes (src/console/client/router.ts); anything else under /console/ is a 404. */
const PAGE_PATH = /^\/console(\/|\/outcomes\/?|\/outcomes\/[1-9]\d{0,17}\/?|\/breakdown\/?|\/dead-letters\/?)?$/;

const IMMUTABLE = "public, max-age=31536000, immutable";

async function pageResponse(): Promise<Response> {
  const html = renderConsolePage(await consoleAssets());
  return new Response(html, {
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": CONSOLE_CSP,
      // The page names the current asset versions, so it must be revalidated; assets need not.
      "cache-control": "no-cache",
    },
  });
}

async function assetResponse(name: string, version: string | null): Promise<Response> {
  const assets = await consoleAssets();
  const asset = assets[name as AssetName];
  if (!asset) throw notFound();
  return new Response(asset.body, {
    headers: {
      "content-type": asset.contentType,
      "content-security-policy": CONSOLE_CSP,
      "cache-control": version === asset.version ? IMMUTABLE : "no-cache",
    },
  });
}

export function consoleRoutes() {
  // Build now, off the request path, so the first page view does not wait for Bun.build.
  consoleAssets().catch(() => {});
  const page = ({ request }: { request: Request }) => {
    if (!PAGE_PATH.test(new URL(request.url).pathname)) throw notFound();
    return pageResponse();
  };
  const hidden = { detail: { hide: true } };
  return new Elysia({ name: "console-routes" })
    .get("/console", page, hidden)
    .get("/console/", page, hidden)
    .get("/console/assets/:name", ({ params, request }) => assetResponse(params.name, new URL(request.url).searchParams.get("v")), hidden)
    .get("/console/*", page, hidden);
}
