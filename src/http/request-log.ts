// The request log's one record: what was asked and how it was answered. The api role writes each
// as an "HTTP request" line; the demo counts them instead (see demo/demo-report.ts).
import type { Logger } from "../log";

export interface AnsweredRequest {
  method: string;
  path: string;
  status: number;
  duration_ms?: number;
}

export type RequestLog = (answered: AnsweredRequest) => void;

/** One JSON line per request: the default of every role. */
export const logEachRequest =
  (log: Logger): RequestLog =>
  (answered) =>
    log.info("HTTP request", { ...answered });
