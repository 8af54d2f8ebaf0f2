// How much one request may take: the length of its URL, a place among the requests that wait on
// the database, and time. Past a bound the answer is a 414 or a 503, never an unbounded wait:
// postgres.js queues queries for a busy pool without limit and has no client-side query timeout
// (a query on a half-open socket waits for TCP to notice), so the bounds sit in front of it.
import { Elysia } from "elysia";
import { ApiError, errorResponse } from "./errors";

export interface LimitsOptions {
  maxUrlLength: number;
  maxInflight: number;
  requestTimeoutMs: number;
  /** Called for each request this plugin answers itself (414, 503), for the request log. */
  onAnswered?: (request: Request, status: number) => void;
}

/** Characters of path and query: everything the client sent after the host. */
export function requestTargetLength(url: string): number {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  return start === -1 ? 0 : url.length - start;
}

/** Requests whose handler waits on the pool. Probes stay outside: /readyz reports the database, not the gate. */
export function isDatabaseBound(pathname: string): boolean {
  return pathname === "/api" || pathname.startsWith("/api/");
}

/** Counts requests inside database-bound handlers; refuses a place beyond `max`. */
export class InflightGate {
  inFlight = 0;
  constructor(readonly max: number) {}

  tryEnter(): boolean {
    if (this.inFlight >= this.max) return false;
    this.inFlight += 1;
    return true;
  }

  leave(): void {
    this.inFlight -= 1;
  }
}

const RETRY_SOON = { "retry-after": "1" };

export function uriTooLong(length: number, max: number): Response {
  return errorResponse(new ApiError(414, `Request URI too long: ${length} characters of path and query, at most ${max} are accepted.`));
}

export function timedOut(ms: number): Response {
  return errorResponse(new ApiError(503, `The request took longer than ${ms} ms and was abandoned; try again shortly.`, undefined, RETRY_SOON));
}

const TIMED_OUT = Symbol("timed out");

/**
 * The handler's answer, or TIMED_OUT after `ms`. The handler is not stopped (nothing can stop a
 * query from outside): its result is dropped, and `settled` still runs when it really ends.
 */
async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(resolve, ms, TIMED_OUT)));
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export function busy(max: number): Response {
  const detail = `The API is busy: its limit of ${max} requests waiting on the database (API_MAX_INFLIGHT) is reached; try again shortly.`;
  return errorResponse(new ApiError(503, detail, undefined, RETRY_SOON));
}

/** The plugin. Use it before the security plugin: wraps nest outward, so it runs after authentication. */
export function requestLimits({ maxUrlLength, maxInflight, requestTimeoutMs, onAnswered = () => {} }: LimitsOptions) {
  const gate = new InflightGate(maxInflight);
  const answer = async (request: Request, work: Promise<unknown>): Promise<Response> => {
    const result = await withDeadline(work, requestTimeoutMs);
    if (result !== TIMED_OUT) return result as Response;
    onAnswered(request, 503);
    return timedOut(requestTimeoutMs);
  };
  return new Elysia({ name: "request-limits" }).wrap(((handle: (...args: unknown[]) => unknown, request: Request) =>
    async (...args: unknown[]) => {
      const length = requestTargetLength(request.url);
      if (length > maxUrlLength) {
        onAnswered(request, 414);
        return uriTooLong(length, maxUrlLength);
      }
      if (!isDatabaseBound(new URL(request.url).pathname)) return answer(request, Promise.resolve(handle(...args)));
      if (!gate.tryEnter()) {
        onAnswered(request, 503);
        return busy(maxInflight);
      }
      // The place is given back when the handler really ends (answered, thrown, or long after its
      // deadline), so the gate keeps bounding what waits on the pool even for abandoned requests.
      let work: Promise<unknown>;
      try {
        work = Promise.resolve(handle(...args));
      } catch (error) {
        gate.leave();
        throw error;
      }
      work.then(
        () => gate.leave(),
        () => gate.leave(),
      );
      return answer(request, work);
    }) as never);
}
