// Assembles the API: request limits, auth/CORS/security headers, host check, request log,
// one error shape, health, outcomes, Swagger.
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
import { deadLettersRoutes } from "../deadletters/dead-letters.routes";
import { ingestStatusRoutes } from "../ingest/ingest-status.routes";
import { consoleRoutes } from "../console/console.routes";
import { ApiRoot } from "../outcomes/outcomes.schema";
import { apiMetrics, createApiMetrics, instrumentedSql } from "../metrics/api-metrics";
import { security } from "./security";
import { requestLimits } from "./limits";
import { swaggerUi } from "./swagger-ui";
import type { ChangeSignal } from "../db/change-feed";
import { AggregateCache } from "../outcomes/aggregate-cache";

export interface AppDeps {
  config: Config;
  sql: Sql;
  log: Logger;
  /** Moves when auction_outcomes changes; without it aggregate answers are never kept in memory. */
  changes?: ChangeSignal;
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

/** `secrets` are redacted from the body: an error may echo a value back, or (DEBUG) a message. */
function errorResponse(status: number, body: unknown, headers: Record<string, string> = {}, secrets: readonly string[] = []): Response {
  return new Response(redact(JSON.stringify(body), secrets), { status, headers: { "content-type": "application/json", ...headers } });
}

/** A plain object or array, which Elysia serialises as JSON (not a Response, a string, a file…). */
function isJsonBody(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  return Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype;
}

/** A postgres.js error that means the database is unreachable or overloaded, not our bug. */
function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? "";
  return ["ECONNREFUSED", "ECONNRESET", "CONNECT_TIMEOUT", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "57P01", "57P03", "53300", "57014", "3D000"].includes(code);
}

export function createApp({ config, sql, log, changes }: AppDeps) {
  // Every route below gets the same pool with its queries counted for the db_pool_* gauges.
  const metrics = createApiMetrics(sql.options.max);
  sql = instrumentedSql(sql, metrics);
  const aggregates = new AggregateCache(changes, {
    ttlMs: config.aggregateCacheTtlMs,
    onLookup: (outcome) => metrics.cacheLookups.inc({ outcome }),
  });
  const started = new WeakMap<Request, number>();
  const logRequest = (request: Request, status: number) => {
    const began = started.get(request);
    log.info("HTTP request", {
      method: request.method,
      path: new URL(request.url).pathname,
      status,
      duration_ms: began === undefined ? undefined : Math.round((performance.now() - began) * 100) / 100,
    });
  };
  const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => errorResponse(status, body, headers, config.secrets);
  const errorFor = (error: unknown, code: unknown, request: Request): Response => {
    if (error instanceof ApiError) return reply(error.status, error.body(), error.headers);
    if (code === "NOT_FOUND") return reply(404, notFound().body());
    if (code === "PARSE" || code === "VALIDATION") return reply(400, { detail: "Malformed request." });
    if (isUnavailable(error)) {
      log.warn("Database unavailable", { path: new URL(request.url).pathname, error: redact(String((error as Error).message), config.secrets) });
      const detail = (error as { code?: string }).code === "57014"
        ? `The query ran longer than the ${config.db.statementTimeoutMs} ms statement timeout and was cancelled; try again shortly or narrow the filters.`
        : "The database is unavailable or too slow right now; try again shortly.";
      return reply(503, { detail }, { "retry-after": "1" });
    }
    log.error("Unhandled error", { path: new URL(request.url).pathname, error: error as Error, stack: (error as Error).stack });
    const body: Record<string, unknown> = { detail: "Internal server error." };
    if (config.debug) body.debug = { message: (error as Error).message, stack: (error as Error).stack };
    return reply(500, body);
  };
  // Wraps nest outward in the order used: metrics see every answer, security decorates every
  // answer and authenticates before the limits, and only authenticated requests take a place.
  return new Elysia({ name: "helios-analytics" })
    .use(requestLimits({
      maxUrlLength: config.maxUrlLength,
      maxInflight: config.apiMaxInflight,
      requestTimeoutMs: config.apiRequestTimeoutMs,
      onAnswered: logRequest,
    }))
    .use(security({ config, onAnswered: logRequest }))
    .use(apiMetrics(metrics))
    .onRequest(({ request }) => {
      started.set(request, performance.now());
      if (!hostAllowed(config.allowedHosts, request.headers.get("host"))) {
        // A response from onRequest skips onAfterResponse: log the refusal here.
        logRequest(request, 400);
        return errorResponse(400, { detail: "Bad Request: the Host header is not in ALLOWED_HOSTS." });
      }
    })
    .onError(({ error, code, request, set }) => {
      const response = errorFor(error, code, request);
      // The request log reads set.status; a returned Response does not update it (e.g. an unknown path's 404).
      set.status = response.status;
      return response;
    })
    .onAfterHandle(({ responseValue, set }) => {
      // One JSON content type on every runtime: Bun's Response.json says "application/json;charset=utf-8",
      // Elysia's web-standard adapter (Deno) "application/json", as the error bodies do (RFC 8259: no charset).
      if (isJsonBody(responseValue)) set.headers["content-type"] = "application/json";
    })
    .onAfterResponse(({ request, set }) => {
      logRequest(request, Number(set.status ?? 200));
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
            { name: "dead letters", description: "Messages ingest set aside, with the reason" },
            { name: "ingest", description: "Ingest health: store rate, dead letters, consumer lag" },
          ],
        },
      }),
    )
    // Replaces the plugin's /swagger page (which loads Swagger UI from unpkg) with one served from here.
    .use(swaggerUi("Helios Analytics API"))
    .get("/api/", ({ request }) => ({
      outcomes: new URL("/api/outcomes/", absoluteUrl(request)).toString(),
      dead_letters: new URL("/api/dead_letters/", absoluteUrl(request)).toString(),
    }), {
      detail: {
        tags: ["outcomes"],
        summary: "Router root: links to the collections",
        responses: { 200: { description: "Absolute URL of each collection.", content: { "application/json": { schema: ApiRoot } } } },
      },
    })
    .use(healthRoutes(sql))
    .use(outcomesRoutes(sql, aggregates))
    .use(deadLettersRoutes(sql))
    .use(ingestStatusRoutes(sql))
    .use(consoleRoutes());
}
