// Who may come in, and what every response says about itself: the Host check (ALLOWED_HOSTS),
// optional bearer tokens, CORS the way django-cors-headers answered it, and the security headers.
// One Elysia plugin that wraps the whole handler, so a refusal, a preflight, a 404 and an error
// body all leave through this door.
import { createHash, timingSafeEqual } from "node:crypto";
import { Elysia } from "elysia";
import type { Config } from "../config";
import { ApiError, errorResponse } from "./errors";
import { hostAllowed, hostRefused } from "./host";

export const AUTH_REALM = "helios-analytics";
export const NOT_PROVIDED = "Authentication credentials were not provided.";
export const INVALID_TOKEN = "Invalid token.";

/** A read-only API: the methods and request headers a browser may use cross-origin. */
export const CORS_ALLOW_METHODS = "GET, HEAD, OPTIONS";
export const CORS_ALLOW_HEADERS = "authorization, content-type";
/** django-cors-headers' default: browsers cache a preflight for a day. */
export const CORS_MAX_AGE = "86400";

/** JSON, metrics text, errors: nothing to load, nothing to frame. */
export const STRICT_CSP = "default-src 'none'; frame-ancestors 'none'";

const ALWAYS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

// Open whatever the configuration: probes must answer the orchestrator, and the console's static
// pages carry no data (the page asks for the token and sends it on its own API calls).
const ALWAYS_OPEN = /^\/(healthz|readyz)\/?$|^\/console(\/|$)/;
const DOCS_AND_METRICS = /^\/metrics\/?$|^\/swagger(\/|$)/;

export interface SecurityOptions {
  config: Config;
  /** Called for each request this plugin answers itself (refused Host, 401, preflight), for the request log. */
  onAnswered?: (request: Request, status: number) => void;
}

/**
 * Every path needs the token (when tokens are configured) except the open ones: deny by default,
 * so a path spelled in a way the router still matches can never slip past a prefix check.
 */
export function requiresToken(pathname: string, protectDocsAndMetrics: boolean): boolean {
  if (ALWAYS_OPEN.test(pathname)) return false;
  if (DOCS_AND_METRICS.test(pathname)) return protectDocsAndMetrics;
  return true;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest();

/**
 * Compares a presented token with every configured one in constant time: both sides are hashed
 * first (timingSafeEqual needs equal lengths, and the length must not leak either), and the loop
 * never exits early, so the time says nothing about which token matched or how close a guess was.
 */
export function tokenMatcher(tokens: readonly string[]): (presented: string) => boolean {
  const known = tokens.map(sha256);
  return (presented) => {
    const candidate = sha256(presented);
    let matched = false;
    for (const digest of known) matched = timingSafeEqual(candidate, digest) || matched;
    return matched;
  };
}

/** The token of `Authorization: Bearer <token>` (scheme case-insensitive), or null. */
export function bearerToken(header: string | null): string | null {
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match ? match[1]! : null;
}

/** What to send back in Access-Control-Allow-Origin, or null when the origin is not allowed. */
export function allowedOrigin(config: Pick<Config, "corsAllowedOrigins" | "corsAllowAllOrigins">, origin: string | null): string | null {
  if (!origin) return null;
  if (config.corsAllowAllOrigins) return "*";
  return config.corsAllowedOrigins.includes(origin) ? origin : null;
}

/** A CORS preflight: OPTIONS naming the method it asks for (a bare OPTIONS goes to the router). */
export function isPreflight(request: Request): boolean {
  return request.method === "OPTIONS" && request.headers.has("access-control-request-method");
}

export function unauthorized(detail: string): Response {
  return errorResponse(new ApiError(401, detail, undefined, { "www-authenticate": `Bearer realm="${AUTH_REALM}"` }));
}

/** Access-Control-Allow-Origin itself is added by decorate, as on every response. */
function preflightResponse(origin: string | null): Response {
  // django-cors-headers answers every preflight 200; without the allow headers the browser refuses.
  if (origin === null) return new Response(null, { status: 200 });
  return new Response(null, {
    status: 200,
    headers: {
      "access-control-allow-methods": CORS_ALLOW_METHODS,
      "access-control-allow-headers": CORS_ALLOW_HEADERS,
      "access-control-max-age": CORS_MAX_AGE,
    },
  });
}

/** The response itself when its headers can be changed, else a copy that can (a fetched Response's cannot). */
function withMutableHeaders(response: Response): Response {
  try {
    // Setting a header is the only way to ask; this one is set on every response anyway.
    response.headers.set("x-content-type-options", "nosniff");
    return response;
  } catch {
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers: new Headers(response.headers) });
  }
}

/**
 * Adds the CORS and security headers to a finished response. A page sets its own policy and cache
 * rules (the console, Swagger UI); anything that does not gets the strictest: nothing loads, no
 * frame, no cache — a new HTML page without a policy of its own shows up blank, never open.
 */
export function decorate(response: Response, origin: string | null): Response {
  const out = withMutableHeaders(response);
  const headers = out.headers;
  for (const [name, value] of Object.entries(ALWAYS)) headers.set(name, value);
  if (!headers.has("content-security-policy")) headers.set("content-security-policy", STRICT_CSP);
  if (!headers.has("cache-control")) headers.set("cache-control", "no-store");
  headers.append("vary", "Origin");
  if (origin !== null) headers.set("access-control-allow-origin", origin);
  return out;
}

/** The plugin. Register it before the metrics plugin: a wrap registered later runs outside, so metrics count its 401s. */
export function security({ config, onAnswered = () => {} }: SecurityOptions) {
  const tokensConfigured = config.apiTokens.length > 0;
  const matches = tokenMatcher(config.apiTokens);
  // The Host first, as Django's ALLOWED_HOSTS did: a request to a host this service is not is
  // refused for that (400), never told to authenticate (401), and no token is checked for it.
  const hostRefusal = (request: Request): Response | null =>
    hostAllowed(config.allowedHosts, request.headers.get("host")) ? null : errorResponse(hostRefused());
  const tokenRefusal = (request: Request): Response | null => {
    if (!tokensConfigured || !requiresToken(new URL(request.url).pathname, config.protectDocsAndMetrics)) return null;
    const token = bearerToken(request.headers.get("authorization"));
    if (token === null) return unauthorized(NOT_PROVIDED);
    return matches(token) ? null : unauthorized(INVALID_TOKEN);
  };
  return new Elysia({ name: "security" }).wrap(((handle: (...args: unknown[]) => unknown, request: Request) =>
    async (...args: unknown[]) => {
      const origin = allowedOrigin(config, request.headers.get("origin"));
      // A preflight carries no credentials by design: it is answered before authentication.
      const early = hostRefusal(request) ?? (isPreflight(request) ? preflightResponse(origin) : tokenRefusal(request));
      if (early) onAnswered(request, early.status);
      const response = early ?? ((await handle(...args)) as Response);
      return decorate(response, origin);
    }) as never);
}
