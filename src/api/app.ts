// Assembles the API: host check, request log, one error shape, health, outcomes, Swagger.
import { Elysia } from "elysia";
import { swagger } from "@elysiajs/swagger";
import type { Config } from "../config";
import type { Sql } from "../db/client";
import type { Logger } from "../log";
import { redact } from "../log";
import { ApiError, notFound } from "./errors";
import { healthRoutes } from "./health";
import { absoluteUrl } from "./urls";
import { outcomesRoutes } from "../outcomes/outcomes.routes";

export interface AppDeps {
  config: Config;
  sql: Sql;
  log: Logger;
}

function hostAllowed(allowed: string[], hostHeader: string | null): boolean {
  if (allowed.includes("*")) return true;
  if (!hostHeader) return false;
  const host = hostHeader.toLowerCase().replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
  // Django's rule: ".example.com" matches example.com and every subdomain.
  return allowed.some((pattern) =>
    pattern.startsWith(".") ? host === pattern.slice(1) || host.endsWith(pattern) : host === pattern,
  );
}

function errorResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

/** A postgres.js error that means the database is unreachable or overloaded, not our bug. */
function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? "";
  return ["ECONNREFUSED", "ECONNRESET", "CONNECT_TIMEOUT", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "57P01", "57P03", "53300", "57014"].includes(code);
}

export function createApp({ config, sql, log }: AppDeps) {
  const started = new WeakMap<Request, number>();
  return new Elysia({ name: "helios-analytics" })
    .onRequest(({ request }) => {
      started.set(request, performance.now());
      if (!hostAllowed(config.allowedHosts, request.headers.get("host"))) {
        return errorResponse(400, { detail: "Bad Request: the Host header is not in ALLOWED_HOSTS." });
      }
    })
    .onError(({ error, code, request }) => {
      if (error instanceof ApiError) return errorResponse(error.status, error.body(), error.headers);
      if (code === "NOT_FOUND") return errorResponse(404, notFound().body());
      if (code === "PARSE" || code === "VALIDATION") return errorResponse(400, { detail: "Malformed request." });
      if (isUnavailable(error)) {
        log.warn("Database unavailable", { path: new URL(request.url).pathname, error: redact(String((error as Error).message), config.secrets) });
        return errorResponse(503, { detail: "The database is unavailable or too slow right now; try again shortly." }, { "retry-after": "1" });
      }
      log.error("Unhandled error", { path: new URL(request.url).pathname, error: error as Error, stack: (error as Error).stack });
      const body: Record<string, unknown> = { detail: "Internal server error." };
      if (config.debug) body.debug = { message: (error as Error).message, stack: (error as Error).stack };
      return errorResponse(500, body);
    })
    .onAfterResponse(({ request, set }) => {
      const began = started.get(request);
      log.info("HTTP request", {
        method: request.method,
        path: new URL(request.url).pathname,
        status: Number(set.status ?? 200),
        duration_ms: began === undefined ? undefined : Math.round((performance.now() - began) * 100) / 100,
      });
    })
    .use(
      swagger({
        provider: "swagger-ui",
        path: "/swagger",
        exclude: [/^\/swagger/],
        documentation: {
          info: {
            title: "Helios Analytics API",
            version: "1.0.0",
            description: "Auction outcomes of the RTB pipeline: records, winners, stats and daily stats.",
          },
          tags: [
            { name: "outcomes", description: "Auction outcomes" },
            { name: "health", description: "Probes" },
          ],
        },
      }),
    )
    .get("/api/", ({ request }) => ({ outcomes: new URL("/api/outcomes/", absoluteUrl(request)).toString() }), {
      detail: { tags: ["outcomes"], summary: "Router root: links to the collections" },
    })
    .use(healthRoutes(sql))
    .use(outcomesRoutes(sql));
}
