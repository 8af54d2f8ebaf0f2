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
  constructor(readonly status: number, readonly detail: string, readonly errors: Record<string, string[]> = {}) {
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

// The shapes of the answers the console reads: the API's own TypeBox types (type-only, erased
// from the bundle), so the console cannot drift from what the API documents.
export type { OutcomeDetail, OutcomeRecord, OutcomeStats as Stats } from "../../outcomes/outcomes.schema";

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface SeriesPoint {
  bucket: string;
  outcomes: number;
  wins: number;
  revenue: string;
}

export interface TimeSeries {
  interval: "hour" | "day";
  results: SeriesPoint[];
}

export interface TopList {
  by: "site_domain" | "user_id";
  results: { key: string | null; outcomes: number; wins: number; revenue: string }[];
}

export interface IngestStatus {
  measured_at: string;
  messages_stored: { last_minute: number; last_5_minutes: number };
  messages_per_second: { last_minute: number; last_5_minutes: number };
  dead_letters: { from: string; to: string | null; count: number };
  consumer_lag: {
    total: number;
    partitions: { group_id: string; topic: string; partition: number; committed_offset: number | null; high_watermark: number; lag: number; updated_at: string }[];
  };
}

export interface DeadLetter {
  id: number;
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  key_encoding: "utf-8" | "base64" | null;
  payload: string | null;
  payload_encoding: "utf-8" | "base64" | null;
  reason: string;
  received_at: string;
}
