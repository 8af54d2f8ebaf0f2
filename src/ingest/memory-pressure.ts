// A full garbage collection after every few MiB of messages ingested, under Bun.
//
// Why: JavaScriptCore sizes its heap growth from the machine's memory, not the container's limit,
// and most of the consumer's garbage is large and short-lived (fetch responses, parsed messages,
// the SQL text of each batch). Replaying a topic at full speed, the consumer's peak RSS reached
// 250–300 MiB before the collector ran on its own; collecting every 4 MiB of message values
// (about 7,000 typical outcomes) kept it near 150 MiB, for ~50–70 ms of collection each time
// (measured with `bun run bench ingest --messages 100000`). Deno has no such call: there it is a no-op.

/** Message bytes (values) between two collections. */
export const COLLECT_EVERY_BYTES = 4 * 1024 * 1024;

type CollectGarbage = () => void;

const bunGc = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun?.gc;
/** Synchronous: an asynchronous request (gc(false)) did not lower the peak at all. */
const runtimeCollect: CollectGarbage | null = bunGc ? () => bunGc(true) : null;

export interface MemoryPressure {
  /** Counts consumed message bytes; collects once they pass the threshold. */
  consumed(bytes: number): void;
}

/** `collect`: the runtime's full collection by default; null where there is none (Deno). */
export function collectEvery(thresholdBytes: number = COLLECT_EVERY_BYTES, collect: CollectGarbage | null = runtimeCollect): MemoryPressure {
  let sinceLast = 0;
  return {
    consumed(bytes) {
      if (!collect) return;
      sinceLast += bytes;
      if (sinceLast < thresholdBytes) return;
      sinceLast = 0;
      collect();
    },
  };
}
