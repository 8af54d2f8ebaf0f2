// Prometheus registries. The process metrics (CPU seconds, resident memory, heap, event-loop lag,
// open file descriptors, from prom-client's collectDefaultMetrics) are registered once per process;
// each component (the API, the consumer) keeps its own registry for what it counts, so a test that
// builds many apps in one process reads counters that start at zero. A scrape returns both.
import { collectDefaultMetrics, Registry } from "prom-client";

let processRegistry: Registry | undefined;

/** The one registry per process that holds the default process metrics. */
export function processMetricsRegistry(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** A fresh registry for one component's own metrics. */
export function createComponentRegistry(): Registry {
  return new Registry();
}

/** Prometheus text exposition format 0.0.4, what every Prometheus version scrapes. */
export const METRICS_CONTENT_TYPE: string = Registry.PROMETHEUS_CONTENT_TYPE;

/** The body of a `GET /metrics`: the process metrics followed by the component's. */
export async function renderMetrics(component: Registry): Promise<string> {
  return Registry.merge([processMetricsRegistry(), component]).metrics();
}
