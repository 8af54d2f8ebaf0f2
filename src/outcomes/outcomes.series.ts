// The buckets of a time series: which ones a request spans, the bound on how many, and the
// filling of empty buckets so a chart gets one point per bucket (pure; SQL is in aggregates).
import { ApiError } from "../http/errors";
import { renderPrice } from "../values/decimals";
import { epochMs } from "../values/timestamps";
import type { SeriesRow } from "./outcomes.aggregates";
import type { Filters } from "./outcomes.filters";
import { ceilTo, floorTo } from "./outcomes.rollup-plan";
import { MAX_MINUTE_BUCKETS, MAX_SERIES_BUCKETS, type TimeSeriesPoint } from "./outcomes.schema";

export type Interval = "minute" | "hour" | "day";

export const BUCKET_MS: Record<Interval, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** Minutes are in no rollup: they are counted from the period's outcomes, so their span is bounded tighter. */
const MAX_BUCKETS: Record<Interval, number> = { minute: MAX_MINUTE_BUCKETS, hour: MAX_SERIES_BUCKETS, day: MAX_SERIES_BUCKETS };
const BUCKET_WORD: Record<Interval, string> = { minute: "minute", hour: "hourly", day: "daily" };
const COARSER: Record<Interval, string> = { minute: " or use interval=hour", hour: " or use interval=day", day: "" };

/** Epoch ms of bucket starts; end is exclusive. An end is undefined when the request left it open. */
export interface Span {
  start?: number;
  end?: number;
}

/** The buckets [from, to) touches: the one holding `from` up to the one holding the instant before `to`. */
export function requestedSpan(filters: Filters, interval: Interval): Span {
  const unit = BUCKET_MS[interval];
  return {
    start: filters.from === undefined ? undefined : epochMs(floorTo(filters.from, unit).iso).ms,
    end: filters.to === undefined ? undefined : epochMs(ceilTo(filters.to, unit).iso).ms,
  };
}

/** Open ends close on the first and last bucket with outcomes; no outcomes and an open end is empty. */
export function closeSpan(span: Span, rows: readonly SeriesRow[], interval: Interval): Required<Span> | null {
  const first = rows[0],
    last = rows[rows.length - 1];
  const start = span.start ?? (first ? Date.parse(first.bucket) : undefined);
  const end = span.end ?? (last ? Date.parse(last.bucket) + BUCKET_MS[interval] : undefined);
  if (start === undefined || end === undefined) return null;
  return { start, end };
}

/** Refuses a span of more buckets than the interval allows, naming the parameter to change. */
export function checkBucketCount(span: Span, interval: Interval): void {
  if (span.start === undefined || span.end === undefined) return;
  const count = Math.max(0, (span.end - span.start) / BUCKET_MS[interval]);
  if (count <= MAX_BUCKETS[interval]) return;
  throw new ApiError(400, "Invalid query parameter: interval.", {
    interval: [`The period spans ${count} ${BUCKET_WORD[interval]} buckets: expected at most ${MAX_BUCKETS[interval]}; narrow from/to${COARSER[interval]}.`],
  });
}

function bucketText(ms: number): string {
  return new Date(ms).toISOString().replace(".000Z", "Z");
}

/** One point per bucket of the span, oldest first; buckets without outcomes are zeros. */
export function fillSeries(rows: readonly SeriesRow[], span: Required<Span>, interval: Interval): TimeSeriesPoint[] {
  const byBucket = new Map(rows.map((row) => [row.bucket, row]));
  const points: TimeSeriesPoint[] = [];
  for (let ms = span.start; ms < span.end; ms += BUCKET_MS[interval]) {
    const bucket = bucketText(ms);
    const row = byBucket.get(bucket);
    points.push({
      bucket,
      outcomes: row ? Number(row.total) : 0,
      wins: row ? Number(row.wins) : 0,
      revenue: renderPrice(row?.revenue ?? "0"),
    });
  }
  return points;
}
