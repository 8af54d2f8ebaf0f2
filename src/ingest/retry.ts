// How ingest waits before writing a batch again: capped exponential backoff with ±20 % jitter,
// so several consumers do not retry in step. Sources that write to other systems (the demo's
// Kafka producer) use the same policy.
export interface RetryPolicy {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { initialMs: 250, maxMs: 15_000 };

export function retryDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}
