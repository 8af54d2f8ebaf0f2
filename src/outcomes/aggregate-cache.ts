// Aggregate answers (stats, daily stats, counts, series, top lists) kept in memory until the data
// changes. Dashboards ask the same few questions many times a second; between two ingest commits
// the answer cannot change, so only the first asker pays for the query.
//
// An answer is served from memory only while the change feed is listening and has not moved since
// the query behind the answer started. After `ttlMs` it is queried again anyway (a backstop for a
// feed that is silently deaf, e.g. behind a transaction-pooling proxy that drops notifications);
// while that refresh runs, askers still get the kept answer, since no change was notified. So a
// deaf feed delays a change by at most ttlMs plus one query. Concurrent askers share one query.
import type { ChangeSignal } from "../db/change-feed";

export type CacheOutcome = "hit" | "miss" | "bypass";

export interface AggregateCacheOptions {
  ttlMs: number;
  /** Bound on memory: the sum of the entries' weights (rows for an array answer, 1 otherwise). */
  maxWeight?: number;
  /** Bound on the number of answers kept: each key holds the filters as asked, up to a URL's length. */
  maxEntries?: number;
  now?: () => number;
  onLookup?: (outcome: CacheOutcome) => void;
}

interface Entry {
  version: number;
  startedAt: number;
  answer: Promise<unknown>;
  weight: number;
  settled: boolean;
  /** The entry that will replace this one once its query is done (set while refreshing). */
  refresh?: Entry;
}

/** 50,000 rows of a few hundred bytes each: tens of MiB at worst, far under the API's memory budget. */
export const DEFAULT_MAX_WEIGHT = 50_000;
/** 1,000 keys of at most MAX_URL_LENGTH (4 KiB) each: a few MiB whatever filters clients invent. */
export const DEFAULT_MAX_ENTRIES = 1_000;

/** Rows for an array answer, 1 otherwise. */
const weightOf = (value: unknown) => (Array.isArray(value) ? value.length : 1);

export class AggregateCache {
  private readonly entries = new Map<string, Entry>();
  private weight = 0;
  private readonly ttlMs: number;
  private readonly maxWeight: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly onLookup: (outcome: CacheOutcome) => void;

  constructor(
    private readonly signal: ChangeSignal | undefined,
    options: AggregateCacheOptions,
  ) {
    this.ttlMs = options.ttlMs;
    this.maxWeight = options.maxWeight ?? DEFAULT_MAX_WEIGHT;
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
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

  /**
   * The answer to `key`, from memory when still valid, else from `compute` (shared while it runs).
   * `weigh` gives an answer's weight when it is not an array of rows (a rendered body holding them).
   */
  answer<T>(key: string, compute: () => Promise<T>, weigh: (value: T) => number = weightOf): Promise<T> {
    const signal = this.signal;
    if (!signal || this.ttlMs <= 0 || !signal.listening) {
      this.onLookup("bypass");
      return compute();
    }
    const version = signal.version;
    const now = this.now();
    const entry = this.entries.get(key);
    if (entry && entry.version === version) {
      if (now - entry.startedAt < this.ttlMs || !entry.settled) {
        this.onLookup("hit");
        return entry.answer as Promise<T>;
      }
      // Past its age but nothing was notified: refresh behind the kept answer.
      if (!entry.refresh) entry.refresh = this.query(key, version, now, compute, weigh as (value: unknown) => number, entry);
      this.onLookup("hit");
      return entry.answer as Promise<T>;
    }
    this.onLookup("miss");
    const fresh = this.query(key, version, now, compute, weigh as (value: unknown) => number);
    this.remove(key);
    this.entries.set(key, fresh);
    this.weight += fresh.weight;
    this.evictOverWeight();
    return fresh.answer as Promise<T>;
  }

  /** Runs `compute`; its entry is kept (or replaces `replacing`) only if no change was notified meanwhile. */
  private query(key: string, version: number, now: number, compute: () => Promise<unknown>, weigh: (value: unknown) => number, replacing?: Entry): Entry {
    const signal = this.signal!;
    const entry: Entry = { version, startedAt: now, answer: compute(), weight: 1, settled: false };
    entry.answer.then(
      (value) => {
        entry.settled = true;
        entry.weight = Math.max(1, weigh(value));
        const current = this.entries.get(key);
        // The data moved (or the feed went deaf) while the query ran: do not keep what it saw.
        const stillTrue = signal.version === version && signal.listening;
        if (replacing) {
          if (current !== replacing) return;
          replacing.refresh = undefined;
          if (!stillTrue) return;
          this.remove(key);
          this.entries.set(key, entry);
          this.weight += entry.weight;
        } else {
          if (current !== entry) return;
          if (!stillTrue) return this.remove(key);
          this.weight += entry.weight - 1;
        }
        this.evictOverWeight();
      },
      () => {
        if (replacing) {
          if (this.entries.get(key) === replacing) replacing.refresh = undefined;
        } else if (this.entries.get(key) === entry) {
          this.remove(key);
        }
      },
    );
    return entry;
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
      if (this.weight <= this.maxWeight && this.entries.size <= this.maxEntries) return;
      this.remove(key);
    }
  }
}
