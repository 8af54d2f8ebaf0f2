// Absolute URLs for pagination links, like Django's build_absolute_uri: the request's own
// host, and the scheme a TLS-terminating proxy reports in X-Forwarded-Proto.
export function absoluteUrl(request: Request): URL {
  const url = new URL(request.url);
  const proto = request.headers.get("x-forwarded-proto")?.split(",")[0]?.trim();
  if (proto === "https" || proto === "http") url.protocol = `${proto}:`;
  return url;
}

/** The same URL with `changes` applied: a string sets the parameter, null removes it. */
export function withParams(url: URL, changes: Record<string, string | null>): string {
  const next = new URL(url);
  for (const [name, value] of Object.entries(changes)) {
    if (value === null) next.searchParams.delete(name);
    else next.searchParams.set(name, value);
  }
  return next.toString();
}
