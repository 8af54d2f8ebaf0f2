// The soak's flatness measure (bench/rss-growth.ts).
import { describe, expect, test } from "bun:test";
import { rssGrowth } from "../../bench/rss-growth";

const every10s = (values: number[]) => values.map((mib, i) => [i * 10, mib] as const);

describe("rssGrowth", () => {
  test("calls a band that breathes between the same bounds flat, wherever the first and last reading fell", () => {
    // Two warm-up readings, then the same band twice: low at the first reading after warm-up and
    // high at the last, so +40% first to last, and no growth.
    const breathing = every10s([30, 90, 100, 150, 120, 130, 110, 140, 110, 130, 150, 100, 120, 140]);
    const growth = rssGrowth(breathing, 20);
    expect(growth.fromS).toBe(20);
    expect(growth.firstLastPct).toBe(40);
    expect(growth.medianPct).toBe(0);
    expect(growth.peakPct).toBe(0);
  });

  test("sees a leak that lifts the whole band", () => {
    const leaking = every10s(Array.from({ length: 20 }, (_, i) => 100 + i * 3 + (i % 2 ? 20 : 0)));
    const growth = rssGrowth(leaking, 0);
    // Earlier half 100…147 (median 123.5), later half 130…177 (median 153.5): both moved by about a quarter.
    expect(growth.medianPct).toBeCloseTo(((153.5 - 123.5) / 123.5) * 100, 6);
    expect(growth.peakPct).toBeCloseTo(((177 - 147) / 147) * 100, 6);
  });

  test("sees one new peak even when the median stays", () => {
    const spike = every10s([100, 110, 100, 110, 105, 105, 100, 110, 100, 160]);
    const growth = rssGrowth(spike, 0);
    expect(growth.medianPct).toBe(0);
    expect(growth.peakPct).toBeCloseTo(((160 - 110) / 110) * 100, 6);
  });

  test("falls back to first against last with fewer than four readings", () => {
    expect(rssGrowth(every10s([100, 120, 110]), 0)).toEqual({ fromS: 0, medianPct: 10, peakPct: 10, firstLastPct: 10 });
  });
});
