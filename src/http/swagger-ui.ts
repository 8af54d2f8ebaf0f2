// Swagger UI served by this process: swagger-ui-dist from npm, embedded as text like the console's
// assets, in place of @elysiajs/swagger's page, which loads the bundle from unpkg. So /swagger works
// where no CDN is reachable, no third-party script runs on this origin, and the page's policy is
// strict: scripts from this origin only, none inline.
// @ts-ignore -- a text import: Bun gives the file's source; tsc and deno check see a module (ignore, not expect-error: only tsc errs)
import bundle from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "text" };
import styles from "swagger-ui-dist/swagger-ui.css" with { type: "text" };
import { createHash } from "node:crypto";
import { Elysia } from "elysia";
import { notFound } from "./errors";

/** Swagger UI's own styles are applied at run time from script (style attributes), hence 'unsafe-inline' for styles only. */
export const SWAGGER_UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

// Reads the settings from the page (a JSON data block, which no policy needs to allow) and starts
// the UI. The document's URL is resolved against the origin, so /swagger/ works like /swagger.
const INIT = `"use strict";
window.addEventListener("load", function () {
  var settings = JSON.parse(document.getElementById("swagger-settings").textContent);
  settings.url = new URL(settings.url, window.location.origin + "/").toString();
  window.ui = SwaggerUIBundle(settings);
});
`;

interface Asset {
  body: string;
  contentType: string;
  version: string;
}

/** `version` is the `?v=` of the asset's URL: a short content hash, so a cached copy is never stale. */
const asset = (body: string, contentType: string): Asset => ({
  body,
  contentType,
  version: createHash("sha256").update(body).digest("base64url").slice(0, 10),
});

const ASSETS: Record<string, Asset> = {
  "swagger-ui-bundle.js": asset(bundle as string, "text/javascript; charset=utf-8"),
  "swagger-ui.css": asset(styles, "text/css; charset=utf-8"),
  "swagger-init.js": asset(INIT, "text/javascript; charset=utf-8"),
};

const assetUrl = (name: string) => `/swagger/assets/${name}?v=${ASSETS[name]!.version}`;

export function swaggerUiPage(title: string): string {
  // "<" never appears unescaped in the data block, so it cannot end the script element.
  const settings = JSON.stringify({ url: "swagger/json", dom_id: "#swagger-ui" }).replace(/</g, "\\u003c");
  const escapedTitle = title.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${escapedTitle}</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="${assetUrl("swagger-ui.css")}" />
</head>
<body>
    <div id="swagger-ui"></div>
    <script type="application/json" id="swagger-settings">${settings}</script>
    <script src="${assetUrl("swagger-ui-bundle.js")}"></script>
    <script src="${assetUrl("swagger-init.js")}"></script>
</body>
</html>
`;
}

const IMMUTABLE = "public, max-age=31536000, immutable";

/** GET /swagger (replacing the plugin's page: use it after `swagger()`) and its assets. */
export function swaggerUi(title: string) {
  const page = swaggerUiPage(title);
  const hidden = { detail: { hide: true } };
  return new Elysia({ name: "swagger-ui" })
    .get(
      "/swagger",
      () =>
        new Response(page, { headers: { "content-type": "text/html; charset=utf-8", "content-security-policy": SWAGGER_UI_CSP, "cache-control": "no-cache" } }),
      hidden,
    )
    .get(
      "/swagger/assets/:name",
      ({ params, request }) => {
        const found = Object.hasOwn(ASSETS, params.name) ? ASSETS[params.name]! : undefined;
        if (!found) throw notFound();
        const version = new URL(request.url).searchParams.get("v");
        return new Response(found.body, {
          headers: {
            "content-type": found.contentType,
            "content-security-policy": SWAGGER_UI_CSP,
            "cache-control": version === found.version ? IMMUTABLE : "no-cache",
          },
        });
      },
      hidden,
    );
}
