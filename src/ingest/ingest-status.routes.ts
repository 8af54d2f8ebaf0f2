// GET /api/ingest/status/: is ingest keeping up? Store rate, dead letters, consumer lag, read
// from PostgreSQL only, so the api role needs no Kafka client (the consumer writes its lag).
import { Elysia } from "elysia";
import type { Sql } from "../db/client";
import { invalidQuery } from "../http/errors";
import { invalidParameterResponse, jsonResponse, openApiQueryParameters } from "../http/openapi";
import { validateQuery } from "../http/query";
import { compareInstants, isoUtc, parseIsoTimestamp } from "../values/timestamps";
import { type ConsumerLagStoredRow, type IngestCountsRow, ingestCounts, listConsumerLag } from "./ingest-status.repository";
import { IngestStatus, IngestStatusQuery } from "./ingest-status.schema";

/** from/to as PostgreSQL-ready text; from after to is refused like the outcomes filters do. */
export function parsePeriod(query: IngestStatusQuery): { from?: string; to?: string } {
  const from = query.from ? (parseIsoTimestamp(query.from) ?? undefined) : undefined;
  const to = query.to ? (parseIsoTimestamp(query.to) ?? undefined) : undefined;
  if (from && to && compareInstants(from, to) > 0) {
    throw invalidQuery({ from: [`from ${query.from} is after to ${query.to}: expected from ≤ to.`] });
  }
  return { from, to };
}

/**
 * The seconds of a window that outcomes could have been stored in: the whole window, or less when
 * the first outcome ever stored is younger than it (a fresh database: the demo just started), so
 * the rate of a process up for 20 s is its count over 20 s, not over 60. At least 1 s.
 */
export function coveredSeconds(windowSeconds: number, storedForSeconds: number | null): number {
  if (storedForSeconds === null) return windowSeconds;
  return Math.max(1, Math.min(windowSeconds, Math.round(storedForSeconds * 1000) / 1000));
}

export function renderIngestStatus(counts: IngestCountsRow, lag: ConsumerLagStoredRow[]): IngestStatus {
  const lastMinute = Number(counts.stored_last_minute);
  const last5 = Number(counts.stored_last_5_minutes);
  const covered = { last_minute: coveredSeconds(60, counts.stored_for_seconds), last_5_minutes: coveredSeconds(300, counts.stored_for_seconds) };
  const partitions = lag.map((row) => ({
    group_id: row.group_id,
    topic: row.topic,
    partition: row.partition,
    committed_offset: row.committed_offset === null ? null : Number(row.committed_offset),
    high_watermark: Number(row.high_watermark),
    lag: Number(row.lag),
    updated_at: isoUtc(row.updated_at),
  }));
  return {
    measured_at: isoUtc(counts.measured_at),
    messages_stored: { last_minute: lastMinute, last_5_minutes: last5 },
    messages_per_second: { last_minute: lastMinute / covered.last_minute, last_5_minutes: last5 / covered.last_5_minutes },
    seconds_covered: covered,
    dead_letters: { from: isoUtc(counts.dead_letters_from), to: isoUtc(counts.dead_letters_to), count: Number(counts.dead_letters) },
    consumer_lag: { total: partitions.reduce((sum, p) => sum + p.lag, 0), partitions },
  };
}

export function ingestStatusRoutes(sql: Sql) {
  return new Elysia({ name: "ingest-status-routes" }).get(
    "/api/ingest/status/",
    async ({ request }) => {
      const { from, to } = parsePeriod(validateQuery(IngestStatusQuery, new URL(request.url).searchParams));
      const [counts, lag] = await Promise.all([ingestCounts(sql, from, to), listConsumerLag(sql)]);
      return renderIngestStatus(counts, lag);
    },
    {
      detail: {
        tags: ["ingest"],
        summary: "Ingest health: outcomes stored per second, dead letters in a period, consumer lag",
        parameters: openApiQueryParameters(IngestStatusQuery),
        responses: {
          200: jsonResponse(IngestStatus, "Figures read at measured_at."),
          400: invalidParameterResponse,
        },
      },
    },
  );
}
