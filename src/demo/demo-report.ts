// The demo's terminal is read by a person, and the banner's addresses must stay findable in it.
// Each request used to be a line of its own (the console polls every 5 s) and the feed wrote its
// totals every 5 s: 123 request lines in six minutes buried the banner (issue 13). So by default
// the demo counts requests instead of logging each one (--log-requests brings the lines back),
// and every --progress-interval seconds writes one line with the feed's totals and that count,
// then the banner's addresses on one line. The other roles log every request as before.
import type { AnsweredRequest, RequestLog } from "../http/request-log";
import type { Fields, Logger } from "../log";

export const PROGRESS_MESSAGE = "Demo feed progress";
/** A line every 30 s: the totals move visibly, and six minutes are 12 reports, not 180 lines. */
export const DEFAULT_PROGRESS_INTERVAL_S = 30;

/** Requests answered since the last report, by status code. */
export interface RequestTally {
  record: RequestLog;
  /** The counts since the last take, as report fields; starts counting afresh. */
  take(): Fields;
}

export function requestSummary(byStatus: Readonly<Record<string, number>>): Fields {
  const total = Object.values(byStatus).reduce((sum, count) => sum + count, 0);
  return { http_requests: total, http_statuses: { ...byStatus } };
}

export function createRequestTally(): RequestTally {
  let byStatus: Record<string, number> = {};
  return {
    record: ({ status }: AnsweredRequest) => {
      byStatus[status] = (byStatus[status] ?? 0) + 1;
    },
    take() {
      const summary = requestSummary(byStatus);
      byStatus = {};
      return summary;
    },
  };
}

export interface ReportDeps {
  log: Logger;
  intervalMs: number;
  /** The feed's totals (see DemoFeed and KafkaFeed). */
  totals: () => Fields;
  /** Absent with --log-requests: each request has its own line then. */
  requests?: RequestTally;
  /** Writes the banner's addresses after the line. */
  remind: () => void;
}

export function startDemoReport({ log, intervalMs, totals, requests, remind }: ReportDeps): { stop(): void } {
  const timer = setInterval(() => {
    log.info(PROGRESS_MESSAGE, { ...totals(), ...requests?.take() });
    remind();
  }, intervalMs);
  return { stop: () => clearInterval(timer) };
}
