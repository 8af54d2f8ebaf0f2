// The outcomes plugin: validate the raw query → Filters → repository → render.
import type { TObject, TSchema } from "@sinclair/typebox";
import { Elysia } from "elysia";
import type { Sql } from "../db/client";
import { notFound } from "../http/errors";
import { invalidParameterResponse, jsonResponse, notFoundResponse, openApiQueryParameters } from "../http/openapi";
import { numberedPage, pagePosition, refuseDeepOffset } from "../http/pagination";
import { validateQuery } from "../http/query";
import { absoluteUrl, withParams } from "../http/urls";
import { outcomesAvailableFrom } from "../storage/storage.repository";
import { epochMs, parseIsoTimestamp } from "../values/timestamps";
import { AggregateCache } from "./aggregate-cache";
import { countOutcomes, topBy } from "./outcomes.aggregates";
import { type Filters, parseFilters } from "./outcomes.filters";
import { groupedAggregates } from "./outcomes.grouped";
import { decodeCursor, encodeCursor, type OrderKey, orderingText, parseOrdering } from "./outcomes.paging";
import { PartitionRanges } from "./outcomes.partition-ranges";
import { renderDailyStat, renderOutcome, renderOutcomeDetail, renderStats, renderTopEntry } from "./outcomes.render";
import { findOutcome, listOutcomesAfter, listOutcomesPage, type OutcomeRow } from "./outcomes.repository";
import {
  DailyStats,
  DailyStatsQuery,
  type OutcomeListQuery as ListQuery,
  OutcomeDetail,
  OutcomeFilterQuery,
  OutcomeListQuery,
  OutcomePage,
  OutcomeStats,
  TimeSeries,
  TimeSeriesQuery,
  TopList,
  TopQuery,
} from "./outcomes.schema";
import { bucketStarts, checkBucketCount, checkCount, closeSpan, fillSeries, requestedSpan, seriesRows } from "./outcomes.series";
import { UTC, ZoneNames } from "./outcomes.zones";

const errorResponses = { 400: invalidParameterResponse, 404: notFoundResponse() };

/** The exact number of outcomes matching `filters` (the list envelope's `count`). */
type Counter = (filters: Filters) => Promise<number>;

/** What every list page reads besides its rows: the count, and which partitions hold what. */
interface ListReads {
  count: Counter;
  ranges: PartitionRanges;
}

async function listPage(sql: Sql, { count, ranges }: ListReads, request: Request, query: ListQuery, filters: Filters): Promise<OutcomePage> {
  const keys = parseOrdering(query.ordering);
  const at = pagePosition(query);
  const url = absoluteUrl(request);
  if (query.cursor !== undefined) return cursorPage(sql, { count, ranges }, url, filters, keys, query.cursor, at.pageSize);
  await refuseDeepOffset(at, () => count(filters), "a smaller page, or keyset pagination with cursor=");
  const [total, rows] = await Promise.all([count(filters), listOutcomesPage(sql, filters, keys, at.pageSize, at.offset, ranges)]);
  return numberedPage(url, at, total, rows.map(renderOutcome));
}

async function cursorPage(
  sql: Sql,
  { count, ranges }: ListReads,
  url: URL,
  filters: Filters,
  keys: OrderKey[],
  text: string,
  pageSize: number,
): Promise<OutcomePage> {
  const cursor = text === "" ? null : decodeCursor(text, keys);
  // One extra row tells whether there is more in the direction of travel.
  const [total, fetched] = await Promise.all([count(filters), listOutcomesAfter(sql, filters, keys, cursor, pageSize + 1, ranges)]);
  const backwards = cursor !== null && !cursor.forward;
  const more = fetched.length > pageSize;
  const rows = more ? (backwards ? fetched.slice(1) : fetched.slice(0, pageSize)) : fetched;
  const link = (row: OutcomeRow | undefined, forward: boolean) =>
    row
      ? withParams(url, { page: null, cursor: encodeCursor({ ordering: orderingText(keys), values: keys.map((k) => String(row[k.field])), forward }) })
      : null;
  const hasNext = backwards ? true : more;
  const hasPrevious = cursor === null ? false : backwards ? more : true;
  return {
    count: total,
    next: hasNext ? link(rows[rows.length - 1], true) : null,
    previous: hasPrevious ? link(rows[0], false) : null,
    results: rows.map(renderOutcome),
  };
}

