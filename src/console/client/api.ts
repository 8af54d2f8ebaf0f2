// The console's only way to data: GET the public /api/ endpoints, with the kept token if any.
import { getToken } from "./token.ts";

/** The API answered 401: a token is needed, or the kept one was refused. */
export class AuthRequired extends Error {
  constructor(readonly refused: boolean) {
    super(refused ? "The API refused the token." : "The API requires a token.");
  }
}

/** Any other non-2xx answer, with the API's own error body. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors: Record<string, string[]> = {},
  ) {
    super(detail);
  }

  /** Each parameter's complaint as one line, for an alert. */
  lines(): string[] {
    return Object.entries(this.errors).flatMap(([name, messages]) => messages.map((message) => `${name}: ${message}`));
  }
}

export type Params = Record<string, string | undefined>;

/** Query string of the defined parameters, in the order given (an empty `cursor=` means "first page"). */
export function queryOf(params: Params): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) search.set(name, value);
  const text = search.toString();
  return text ? `?${text}` : "";
}

export async function apiGet<T>(path: string, params: Params = {}): Promise<T> {
  const token = getToken();
  const response = await fetch(path + queryOf(params), {
    headers: { accept: "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    cache: "no-store",
  });
  if (response.status === 401) throw new AuthRequired(token !== null);
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // A proxy's HTML error page: reported by status below.
  }
  if (!response.ok) {
    const error = (body ?? {}) as { detail?: string; errors?: Record<string, string[]> };
    throw new ApiFailure(response.status, error.detail ?? `The API answered ${response.status}.`, error.errors);
  }
  return body as T;
}

/**
 * Saves an /api/ answer as a file when a token must go with it (a plain link cannot send one).
 * The file passes through memory as a Blob here; without API_TOKENS the link itself downloads,
 * streamed to disk by the browser.
 */
export async function apiDownload(path: string, fallbackName: string): Promise<void> {
  const token = getToken();
  const response = await fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {}, cache: "no-store" });
  if (response.status === 401) throw new AuthRequired(token !== null);
  if (!response.ok) {
    const error = ((await response.json().catch(() => null)) ?? {}) as { detail?: string; errors?: Record<string, string[]> };
    throw new ApiFailure(response.status, error.detail ?? `The API answered ${response.status}.`, error.errors);
  }
  const name = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") ?? "")?.[1] ?? fallbackName;
  const href = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = href;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has taken the blob's bytes by then; a minute is ample.
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
}

// The shapes of the answers the console reads: the API's own TypeBox types (type-only, erased
// from the bundle), so the console cannot drift from what the API documents.
export type { DeadLetterRecord as DeadLetter } from "../../dead-letters/dead-letters.schema";
export type { Page } from "../../http/pagination";
export type { IngestStatus } from "../../ingest/ingest-status.schema";
export type { Breakdown, BreakdownGroup } from "../../outcomes/outcomes.breakdown.schema";
export type { PriceDistribution } from "../../outcomes/outcomes.price-distribution.schema";
export type {
  OutcomeDetail,
  OutcomeRecord,
  OutcomeStats as Stats,
  TimeSeries,
  TimeSeriesPoint as SeriesPoint,
  TopList,
} from "../../outcomes/outcomes.schema";
export type { StorageState } from "../../storage/storage.schema";
