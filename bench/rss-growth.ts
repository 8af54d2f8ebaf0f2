// Is a resident set flat? A garbage-collected process's RSS breathes by tens of MiB between two
// readings 10 s apart (garbage piling up, then a collection, then the allocator handing pages back
// late), so two single readings measure where in that cycle each fell, not growth. A leak lifts the
// whole band: its typical level (median) and its top (peak). Both are compared between the earlier
// and the later half of the readings taken after the warm-up.

export interface RssGrowth {
  /** First reading at or after the warm-up, seconds. */
  fromS: number;
  /** Later half's median against the earlier half's, percent. */
  medianPct: number;
  /** Later half's highest reading against the earlier half's, percent. */
  peakPct: number;
  /** Last reading against the first after warm-up, percent (informational: one phase against another). */
  firstLastPct: number;
}

const pct = (from: number, to: number) => (from > 0 ? ((to - from) / from) * 100 : 0);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** `readings` as [seconds, MiB] in time order. */
export function rssGrowth(readings: readonly (readonly [number, number])[], warmupS: number): RssGrowth {
  const after = readings.filter(([atS]) => atS >= warmupS);
  const used = after.length > 0 ? after : readings;
  const values = used.map(([, mib]) => mib);
  const first = used[0]!;
  const firstLastPct = pct(first[1], values[values.length - 1]!);
  if (values.length < 4) return { fromS: first[0], medianPct: firstLastPct, peakPct: firstLastPct, firstLastPct };
  const half = Math.floor(values.length / 2);
  const earlier = values.slice(0, half);
  const later = values.slice(values.length - half);
  return {
    fromS: first[0],
    medianPct: pct(median(earlier), median(later)),
    peakPct: pct(Math.max(...earlier), Math.max(...later)),
    firstLastPct,
  };
}
