// The API's Prometheus metrics and the Elysia plugin that records them and serves GET /metrics.
// Names are part of the operators' dashboards and alerts: keep them stable (docs/operations.md, "Metrics").
//
//   http_requests_total{method,route,status}              counter
//   http_request_duration_seconds{method,route,status}    histogram
//   http_requests_in_flight                               gauge
//   db_pool_connections_in_use / _idle / _max             gauges (see db-pool.ts for how they are counted)
//   db_queries_in_flight                                  gauge
//   aggregate_cache_lookups_total{outcome}                counter (hit | miss | bypass)
//   + process metrics from registry.ts
//
// `route` is the template the router matched (/api/outcomes/:id/), never the raw path, so the
// number of series stays bounded whatever clients send; requests that match no route (404s,
// refused Host headers) are counted under route="unmatched".
import { Elysia } from "elysia";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Sql } from "../db/client";
import { countQueries, QueryCounter } from "./db-pool";
import { createComponentRegistry, METRICS_CONTENT_TYPE, renderMetrics } from "./registry";

export const UNMATCHED_ROUTE = "unmatched";

type RequestLabels = "method" | "route" | "status";

export interface ApiMetrics {
  registry: Registry;
  requests: Counter<RequestLabels>;
  duration: Histogram<RequestLabels>;
  inFlight: Gauge;
  queries: QueryCounter;
  cacheLookups: Counter<"outcome">;
}

/** Registers the API's metrics for a pool of `poolMax` connections in a fresh registry. */
export function createApiMetrics(poolMax: number): ApiMetrics {
  const registry = createComponentRegistry();
  const queries = new QueryCounter(poolMax);
  const registers = [registry];
  new Gauge({
    name: "db_pool_connections_in_use",
    help: "Pool connections running a query (min of queries in flight and the pool size).",
    registers,
    collect() {
      this.set(queries.inUse);
    },
  });
  new Gauge({
    name: "db_pool_connections_idle",
    help: "Pool slots not running a query (pool size minus in use); some may have no open connection.",
    registers,
    collect() {
      this.set(queries.idle);
    },
  });
  new Gauge({
    name: "db_pool_connections_max",
    help: "Pool size (DB_POOL_MAX).",
    registers,
    collect() {
      this.set(queries.max);
    },
  });
  new Gauge({
    name: "db_queries_in_flight",
    help: "Queries sent to the pool and not yet settled; above the pool size they wait or pipeline.",
    registers,
    collect() {
      this.set(queries.inFlight);
    },
  });
  return {
    registry,
    queries,
    requests: new Counter({
      name: "http_requests_total",
      help: "HTTP requests answered, by method, route template and status code.",
      labelNames: ["method", "route", "status"],
      registers,
    }),
    duration: new Histogram({
      name: "http_request_duration_seconds",
      help: "Time from receiving a request to having its response, by method, route template and status code.",
      labelNames: ["method", "route", "status"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    inFlight: new Gauge({ name: "http_requests_in_flight", help: "HTTP requests being handled now.", registers }),
    cacheLookups: new Counter({
      name: "aggregate_cache_lookups_total",
      help: "Aggregate answers asked for (stats, daily stats, counts, series, top): hit from memory, miss (queried), bypass (cache off or change feed not listening).",
      labelNames: ["outcome"],
      registers,
    }),
  };
}

/** The client to hand to routes: the same pool, its queries counted for the pool gauges. */
export function instrumentedSql(sql: Sql, metrics: ApiMetrics): Sql {
  return countQueries(sql, metrics.queries);
}

/**
 * Records every request and serves GET /metrics. Use it before the routes it should see:
 * the route template is read in a global transform hook, which runs after routing.
 */
export function apiMetrics(metrics: ApiMetrics) {
  const routeOf = new WeakMap<Request, string>();
  const record = (request: Request, began: number, status: number) => {
    const labels = { method: request.method, route: routeOf.get(request) ?? UNMATCHED_ROUTE, status: String(status) };
    metrics.requests.inc(labels);
    metrics.duration.observe(labels, (performance.now() - began) / 1000);
    metrics.inFlight.dec();
  };
  return (
    new Elysia()
      // wrap() sees the finished Response of every request, including ones answered by onRequest
      // or onError, whose status onAfterResponse does not report reliably (Elysia 1.4).
      .wrap(((handle: (...args: unknown[]) => unknown, request: Request) =>
        (...args: unknown[]) => {
          const began = performance.now();
          metrics.inFlight.inc();
          const done = (response: Response) => {
            record(request, began, response.status);
            return response;
          };
          const failed = (error: unknown) => {
            record(request, began, 500);
            throw error;
          };
          try {
            const result = handle(...args);
            return result instanceof Promise ? result.then(done, failed) : done(result as Response);
          } catch (error) {
            return failed(error);
          }
        }) as never)
      .onTransform({ as: "global" }, ({ request, route }) => {
        routeOf.set(request, route);
      })
      .get("/metrics", async () => new Response(await renderMetrics(metrics.registry), { headers: { "content-type": METRICS_CONTENT_TYPE } }), {
        detail: { tags: ["health"], summary: "Prometheus metrics (text exposition format)" },
      })
  );
}
