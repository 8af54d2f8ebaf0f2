// The console's one HTML page (every console path gets it; the client renders the view the path
// names). No inline script or style, so it runs under CONSOLE_CSP with 'self' only.
import type { ConsoleAssets } from "./console.assets";

/** The console's policy: its own files only, no inline code, no framing. */
export const CONSOLE_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const assetUrl = (assets: ConsoleAssets, name: keyof ConsoleAssets) => `/console/assets/${name}?v=${assets[name].version}`;

export function renderConsolePage(assets: ConsoleAssets): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>Helios Analytics console</title>
<link rel="icon" type="image/svg+xml" href="${assetUrl(assets, "favicon.svg")}">
<link rel="stylesheet" href="${assetUrl(assets, "uplot.css")}">
<link rel="stylesheet" href="${assetUrl(assets, "console.css")}">
<script defer src="${assetUrl(assets, "uplot.js")}"></script>
<script type="module" src="${assetUrl(assets, "console.js")}"></script>
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="site-header">
  <a class="brand" href="/console/">Helios Analytics</a>
  <nav aria-label="Console">
    <ul>
      <li><a href="/console/" data-nav="overview">Overview</a></li>
      <li><a href="/console/outcomes" data-nav="outcomes">Outcomes</a></li>
      <li><a href="/console/breakdown" data-nav="breakdown">Breakdown</a></li>
      <li><a href="/console/dead-letters" data-nav="dead-letters">Dead letters</a></li>
      <li><a href="/swagger">API docs</a></li>
    </ul>
  </nav>
  <div class="token-status" id="token-status"></div>
</header>
<main id="main" tabindex="-1">
  <p class="loading">Loading…</p>
  <noscript><p>The console needs JavaScript. Every figure it shows is also at <a href="/api/">/api/</a>.</p></noscript>
</main>
</body>
</html>
`;
}
