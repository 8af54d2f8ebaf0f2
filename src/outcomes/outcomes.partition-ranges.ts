// What each partition holds: its period of auction time and its ids. A lookup by id (the detail
// endpoint) names the period to read instead of probing every partition's primary key; a page with
// no rollup window grows its window over the stored periods (outcomes.window.ts). The ranges are
// read from the partitions (helios_partition_id_ranges) and kept a while; a lookup that finds
// nothing in the candidates reads every partition, and a window only ever narrows a query that is
// read again wider when it comes back short, so stale ranges cost time, never a wrong answer.
import type { Sql } from "../db/client";
import { epochMs } from "../values/timestamps";
import type { StoredPeriod } from "./outcomes.window";

interface IdRange {
  lower: string | null;
  upper: string | null;
  minId: bigint;
  maxId: bigint;
}

/** The period of auction time to read for an id: undefined bounds are open; null: read every partition. */
export type IdPeriod = { from?: string; to?: string } | null;

/** How long ranges are kept: long enough to spare the probes, short enough that new ids are soon in range. */
const MAX_AGE_MS = 10_000;

export class PartitionRanges {
  private ranges: { at: number; list: Promise<IdRange[]>; periods: Promise<StoredPeriod[]> } | undefined;

  constructor(private readonly sql: Sql) {}

  private current(): NonNullable<PartitionRanges["ranges"]> {
    if (!this.ranges || performance.now() - this.ranges.at > MAX_AGE_MS) {
      const list = this.sql<{ lower: string | null; upper: string | null; min_id: string | null; max_id: string | null }[]>`
        select lower, upper, min_id::text, max_id::text from helios_partition_id_ranges()`
        .then((rows) =>
          rows.filter((r) => r.min_id !== null).map((r) => ({ lower: r.lower, upper: r.upper, minId: BigInt(r.min_id!), maxId: BigInt(r.max_id!) })),
        )
        .catch(() => []);
      // Read on every list page: parsed once per read of the ranges, not per page.
      const ms = (text: string) => epochMs(pgIso(text)).ms;
      const periods = list.then((ranges) => ranges.filter((r) => r.lower !== null && r.upper !== null).map((r) => ({ from: ms(r.lower!), to: ms(r.upper!) })));
      this.ranges = { at: performance.now(), list, periods };
    }
    return this.ranges;
  }

  /** Forgets the ranges (a lookup missed): the next one reads them again. */
  forget(): void {
    this.ranges = undefined;
  }

  /** The periods of the partitions that hold outcomes (the default partition has none: its rows may be of any time). */
  storedPeriods(): Promise<readonly StoredPeriod[]> {
    return this.current().periods;
  }

  /** The hull of the periods of the partitions whose ids span `id`; null when none does or one is the default partition. */
  async periodOf(id: string): Promise<IdPeriod> {
    const wanted = BigInt(id);
    const holding = (await this.current().list).filter((r) => r.minId <= wanted && wanted <= r.maxId);
    if (holding.length === 0 || holding.some((r) => r.upper === null)) return null;
    const lowers = holding.map((r) => r.lower);
    // Bounds are PostgreSQL's UTC text of one shape, so their text order is their time order.
    const inOrder = (texts: string[]) => texts.toSorted();
    return {
      from: lowers.includes(null) ? undefined : pgIso(inOrder(lowers as string[])[0]!),
      to: pgIso(inOrder(holding.map((r) => r.upper!)).at(-1)!),
    };
  }
}

/** PostgreSQL's UTC text of a timestamptz as ISO 8601. */
const pgIso = (text: string) => text.replace(" ", "T").replace(/\+00$/, "+00:00");