/** `cache` keeps aggregate answers until the data changes; the default keeps nothing. */
export function outcomesRoutes(sql: Sql, cache: AggregateCache = AggregateCache.disabled(), zones = new ZoneNames(sql)) {
  // Keys are the question asked: its kind and every argument, filters included.
  const cached = <T>(kind: string, args: unknown[], compute: () => Promise<T>) => cache.answer(`${kind} ${JSON.stringify(args)}`, compute);
  // After retention dropped partitions, the rollups still count their outcomes: the list's count
  // is the outcomes it can page through, so it starts where individual outcomes start.
  const partitionRanges = new PartitionRanges(sql);
  const availableFrom = () => cached("available-from", [], () => outcomesAvailableFrom(sql));
  const count: Counter = (filters) => cached("count", [filters], async () => countOutcomes(sql, fromAvailable(filters, await availableFrom())));
  const reads: ListReads = { count, ranges: partitionRanges };
  const listDoc = (summary: string) => ({
    summary,
    parameters: openApiQueryParameters(OutcomeListQuery),
    responses: { 200: jsonResponse(OutcomePage, "One page of outcomes, full records."), ...errorResponses },
  });
  const filterDoc = (summary: string, schema: TSchema, description: string, query: TObject = OutcomeFilterQuery) => ({
    summary,
    parameters: openApiQueryParameters(query),
    responses: { 200: jsonResponse(schema, description), 400: invalidParameterResponse },
  });

  return new Elysia({ name: "outcomes-routes" })
    .get(
      "/api/outcomes/",
      async ({ request }) => {
        const query = validateQuery(OutcomeListQuery, new URL(request.url).searchParams);
        return listPage(sql, reads, request, query, parseFilters(query));
      },
      { detail: { tags: ["outcomes"], ...listDoc("List auction outcomes (also the legacy health probe)") } },
    )
    .get(
      "/api/outcomes/winners/",
      async ({ request }) => {
        const query = validateQuery(OutcomeListQuery, new URL(request.url).searchParams);
        return listPage(sql, reads, request, query, winnersOf(parseFilters(query)));
      },
      { detail: { tags: ["outcomes"], ...listDoc("List won auctions") } },
    )
    .get(
      "/api/outcomes/stats/",
      async ({ request }) => {
        const query = validateQuery(OutcomeFilterQuery, new URL(request.url).searchParams);
        const filters = parseFilters(query);
        // The total row alone (no dimension, no group listed).
        const grouping = { dims: [], tz: UTC };
        const [total] = await cached("stats", [filters], () => groupedAggregates(sql, filters, grouping, { by: "outcomes", desc: true, limit: 0 }));
        return renderStats(total!);
      },
      { detail: { tags: ["outcomes"], ...filterDoc("Totals, revenue, averages and win rate", OutcomeStats, "Aggregate figures over the filtered outcomes.") } },
    )
    .get(
      "/api/outcomes/daily_stats/",
      async ({ request }) => {
        const query = validateQuery(DailyStatsQuery, new URL(request.url).searchParams);
        const filters = parseFilters(query);
        const grouping = { dims: ["day"] as const, tz: await zones.resolve(query.tz) };
        // The rendered days are kept, not their rows: a cached answer is then served as it is.
        return cached("daily", [filters, grouping.tz], async () =>
          (await groupedAggregates(sql, filters, grouping, { by: "day", desc: true })).filter((row) => row.rank !== "0").map(renderDailyStat),
        );
      },
      {
        detail: {
          tags: ["outcomes"],
          ...filterDoc(
            "Per day (UTC, or the zone of tz): totals, wins, revenue, average win price, revenue per currency",
            DailyStats,
            "One entry per day with outcomes, newest first.",
            DailyStatsQuery,
          ),
        },
      },
    )
    .get(
      "/api/outcomes/timeseries/",
      async ({ request }): Promise<TimeSeries> => {
        const query = validateQuery(TimeSeriesQuery, new URL(request.url).searchParams);
        const filters = parseFilters(query);
        const interval = query.interval === "minute" || query.interval === "hour" ? query.interval : "day";
        const tz = await zones.resolve(query.tz);
        const requested = requestedSpan(filters, interval);
        checkBucketCount(requested, interval);
        const points = await cached("series", [filters, interval, tz], async () => {
          const rows = seriesRows(await groupedAggregates(sql, filters, { dims: [interval], tz }, { by: interval, desc: false }));
          const span = closeSpan(requested, rows, interval);
          if (!span) return [];
          checkBucketCount(span, interval);
          const starts = await bucketStarts(sql, filters, rows, interval, tz);
          checkCount(starts.length, interval);
          return fillSeries(rows, starts);
        });
        return { interval, results: points };
      },
      {
        detail: {
          tags: ["outcomes"],
          summary: "Per minute, hour or day (UTC, or the zone of tz): outcomes, wins and revenue, oldest first",
          parameters: openApiQueryParameters(TimeSeriesQuery),
          responses: { 200: jsonResponse(TimeSeries, "One point per bucket of the period, empty buckets as zeros."), 400: invalidParameterResponse },
        },
      },
    )
    .get(
      "/api/outcomes/top/",
      async ({ request }): Promise<TopList> => {
        const query = validateQuery(TopQuery, new URL(request.url).searchParams);
        const by = query.by === "user_id" ? "user_id" : "site_domain";
        const filters = parseFilters(query);
        const limit = query.limit ? Number(query.limit) : 10;
        const rows = await cached("top", [filters, by, limit], () => topBy(sql, filters, by, limit));
        return { by, results: rows.map(renderTopEntry) };
      },
      {
        detail: {
          tags: ["outcomes"],
          summary: "Top site domains or users by revenue",
          parameters: openApiQueryParameters(TopQuery),
          responses: { 200: jsonResponse(TopList, "The groups with the highest revenue over the filtered outcomes."), 400: invalidParameterResponse },
        },
      },
    )
    .get(
      "/api/outcomes/:id/",
      async ({ request, params }) => {
        const query = validateQuery(OutcomeFilterQuery, new URL(request.url).searchParams);
        const filters = parseFilters(query);
        // Django's router matched any segment and answered 404 when it was not an id.
        if (!/^[1-9]\d{0,17}$/.test(params.id)) throw notFound();
        const row = await findOutcome(sql, params.id, filters, partitionRanges);
        if (!row) throw notFound();
        return renderOutcomeDetail(row);
      },
      {
        detail: {
          tags: ["outcomes"],
          summary: "One outcome, with raw_data",
          parameters: [{ name: "id", in: "path", required: true, schema: { type: "integer", minimum: 1 } }, ...openApiQueryParameters(OutcomeFilterQuery)],
          responses: { 200: jsonResponse(OutcomeDetail, "The full record and the message as received."), ...errorResponses },
        },
      },
    );
}

/** `filters` starting no earlier than `availableFrom` (ISO, PostgreSQL text or null: no bound). */
export function fromAvailable(filters: Filters, availableFrom: string | null): Filters {
  if (availableFrom === null) return filters;
  const bound = parseIsoTimestamp(availableFrom.replace(" ", "T").replace(/\+00$/, "Z"))!;
  if (filters.from !== undefined && epochMs(filters.from).ms >= epochMs(bound).ms) return filters;
  return { ...filters, from: bound };
}

/** winners/ is the list restricted to wins: an explicit win_status=false there matches nothing. */
export function winnersOf(filters: Filters): Filters {
  return filters.winStatus === false ? { ...filters, matchNothing: true } : { ...filters, winStatus: true };
}
