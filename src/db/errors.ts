// What a postgres.js error means for the caller: the one list of "the database is unavailable"
// codes (the API answers 503 for them, ingest retries), and the refusals of a row itself.

/** A lost or refused connection: postgres.js's own codes, the socket's, and SQLSTATEs of the server ending it. */
const CONNECTION_CODES = new Set([
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  // admin_shutdown, crash_shutdown, cannot_connect_now (starting up or shutting down).
  "57P01",
  "57P02",
  "57P03",
  // Refused at startup: too many connections; database not accepting connections (ALLOW_CONNECTIONS false).
  "53300",
  "55000",
]);

/** Not a lost connection, yet the same for a caller: try again later. */
const TRANSIENT_CODES = new Set([
  // query_canceled: the statement timeout (or an operator) cancelled it.
  "57014",
  // invalid_catalog_name: the database does not exist (yet: before `migrate` created it).
  "3D000",
  // out_of_memory: also the lock table full (max_locks_per_transaction), under many concurrent
  // queries over every partition; the next try usually finds room.
  "53200",
]);

const codeOf = (error: unknown) => String((error as { code?: unknown } | null)?.code ?? "");

/** The connection was lost or refused: a fresh connection may be needed (see db/pool.ts). */
export function isConnectionError(error: unknown): boolean {
  return CONNECTION_CODES.has(codeOf(error));
}

/** The database is unreachable, overloaded or not there yet: not our bug, and not the request's. */
export function isUnavailable(error: unknown): boolean {
  const code = codeOf(error);
  return CONNECTION_CODES.has(code) || TRANSIENT_CODES.has(code);
}

export const isStatementTimeout = (error: unknown) => codeOf(error) === "57014";

/**
 * SQLSTATE classes 22 (data exception), 23 (integrity constraint violation) and 54 (program limit
 * exceeded, e.g. JSON nested too deep for the stack): the row itself is refused and will be
 * refused again, unlike a lost connection or a deadlock, which a retry heals.
 */
export function isDataError(error: unknown): boolean {
  return /^(22|23|54)[0-9A-Z]{3}$/.test(codeOf(error));
}
