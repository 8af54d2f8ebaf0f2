// The breakdown plugin: validate the raw query → Filters, Grouping, order → grouped aggregates → render.
import { Elysia } from "elysia";
import type { Sql } from "../db/client";
import { ApiError, type FieldErrors, invalidQuery } from "../http/errors";
import { invalidParameterResponse, jsonResponse, openApiQueryParameters } from "../http/openapi";
import { pickParams, validateQuery } from "../http/query";
import { AggregateCache } from "./aggregate-cache";
import { parseBreakdown, previousPeriod, renderBreakdown } from "./outcomes.breakdown";
import { Breakdown, BreakdownQuery } from "./outcomes.breakdown.schema";
import { parseFilters } from "./outcomes.filters";
import { groupedAggregates } from "./outcomes.grouped";
import type { ZoneNames } from "./outcomes.zones";

/** Collects the field errors of `check` into `errors` (a parameter keeps its first error); undefined when it failed. */
async function collecting<T>(errors: FieldErrors, check: () => T | Promise<T>): Promise<T | undefined> {
  try {
    return await check();
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 400 || !error.errors) throw error;
    for (const [name, messages] of Object.entries(error.errors)) errors[name] ??= messages;
    return undefined;
  }
}

/** The query checked as a whole: one 400 names every failing parameter, the schema's and the breakdown's alike. */
async function checkedRequest(search: URLSearchParams, zones: ZoneNames) {
  const errors: FieldErrors = {};
  const validated = await collecting(errors, () => validateQuery(BreakdownQuery, search));
  const query = validated ?? (pickParams(search, BreakdownQuery) as BreakdownQuery);
  const breakdown = await collecting(errors, () => parseBreakdown(query));
  // Filters are parsed from values the schema passed; a zone is looked up only when its text is well formed.
  const filters = validated ? await collecting(errors, () => parseFilters(query)) : undefined;
  const tz = errors.tz ? undefined : await collecting(errors, () => zones.resolve(query.tz));
  if (!filters || !breakdown || tz === undefined || Object.keys(errors).length > 0) throw invalidQuery(errors);
  return { filters, breakdown, tz };
}

/** `cache` keeps answers until the data changes; the default keeps nothing. */
export function breakdownRoutes(sql: Sql, zones: ZoneNames, cache: AggregateCache = AggregateCache.disabled()) {
  return new Elysia({ name: "outcomes-breakdown-routes" }).get(
    "/api/outcomes/breakdown/",
    async ({ request }): Promise<Breakdown> => {
      const { filters, breakdown, tz } = await checkedRequest(new URL(request.url).searchParams, zones);
      const grouping = { dims: breakdown.dims, tz };
      // The rendered body is kept, not the rows: a hit of a thousand groups then costs no rendering.
      const weigh = (body: Breakdown) => body.results.length + 1;
      if (!breakdown.compare) {
        return cache.answer(
          `breakdown ${JSON.stringify([filters, grouping, breakdown.order])}`,
          async () => renderBreakdown(await groupedAggregates(sql, filters, grouping, breakdown.order), breakdown, tz),
          weigh,
        );
      }
      // Every group of the previous period: a group shown now may rank anywhere then.
      const before = previousPeriod(filters);
      const all = { by: breakdown.order.by, desc: breakdown.order.desc };
      return cache.answer(
        `breakdown-compared ${JSON.stringify([filters, grouping, breakdown.order])}`,
        async () => {
          const [rows, previous] = await Promise.all([
            groupedAggregates(sql, filters, grouping, breakdown.order),
            groupedAggregates(sql, before, grouping, all),
          ]);
          return renderBreakdown(rows, breakdown, tz, { rows: previous, filters: before });
        },
        weigh,
      );
    },
    {
      detail: {
        tags: ["outcomes"],
        summary: "Figures per group of one or two dimensions (site, user, currency, flags, hour, day, week, month), with a total",
        description:
          "Served from the rollups when the dimensions and filters allow (site_domain with UTC days, weeks or months; currency, win_status, enriched, and hours, days, weeks and months in any zone whose offset is whole hours), from the base table otherwise (user_id, prices, search, bid-level filters, and zones with 30- or 45-minute offsets). The same figures either way.",
        parameters: openApiQueryParameters(BreakdownQuery),
        responses: { 200: jsonResponse(Breakdown, "The first `limit` groups in `order`, and the total over every group."), 400: invalidParameterResponse },
      },
    },
  );
}
