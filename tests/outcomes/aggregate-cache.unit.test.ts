// The aggregate cache's rules, with a hand-driven change signal and clock.
import { describe, expect, test } from "bun:test";
import { AggregateCache, type CacheOutcome } from "../../src/outcomes/aggregate-cache";

function harness(options: { ttlMs?: number; maxWeight?: number; maxEntries?: number } = {}) {
  const signal = { version: 1, listening: true };
  let clock = 0;
  const lookups: CacheOutcome[] = [];
  const cache = new AggregateCache(signal, {
    ttlMs: options.ttlMs ?? 1000,
    maxWeight: options.maxWeight,
    maxEntries: options.maxEntries,
    now: () => clock,
    onLookup: (outcome) => lookups.push(outcome),
  });
  let queries = 0;
  const query =
    <T>(value: T) =>
    () => {
      queries++;
      return Promise.resolve(value);
    };
  return {
    signal,
    cache,
    lookups,
    query,
    get queries() {
      return queries;
    },
    advance(ms: number) {
      clock += ms;
    },
  };
}

describe("AggregateCache", () => {
  test("answers a repeated question from memory while nothing changed", async () => {
    const h = harness();
    expect(await h.cache.answer("stats", h.query({ total: "3" }))).toEqual({ total: "3" });
    expect(await h.cache.answer("stats", h.query({ total: "4" }))).toEqual({ total: "3" });
    expect(h.queries).toBe(1);
    expect(h.lookups).toEqual(["miss", "hit"]);
  });

  test("queries again once the change signal moved", async () => {
    const h = harness();
    await h.cache.answer("stats", h.query(1));
    h.signal.version++;
    expect(await h.cache.answer("stats", h.query(2))).toBe(2);
    expect(await h.cache.answer("stats", h.query(3))).toBe(2);
    expect(h.lookups).toEqual(["miss", "miss", "hit"]);
  });

  test("does not keep an answer whose query ran while the data changed", async () => {
    const h = harness();
    let finish!: (value: number) => void;
    const first = h.cache.answer("count", () => new Promise<number>((resolve) => (finish = resolve)));
    h.signal.version++;
    finish(10);
    expect(await first).toBe(10);
    expect(h.cache.size).toBe(0);
    expect(await h.cache.answer("count", h.query(11))).toBe(11);
  });

  test("shares one query between concurrent askers of the same question", async () => {
    const h = harness();
    let finish!: (value: number) => void;
    let started = 0;
    const slow = () => {
      started++;
      return new Promise<number>((resolve) => (finish = resolve));
    };
    const answers = [h.cache.answer("count", slow), h.cache.answer("count", slow), h.cache.answer("count", slow)];
    finish(7);
    expect(await Promise.all(answers)).toEqual([7, 7, 7]);
    expect(started).toBe(1);
    expect(h.lookups).toEqual(["miss", "hit", "hit"]);
  });

  test("queries again once ttlMs passed, serving the kept answer until the new one is in", async () => {
    const h = harness({ ttlMs: 1000 });
    await h.cache.answer("stats", h.query(1));
    h.advance(999);
    expect(await h.cache.answer("stats", h.query(2))).toBe(1);
    expect(h.queries).toBe(1);
    h.advance(1);
    let finish!: (value: number) => void;
    const slow = () => new Promise<number>((resolve) => (finish = resolve));
    expect(await h.cache.answer("stats", slow)).toBe(1);
    expect(await h.cache.answer("stats", h.query(4))).toBe(1);
    expect(h.queries).toBe(1);
    finish(3);
    await Bun.sleep(0);
    expect(await h.cache.answer("stats", h.query(5))).toBe(3);
    expect(h.queries).toBe(1);
    expect(h.lookups).toEqual(["miss", "hit", "hit", "hit", "hit"]);
  });

  test("keeps nothing while the change feed is not listening, and nothing when ttlMs is 0", async () => {
    const deaf = harness();
    deaf.signal.listening = false;
    await deaf.cache.answer("stats", deaf.query(1));
    await deaf.cache.answer("stats", deaf.query(2));
    expect(deaf.queries).toBe(2);
    expect(deaf.lookups).toEqual(["bypass", "bypass"]);

    const off = harness({ ttlMs: 0 });
    await off.cache.answer("stats", off.query(1));
    await off.cache.answer("stats", off.query(2));
    expect(off.queries).toBe(2);

    const disabled = AggregateCache.disabled();
    let runs = 0;
    await disabled.answer("stats", async () => ++runs);
    await disabled.answer("stats", async () => ++runs);
    expect(runs).toBe(2);
  });

  test("does not keep an answer finished after the feed went deaf", async () => {
    const h = harness();
    let finish!: (value: number) => void;
    const first = h.cache.answer("stats", () => new Promise<number>((resolve) => (finish = resolve)));
    h.signal.listening = false;
    finish(1);
    await first;
    expect(h.cache.size).toBe(0);
  });

  test("forgets a failed query so the next asker tries again", async () => {
    const h = harness();
    await expect(h.cache.answer("stats", () => Promise.reject(new Error("database down")))).rejects.toThrow("database down");
    await Bun.sleep(0);
    expect(await h.cache.answer("stats", h.query(5))).toBe(5);
    expect(h.lookups).toEqual(["miss", "miss"]);
  });

  test("evicts the oldest answers when the rows kept exceed maxWeight", async () => {
    const h = harness({ maxWeight: 5 });
    await h.cache.answer("a", h.query([1, 2, 3]));
    await h.cache.answer("b", h.query([1, 2]));
    expect(h.cache.size).toBe(2);
    await h.cache.answer("c", h.query([1]));
    await Bun.sleep(0);
    expect(h.cache.size).toBe(2);
    expect(await h.cache.answer("a", h.query(["again"]))).toEqual(["again"]);
    expect(await h.cache.answer("c", h.query([99]))).toEqual([1]);
  });

  test("keeps at most maxEntries answers, whatever filters clients invent", async () => {
    const h = harness({ maxEntries: 3 });
    for (let i = 0; i < 10; i++) await h.cache.answer(`stats {"search":"${"x".repeat(i)}"}`, h.query(i));
    expect(h.cache.size).toBe(3);
    expect(await h.cache.answer(`stats {"search":"${"x".repeat(9)}"}`, h.query(-1))).toBe(9);
    expect(await h.cache.answer(`stats {"search":""}`, h.query(-1))).toBe(-1);
  });
});
