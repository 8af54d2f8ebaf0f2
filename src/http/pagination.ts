// Page-number pagination as the original's DRF PageNumberPagination answered it: `page` and
// `page_size` parameters, the {count, next, previous, results} envelope with absolute URLs, and a
// 404 "Invalid page." past the end. Shared by every paged collection.
import { type TSchema, Type } from "@sinclair/typebox";
import { ApiError } from "./errors";
import { param } from "./params";
import { withParams } from "./urls";

export const DEFAULT_PAGE_SIZE = 100;
/** Past this many rows, OFFSET costs more than a page is worth: cursors go on from there. */
export const MAX_OFFSET = 1_000_000;

export const PageParams = {
  page: param({ pattern: "^[1-9][0-9]{0,8}$", maxLength: 9, description: "Page number, from 1 (default 1).", accepts: "an integer from 1 to 999999999" }),
  page_size: param({ pattern: "^([1-9][0-9]{0,2}|1000)$", maxLength: 4, description: "Items per page (default 100).", accepts: "an integer from 1 to 1000" }),
};

export const pageOf = <T extends TSchema>(item: T, title: string) =>
  Type.Object(
    {
      count: Type.Integer({ description: "Rows matching the filters." }),
      next: Type.Union([Type.String({ format: "uri" }), Type.Null()]),
      previous: Type.Union([Type.String({ format: "uri" }), Type.Null()]),
      results: Type.Array(item),
    },
    { title },
  );

/** The envelope of any paged answer. */
export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface PagePosition {
  page: number;
  pageSize: number;
  /** Rows before this page. */
  offset: number;
}

export function pagePosition(query: { page?: string; page_size?: string }): PagePosition {
  const page = query.page ? Number(query.page) : 1;
  const pageSize = query.page_size ? Number(query.page_size) : DEFAULT_PAGE_SIZE;
  return { page, pageSize, offset: (page - 1) * pageSize };
}

export const invalidPage = () => new ApiError(404, "Invalid page.");

/**
 * Refuses a page that would skip more than MAX_OFFSET rows. A page past the end stays the
 * original's 404, however far (`count` is only asked then); only a real deep page gets the 400.
 * `instead` says what the client can do, e.g. "a smaller page".
 */
export async function refuseDeepOffset(at: PagePosition, count: () => Promise<number>, instead: string): Promise<void> {
  if (at.offset <= MAX_OFFSET) return;
  if ((await count()) <= at.offset) throw invalidPage();
  throw new ApiError(400, "Invalid query parameter: page.", {
    page: [`page ${at.page} × page_size ${at.pageSize} skips more than ${MAX_OFFSET} rows: expected ${instead}.`],
  });
}

/** The envelope of one numbered page; an empty page past the first is the original's 404. */
export function numberedPage<T>(url: URL, at: PagePosition, count: number, results: T[]): Page<T> {
  if (results.length === 0 && at.page > 1) throw invalidPage();
  return {
    count,
    next: at.offset + results.length < count ? withParams(url, { page: String(at.page + 1) }) : null,
    previous: at.page > 1 ? withParams(url, { page: at.page === 2 ? null : String(at.page - 1) }) : null,
    results,
  };
}
