// The buckets of a time series: which ones a request spans, the bound on how many, and the
// filling of empty buckets so a chart gets one point per bucket. The bucket starts of a zone come
// from PostgreSQL (the one list of the zone's rules): a day in Europe/Berlin is 23 or 25 hours
// twice a year, and an hour in Asia/Kolkata starts at half past a UTC hour.
import type { Sql } from "../db/client";
import { ApiError } from "../http/errors";
import { renderPrice } from "../values/decimals";
import { epochMs } from "../values/timestamps";
import type { Filters } from "./outcomes.filters";
import type { GroupRow } from "./outcomes.grouped";
import { ceilTo, floorTo } from "./outcomes.rollup-plan";
import { MAX_MINUTE_BUCKETS, MAX_SERIES_BUCKETS, type TimeSeriesPoint } from "./outcomes.schema";

export type Interval = "minute" | "hour" | "day";

/** One bucket with outcomes. */
export interface SeriesRow {
  /** Start of the bucket, ISO-8601 UTC (`2025-10-25T12:00:00Z`). */
  bucket: string;
  total: string;
  wins: string;
  revenue: string | null;
}

/** Grouped rows by one time dimension (outcomes.grouped.ts, total left out) as series rows. */
export function seriesRows(rows: readonly GroupRow[]): SeriesRow[] {
  return rows.filter((row) => row.rank !== "0").map((row) => ({ bucket: row.s0!, total: row.outcomes, wins: row.wins, revenue: row.revenue }));
}

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

/**
 * Refuses a span of more buckets than the interval allows, naming the parameter to change. Counted
 * in UTC-width buckets first (before any query); a zone's days differ from that by at most one.
 */
export function checkBucketCount(span: Span, interval: Interval): void {
  // Minutes are counted from the outcomes themselves: an open end would group every outcome stored
  // before the count could refuse it.
  if (interval === "minute" && (span.start === undefined || span.end === undefined)) {
    throw new ApiError(400, "Invalid query parameter: interval.", {
      interval: [`interval=minute needs both from and to, at most ${MAX_BUCKETS.minute} minutes apart; or use interval=hour.`],
    });
  }
  if (span.start === undefined || span.end === undefined) return;
  checkCount(Math.max(0, (span.end - span.start) / BUCKET_MS[interval]), interval);
}

/** The same bound on the zone's own buckets, once listed. */
export function checkCount(count: number, interval: Interval): void {
  if (count <= MAX_BUCKETS[interval]) return;
  throw new ApiError(400, "Invalid query parameter: interval.", {
    interval: [`The period spans ${count} ${BUCKET_WORD[interval]} buckets: expected at most ${MAX_BUCKETS[interval]}; narrow from/to${COARSER[interval]}.`],
  });
}

/**
 * The start of every bucket of the zone from the one holding `from` (else the first row's) to the
 * one holding the instant before `to` (else the last row's), ISO-8601 UTC, oldest first. Minutes
 * and hours step by their width from the zone's minute or hour start (a zone's minute is a UTC
 * minute whenever its offset is whole minutes); days step by a local day and are converted back,
 * so a daylight-saving day is 23 or 25 hours long. Call after checkBucketCount bounded the span.
 */
export async function bucketStarts(sql: Sql, filters: Filters, rows: readonly SeriesRow[], interval: Interval, tz: string): Promise<string[]> {
  const first = filters.from ?? rows[0]?.bucket;
  const last =
    filters.to !== undefined
      ? sql`${filters.to}::timestamptz - interval '1 microsecond'`
      : rows.length > 0
        ? sql`${rows[rows.length - 1]!.bucket}::timestamptz`
        : null;
  if (first === undefined || last === null) return [];
  const start = sql`date_trunc(${interval}, ${first}::timestamptz, ${tz})`;
  const end = sql`date_trunc(${interval}, ${last}, ${tz})`;
  const starts =
    interval === "day"
      ? sql`select d at time zone ${tz} as b from generate_series(${start} at time zone ${tz}, ${end} at time zone ${tz}, interval '1 day') d`
      : sql`select b from generate_series(${start}, ${end}, ${`1 ${interval}`}::interval) b`;
  const listed = await sql<{ bucket: string }[]>`
    select to_char(b at time zone 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS"Z"') as bucket from (${starts}) s order by b`;
  return listed.map((row) => row.bucket);
}

/**
 * One point per bucket, oldest first; buckets without outcomes are zeros. A row whose bucket the
 * list lacks is kept all the same (a zone rule PostgreSQL applies differently to the two), so no
 * outcome is ever dropped from the series.
 */
export function fillSeries(rows: readonly SeriesRow[], starts: readonly string[]): TimeSeriesPoint[] {
  const byBucket = new Map(rows.map((row) => [row.bucket, row]));
  const buckets = [...new Set([...starts, ...byBucket.keys()])].sort((a, b) => epochMs(a).ms - epochMs(b).ms);
  return buckets.map((bucket) => {
    const row = byBucket.get(bucket);
    return {
      bucket,
      outcomes: row ? Number(row.total) : 0,
      wins: row ? Number(row.wins) : 0,
      revenue: renderPrice(row?.revenue ?? "0"),
    };
  });
}
