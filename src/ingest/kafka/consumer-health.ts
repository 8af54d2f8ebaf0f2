// The consumer's small HTTP server on CONSUMER_HEALTH_PORT: what Kubernetes probes and Prometheus
// scrapes (k8s/consumer-deployment.yaml, port "metrics"; compose.yaml publishes it on 9464).
//
//   GET /healthz  200 while the process runs and its consume loop has not ended
//   GET /readyz   200 when this member is in the consumer group and the database answered recently;
//                 503 {"status":"unavailable","reason":…} otherwise (starting, rebalancing after a
//                 broker failure, database writes failing and being retried, stopping)
//   GET /metrics  Prometheus text (consumer-metrics.ts + process metrics)
//
// Served through src/runtime.ts, so the same server runs under Bun and Deno.
import type { Registry } from "prom-client";
import { allowedMethods, methodRefusal, routePattern } from "../../http/methods";
import { METRICS_CONTENT_TYPE, renderMetrics } from "../../metrics/registry";
import { type HttpServer, serve } from "../../runtime";
import type { ConsumerStats } from "./consumer";

/** A batch or the lag record that succeeded this recently proves the database answers; older, readiness pings it. */
export const DATABASE_FRESH_MS = 10_000;
/** Kubernetes gives a probe 2 s (k8s/consumer-deployment.yaml timeoutSeconds): answer before that. */
export const DATABASE_PING_TIMEOUT_MS = 1_500;

export type Readiness = { ready: true } | { ready: false; reason: string } | { ready: "ask-database" };

/**
 * Readiness from the consumer's own figures; "ask-database" when only a fresh answer from the
 * database is missing (an idle consumer writes nothing, so no batch proves the database is up).
 */
export function consumerReadiness(stats: ConsumerStats, now: number): Readiness {
  switch (stats.state) {
    case "starting":
      return { ready: false, reason: "starting: connecting to Kafka" };
    case "stopping":
    case "stopped":
      return { ready: false, reason: "stopping" };
    case "retrying":
      return { ready: false, reason: `database writes failing, retrying: ${stats.dbError ?? "unknown error"}` };
  }
  if (!stats.inGroup) return { ready: false, reason: "not a member of the consumer group (joining, or rejoining after a Kafka failure)" };
  if (stats.dbAnsweredAt !== null && now - stats.dbAnsweredAt <= DATABASE_FRESH_MS) return { ready: true };
  return { ready: "ask-database" };
}

/** Liveness: the process answers, and its consume loop has not ended (it exits right after). */
export function consumerLiveness(stats: ConsumerStats): { live: boolean; reason?: string } {
  return stats.state === "stopped" ? { live: false, reason: "the consume loop has stopped" } : { live: true };
}

export interface ConsumerHealthDeps {
  port: number;
  stats: ConsumerStats;
  registry: Registry;
  /** `select 1` on the consumer's pool, bounded by DATABASE_PING_TIMEOUT_MS. */
  pingDatabase: () => Promise<void>;
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", "cache-control": "no-store" } });

const unavailable = (reason: string) => json({ status: "unavailable", reason }, 503);

async function readyz({ stats, pingDatabase }: ConsumerHealthDeps): Promise<Response> {
  const readiness = consumerReadiness(stats, Date.now());
  if (readiness.ready === true) return json({ status: "ready" });
  if (readiness.ready === false) return unavailable(readiness.reason);
  try {
    await pingDatabase();
    return json({ status: "ready" });
  } catch (error) {
    return unavailable(`database unavailable: ${(error as Error)?.message ?? String(error)}`);
  }
}

/**
 * The paths it serves, each a GET (and so HEAD), with or without a trailing slash as the API's
 * routes; the 404 and the 405 with its Allow header are derived from this table.
 */
const ROUTES: { method: string; path: string; handle: (deps: ConsumerHealthDeps) => Promise<Response> | Response }[] = [
  {
    method: "GET",
    path: "/healthz",
    handle: ({ stats }) => {
      const { live, reason } = consumerLiveness(stats);
      return live ? json({ status: "ok" }) : json({ status: "stopped", reason }, 503);
    },
  },
  { method: "GET", path: "/readyz", handle: readyz },
  {
    method: "GET",
    path: "/metrics",
    handle: async ({ registry }) => new Response(await renderMetrics(registry), { headers: { "content-type": METRICS_CONTENT_TYPE } }),
  },
];
const methodsOn = allowedMethods(ROUTES);
const patterns = new Map(ROUTES.map((route) => [route, routePattern(route.path)]));

export function consumerHealthHandler(deps: ConsumerHealthDeps): (request: Request) => Promise<Response> {
  return async (request) => {
    const path = new URL(request.url).pathname;
    // HEAD is answered by the GET route; the server sends no body for it.
    const method = request.method === "HEAD" ? "GET" : request.method;
    const route = ROUTES.find((candidate) => candidate.method === method && patterns.get(candidate)!.test(path));
    if (route) return route.handle(deps);
    const allowed = methodsOn(path);
    if (allowed.length === 0) return json({ detail: "Not found." }, 404);
    const { detail, allow } = methodRefusal(request.method, allowed);
    const refused = json({ detail }, 405);
    refused.headers.set("allow", allow);
    return refused;
  };
}

/** Listens on all interfaces (probes come from the kubelet, scrapes from Prometheus); throws if the port is taken. */
export function startConsumerHealthServer(deps: ConsumerHealthDeps): HttpServer {
  return serve({ port: deps.port, fetch: consumerHealthHandler(deps), maxRequestBodySize: 1024 });
}
