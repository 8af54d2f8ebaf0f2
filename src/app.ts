// The composition root of the HTTP side: request limits, auth/CORS/security headers, host check,
// request log, one error shape, health, every feature's routes, Swagger, the console.
import { swagger } from "@elysiajs/swagger";
import { Elysia } from "elysia";
import type { Config } from "./config";
import { consoleRoutes } from "./console/console.routes";
import type { ChangeSignal } from "./db/change-feed";
import type { Sql } from "./db/client";
import { isStatementTimeout, isUnavailable } from "./db/errors";
import { deadLettersRoutes } from "./dead-letters/dead-letters.routes";
import { healthRoutes } from "./health/health.routes";
import { ApiError, errorResponse, methodNotAllowed, notFound } from "./http/errors";
import { requestLimits } from "./http/limits";
import { allowedMethods } from "./http/methods";
import { bearerAuthDocumentation } from "./http/openapi";
import { logEachRequest, type RequestLog } from "./http/request-log";
import { security } from "./http/security";
import { swaggerUi } from "./http/swagger-ui";
import { absoluteUrl } from "./http/urls";
import { ingestStatusRoutes } from "./ingest/ingest-status.routes";
import { type Logger, redact } from "./log";
import { apiMetrics, createApiMetrics, instrumentedSql } from "./metrics/api-metrics";
import { AggregateCache } from "./outcomes/aggregate-cache";
import { breakdownRoutes } from "./outcomes/outcomes.breakdown.routes";
import { outcomesExportRoutes } from "./outcomes/outcomes.export.routes";
import { priceDistributionRoutes } from "./outcomes/outcomes.price-distribution.routes";
import { outcomesRoutes } from "./outcomes/outcomes.routes";
import { ApiRoot } from "./outcomes/outcomes.schema";
import { ZoneNames } from "./outcomes/outcomes.zones";
import { registerStorageMetrics } from "./storage/storage.metrics";
import { readStorageState } from "./storage/storage.repository";
import { storageRoutes } from "./storage/storage.routes";

export interface AppDeps {
  config: Config;
  sql: Sql;
  log: Logger;
  /** Moves when auction_outcomes changes; without it aggregate answers are never kept in memory. */
  changes?: ChangeSignal;
  /** Where each answered request goes; default: one "HTTP request" line (the demo counts them instead). */
  requestLog?: RequestLog;
}

/** A plain object or array, which Elysia serialises as JSON (not a Response, a string, a file…). */
function isJsonBody(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  return Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype;
}

export function createApp({ config, sql, log, changes, requestLog = logEachRequest(log) }: AppDeps) {
  // Every route below gets the same pool with its queries counted for the db_pool_* gauges.
  const metrics = createApiMetrics(sql.options.max);
  sql = instrumentedSql(sql, metrics);
  registerStorageMetrics(metrics.registry, () => readStorageState(sql));
  const aggregates = new AggregateCache(changes, {
    ttlMs: config.aggregateCacheTtlMs,
    onLookup: (outcome) => metrics.cacheLookups.inc({ outcome }),
  });
  const zones = new ZoneNames(sql);
  const started = new WeakMap<Request, number>();
  const logRequest = (request: Request, status: number) => {
    const began = started.get(request);
    requestLog({
      method: request.method,
      path: new URL(request.url).pathname,
      status,
      duration_ms: began === undefined ? undefined : Math.round((performance.now() - began) * 100) / 100,
    });
  };
  // Filled in once every route is registered (below); a 405 names the methods of the routes the path matches.
  let methodsOn: (pathname: string) => string[] = () => [];
  /** No route for this method: a 405 when another method has one for the path, else a 404. */
  const unrouted = (request: Request): ApiError => {
    const allowed = methodsOn(new URL(request.url).pathname);
    return allowed.length > 0 && !allowed.includes(request.method) ? methodNotAllowed(request.method, allowed) : notFound();
  };
  /** Whatever was thrown, as the ApiError the client gets. */
  const apiErrorOf = (error: unknown, code: unknown, request: Request): ApiError => {
    if (error instanceof ApiError) return error;
    if (code === "NOT_FOUND") return unrouted(request);
    if (code === "PARSE" || code === "VALIDATION") return new ApiError(400, "Malformed request.");
    if (isUnavailable(error)) {
      log.warn("Database unavailable", { path: new URL(request.url).pathname, error: redact(String((error as Error).message), config.secrets) });
      const detail = isStatementTimeout(error)
        ? `The query ran longer than the ${config.db.statementTimeoutMs} ms statement timeout and was cancelled; try again shortly or narrow the filters.`
        : "The database is unavailable or too slow right now; try again shortly.";
      return new ApiError(503, detail, undefined, { "retry-after": "1" });
    }
    log.error("Unhandled error", { path: new URL(request.url).pathname, error: error as Error, stack: (error as Error).stack });
    const debug = config.debug ? { debug: { message: (error as Error).message, stack: (error as Error).stack } } : {};
    return new ApiError(500, "Internal server error.", undefined, {}, debug);
  };
  // Wraps nest outward in the order used: metrics see every answer, security decorates every
  // answer and checks the Host, then the token, before the limits, and only authenticated
  // requests take a place.
  const app = new Elysia({ name: "helios-analytics" })
    .use(
      requestLimits({
        maxUrlLength: config.maxUrlLength,
        maxInflight: config.apiMaxInflight,
        requestTimeoutMs: config.apiRequestTimeoutMs,
        onAnswered: logRequest,
      }),
    )
    .use(security({ config, onAnswered: logRequest }))
    .use(apiMetrics(metrics))
    // The outermost wrap (registered after the others): every answer gets a duration in the
    // request log, also those the wraps give themselves (a refused Host, a 401, a 414).
    .wrap(((handle: (...args: unknown[]) => unknown, request: Request) =>
      (...args: unknown[]) => {
        started.set(request, performance.now());
        return handle(...args);
      }) as never)
    .onError(({ error, code, request, set }) => {
      const response = errorResponse(apiErrorOf(error, code, request), config.secrets);
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
            { name: "storage", description: "How outcomes are kept: partitions, retention, from when they exist" },
          ],
          ...bearerAuthDocumentation(config.apiTokens.length > 0),
        },
      }),
    )
    // Replaces the plugin's /swagger page (which loads Swagger UI from unpkg) with one served from here.
    .use(swaggerUi("Helios Analytics API"))
    .get(
      "/api/",
      ({ request }) => ({
        outcomes: new URL("/api/outcomes/", absoluteUrl(request)).toString(),
        dead_letters: new URL("/api/dead_letters/", absoluteUrl(request)).toString(),
        storage: new URL("/api/storage/", absoluteUrl(request)).toString(),
      }),
      {
        detail: {
          tags: ["outcomes"],
          summary: "Router root: links to the collections",
          responses: { 200: { description: "Absolute URL of each collection.", content: { "application/json": { schema: ApiRoot } } } },
        },
      },
    )
    .use(healthRoutes(sql))
    .use(outcomesExportRoutes(sql, log))
    .use(priceDistributionRoutes(sql, aggregates))
    .use(breakdownRoutes(sql, zones, aggregates))
    .use(outcomesRoutes(sql, aggregates, zones))
    .use(deadLettersRoutes(sql))
    .use(ingestStatusRoutes(sql))
    .use(storageRoutes(sql, config.storage))
    .use(consoleRoutes());
  methodsOn = allowedMethods(app.routes);
  return app;
}
