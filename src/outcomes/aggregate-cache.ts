// Aggregate answers (stats, daily stats, counts, series, top lists) kept in memory until the data
// changes. Dashboards ask the same few questions many times a second; between two ingest commits
// the answer cannot change, so only the first asker pays for the query.
//
// An answer is served from memory only while the change feed is listening and has not moved since
// the query behind the answer started, and for at most `ttlMs` after that start (a backstop for a
// feed that is silently deaf, e.g. behind a transaction-pooling proxy that drops notifications).
// Concurrent askers of the same question share one query.
import type { ChangeSignal } from "../db/change-feed";

export type CacheOutcome = "hit" | "miss" | "bypass";

export interface AggregateCacheOptions {
  ttlMs: number;
  /** Bound on memory: the sum of the entries' weights (rows for an array answer, 1 otherwise). */
  maxWeight?: number;
  now?: () => number;
  onLookup?: (outcome: CacheOutcome) => void;
}

interface Entry {
  version: number;
  startedAt: number;
  answer: Promise<unknown>;
  weight: number;
}

/** 50,000 rows of a few hundred bytes each: tens of MiB at worst, far under the API's memory budget. */
export const DEFAULT_MAX_WEIGHT = 50_000;

export class AggregateCache {
  private readonly entries = new Map<string, Entry>();
  private weight = 0;
  private readonly ttlMs: number;
  private readonly maxWeight: number;
  private readonly now: () => number;
  private readonly onLookup: (outcome: CacheOutcome) => void;

  constructor(private readonly signal: ChangeSignal | undefined, options: AggregateCacheOptions) {
    this.ttlMs = options.ttlMs;
    this.maxWeight = options.maxWeight ?? DEFAULT_MAX_WEIGHT;
    this.now = options.now ?? (() => performance.now());
    this.onLookup = options.onLookup ?? (() => {});
  }

  /** A cache that never keeps anything: every call runs its query. */
  static disabled(): AggregateCache {
    return new AggregateCache(undefined, { ttlMs: 0 });
  }

  get size(): number {
    return this.entries.size;
  }

  /** The answer to `key`, from memory when still valid, else from `compute` (shared while it runs). */
  answer<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const signal = this.signal;
    if (!signal || this.ttlMs <= 0 || !signal.listening) {
      this.onLookup("bypass");
      return compute();
    }
    const version = signal.version;
    const now = this.now();
    const entry = this.entries.get(key);
    if (entry && entry.version === version && now - entry.startedAt < this.ttlMs) {
      this.onLookup("hit");
      return entry.answer as Promise<T>;
    }
    this.onLookup("miss");
    const answer = compute();
    const fresh: Entry = { version, startedAt: now, answer, weight: 1 };
    this.remove(key);
    this.entries.set(key, fresh);
    this.weight += fresh.weight;
    answer.then(
      (value) => {
        if (this.entries.get(key) !== fresh) return;
        // The data moved (or the feed went deaf) while the query ran: do not keep what it saw.
        if (signal.version !== version || !signal.listening) return this.remove(key);
        const weight = Array.isArray(value) ? Math.max(1, value.length) : 1;
        this.weight += weight - fresh.weight;
        fresh.weight = weight;
        this.evictOverWeight();
      },
      () => {
        if (this.entries.get(key) === fresh) this.remove(key);
      },
    );
    this.evictOverWeight();
    return answer;
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.weight -= entry.weight;
  }

  /** Oldest first: a Map iterates in insertion order and a refreshed key is re-inserted. */
  private evictOverWeight(): void {
    for (const key of this.entries.keys()) {
      if (this.weight <= this.maxWeight) return;
      this.remove(key);
    }
  }
}
