// Which methods a path accepts, derived from the app's own route table, so a POST or DELETE to a
// route that only reads is a 405 naming what it accepts (RFC 9110 §15.5.6: with an Allow header),
// not a 404 that reads as "no such path". A route added later is covered without a second list.
// Nothing of the API's kit: the consumer's health server uses it too.
import { escapeRegExp } from "../values/text";

export interface RouteEntry {
  method: string;
  path: string;
}

/**
 * An Elysia route path as a pattern over a request's pathname: `:name` is one segment, `*` the rest,
 * and the trailing slash is optional, as Elysia's non-strict paths match both spellings.
 */
export function routePattern(path: string): RegExp {
  const segments = path
    .replace(/\/+$/, "")
    .split("/")
    .map((segment) => (segment === "*" ? ".*" : segment.startsWith(":") ? "[^/]+" : escapeRegExp(segment)));
  return new RegExp(`^${segments.join("/")}/?$`);
}

/** Elysia answers HEAD from a GET route's handler (its body dropped): a GET route accepts both. */
function methodsOf(method: string): string[] {
  return method === "GET" ? ["GET", "HEAD"] : [method];
}

const FIRST = ["GET", "HEAD"];
const rank = (method: string) => (FIRST.includes(method) ? FIRST.indexOf(method) : FIRST.length);

/**
 * The methods each pathname accepts, in a stable order (GET, HEAD, then the rest by name); empty
 * for a path no route matches. WebSocket routes are left out: they are not HTTP methods.
 */
export function allowedMethods(routes: readonly RouteEntry[]): (pathname: string) => string[] {
  const table = routes.filter((route) => route.method !== "WS").map((route) => ({ pattern: routePattern(route.path), methods: methodsOf(route.method) }));
  return (pathname) => {
    const methods = new Set(table.filter(({ pattern }) => pattern.test(pathname)).flatMap((route) => route.methods));
    return [...methods].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  };
}

/** The detail of a 405 and its Allow header: what was sent, and what the path accepts instead. */
export function methodRefusal(method: string, allowed: readonly string[]): { detail: string; allow: string } {
  const allow = allowed.join(", ");
  return { detail: `Method "${method}" not allowed: this path accepts ${allow}.`, allow };
}
