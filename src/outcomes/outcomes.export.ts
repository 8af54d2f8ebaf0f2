// One export as a byte stream: every outcome matching the filters, in the requested order, read in
// one REPEATABLE READ read-only transaction (one snapshot: rows stored while it runs are not in
// it, none is missed or repeated) through a server-side cursor, and handed to the response only as
// fast as the client takes it. Memory holds a few batches whatever the row count; a client that
// goes away, or stops reading for EXPORT_STALL_MS, ends the transaction.
import type { Sql } from "../db/client";
import type { Logger } from "../log";
import { ENCODERS, type ExportFormat } from "./outcomes.export-format";
import type { Filters } from "./outcomes.filters";
import type { OrderKey } from "./outcomes.paging";
import { renderOutcome } from "./outcomes.render";
import { outcomeBatches } from "./outcomes.repository";

/** Rows per cursor fetch: about 350 KB of CSV, large enough that a fetch's round trip is noise. */
export const EXPORT_BATCH_ROWS = 1000;
/** Batches encoded ahead of the client: the bound on what one export holds in memory. */
const BATCHES_AHEAD = 2;
/** A client that takes nothing for this long is treated as gone (the snapshot would hold back vacuum). */
export const EXPORT_STALL_MS = 60_000;
/** The server's own bound on an idle export transaction: the stall bound, and time for the app to end it first. */
const IDLE_MARGIN_MS = 10_000;
/** One FETCH: the first of an unindexed order sorts every matching row (10 M rows: seconds to a minute). */
export const EXPORT_FETCH_TIMEOUT_MS = 120_000;

export interface ExportOptions {
  log: Logger;
  /** Aborted when the client goes away (a Request's signal). */
  signal?: AbortSignal;
  /** Told once the export's transaction is over, however it ended. */
  onEnd?(): void;
  batchRows?: number;
  stallMs?: number;
}

/** What the reading side and the writing side of one export share. */
interface ExportState {
  cancelled: boolean;
  /** Resolves the writer's wait for the client to take a batch. */
  wake: (() => void) | null;
  controller: ReadableStreamDefaultController<Uint8Array>;
}

function stop(state: ExportState): void {
  state.cancelled = true;
  wakeWriter(state);
}

function wakeWriter(state: ExportState): void {
  const wake = state.wake;
  state.wake = null;
  wake?.();
}

/** Waits until the client wants more (or is gone); a client that takes nothing for `stallMs` is stopped. */
async function clientDemand(state: ExportState, stallMs: number, log: Logger): Promise<void> {
  while (!state.cancelled && (state.controller.desiredSize ?? 0) <= 0) {
    const stalled = setTimeout(() => {
      log.warn("Export stopped: the client took nothing", { stall_ms: stallMs });
      stop(state);
    }, stallMs);
    await new Promise<void>((resolve) => (state.wake = resolve));
    clearTimeout(stalled);
  }
}

/**
 * Writes every batch of the snapshot to the stream; returns once the transaction is over.
 * `started` is called when the first bytes are queued: the response can go out then.
 */
async function writeSnapshot(
  sql: Sql,
  filters: Filters,
  keys: OrderKey[],
  format: ExportFormat,
  state: ExportState,
  options: ExportOptions,
  started: () => void,
): Promise<void> {
  const encoder = new TextEncoder();
  const { header, record } = ENCODERS[format];
  const stallMs = options.stallMs ?? EXPORT_STALL_MS;
  await sql.begin("isolation level repeatable read read only", async (tx) => {
    // Each FETCH is bounded by its own statement timeout: the first fetch of an order no index
    // gives sorts every matching row, more than the API's 5 s on millions of rows. A client that
    // stops fetching leaves the transaction idle: the server ends it after the stall bound too.
    await tx`select set_config('statement_timeout', ${String(EXPORT_FETCH_TIMEOUT_MS)}, true),
                    set_config('idle_in_transaction_session_timeout', ${String(stallMs + IDLE_MARGIN_MS)}, true)`;
    let prefix = header;
    for await (const rows of outcomeBatches(tx as unknown as Sql, filters, keys, options.batchRows ?? EXPORT_BATCH_ROWS)) {
      if (state.cancelled) break;
      let text = prefix;
      for (const row of rows) text += record(renderOutcome(row));
      prefix = "";
      state.controller.enqueue(encoder.encode(text));
      started();
      await clientDemand(state, stallMs, options.log);
      if (state.cancelled) break;
    }
    if (prefix && !state.cancelled) state.controller.enqueue(encoder.encode(prefix));
  });
}

/**
 * Opens the export and resolves with its body once the first batch is read: a failure before that
 * (the database unavailable, a statement refused) rejects, and the caller answers with an error
 * status. A failure later can only cut the body short; it is logged.
 */
export async function openOutcomeExport(
  sql: Sql,
  filters: Filters,
  keys: OrderKey[],
  format: ExportFormat,
  options: ExportOptions,
): Promise<ReadableStream<Uint8Array>> {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>(
    {
      start: (c) => {
        controller = c;
      },
      // Both run after start, once `state` below exists.
      pull: () => wakeWriter(state),
      cancel: () => stop(state),
    },
    { highWaterMark: BATCHES_AHEAD },
  );
  const state: ExportState = { cancelled: false, wake: null, controller };
  options.signal?.addEventListener("abort", () => stop(state), { once: true });
  let began = false;
  const { promise: first, resolve: ready, reject: failed } = Promise.withResolvers<void>();
  const started = () => {
    began = true;
    ready();
  };
  writeSnapshot(sql, filters, keys, format, state, options, started)
    .then(
      () => {
        started();
        // Stopped by a stall, the body ends in an error rather than looking complete.
        if (state.cancelled) state.controller.error(new Error("export stopped before its end"));
        else state.controller.close();
      },
      (error) => {
        if (!began) return failed(error);
        options.log.error("Export failed after it began; the body is cut short", { error: (error as Error)?.message ?? String(error) });
        state.controller.error(error);
      },
    )
    .finally(() => options.onEnd?.());
  await first;
  return body;
}
