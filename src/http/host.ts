// ALLOWED_HOSTS as Django applied it: the Host header must name one of the allowed hosts.
import { ApiError } from "./errors";

export function hostAllowed(allowed: readonly string[], hostHeader: string | null): boolean {
  if (allowed.includes("*")) return true;
  if (!hostHeader) return false;
  const host = hostHeader
    .toLowerCase()
    .replace(/:\d+$/, "")
    .replace(/^\[(.*)\]$/, "$1");
  // Django's rule: ".example.com" matches example.com and every subdomain.
  return allowed.some((pattern) => (pattern.startsWith(".") ? host === pattern.slice(1) || host.endsWith(pattern) : host === pattern));
}

export const hostRefused = () => new ApiError(400, "Bad Request: the Host header is not in ALLOWED_HOSTS.");
