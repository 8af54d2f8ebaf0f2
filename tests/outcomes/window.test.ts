// Pages ordered by auction time are read in the window the rollups place them in: every page
// must hold exactly the rows OFFSET over the whole table would give, at every depth, in both
// directions, with filters the rollups carry, with unaligned from/to, and for cursor walks.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeBatch } from "../../src/ingest/batch-writer";
import { bucketChunk } from "../../src/outcomes/outcomes.aggregates";
import { batchOf, outcomeAt } from "../support/batches";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { testApp } from "../support/http";
import { inApiOrder, walkCursors, walkPageNumbers } from "../support/page-walks";

setDefaultTimeout(120_000);

let db: TestDatabase;
let api: ReturnType<typeof testApp>;
interface Row {
  id: number;
  ts: string;
  win: boolean;
  site: string | null;
  currency: string;
}
let rows: Row[];

beforeAll(async () => {
  db = await createTestDatabase("window");
  // 2,400 outcomes over three days in bursts: empty hours, crowded hours, ties on one instant,
  // rows on the hour and a microsecond off it.
  const base = Date.parse("2025-03-10T00:00:00Z");
  const messages = Array.from({ length: 2_400 }, (_, i) => {
    const hour = (i * 7) % 72;
    const crowded = hour % 9 === 0 ? 0 : (i % 13) * 60_000;
    const at = new Date(base + hour * 3_600_000 + crowded).toISOString().replace("Z", i % 5 === 0 ? "001Z" : "000Z");
    return outcomeAt(`w-${i}`, hour === 30 ? "2025-03-11T06:00:00.000000Z" : at, {
      win_status: i % 3 !== 0,
      site_domain: i % 4 === 0 ? "a.example" : "b.example",
      currency: i % 10 === 0 ? "EUR" : "USD",
    });
  });
  for (let i = 0; i < messages.length; i += 600) await writeBatch(db.sql, batchOf(messages.slice(i, i + 600), { firstOffset: i }));
  rows = (
    await db.setup<{ id: string; ts: string; win: boolean; site: string | null; currency: string }[]>`
      select id::text, to_char("timestamp" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as ts, win_status as win, site_domain as site, currency
      from auction_outcomes`
  ).map((r) => ({ ...r, id: Number(r.id) }));
  api = testApp(db.config, db.sql);
});

afterAll(async () => {
  await db.drop();
});

const expected = (filter: (row: Row) => boolean, desc: boolean) => inApiOrder(rows, filter, desc);

const CASES: [string, string, (row: Row) => boolean][] = [
  ["everything", "", () => true],
  ["winners' filter", "win_status=true", (r) => r.win],
  ["a site (daily rollup)", "site_domain=a.example", (r) => r.site === "a.example"],
  ["a currency and losses", "currency=EUR&win_status=false", (r) => r.currency === "EUR" && !r.win],
  [
    "unaligned from/to",
    "from=2025-03-10T05:30:00Z&to=2025-03-12T01:00:00.000001Z",
    (r) => r.ts >= "2025-03-10T05:30:00.000000" && r.ts < "2025-03-12T01:00:00.000001",
  ],
];

describe("page numbers in a window", () => {
  for (const [name, query, filter] of CASES) {
    for (const desc of [true, false]) {
      test(`walk every page of ${name}, ${desc ? "newest" : "oldest"} first, equal to the rows in order`, async () => {
        const want = expected(filter, desc);
        const got = await walkPageNumbers(api, `/api/outcomes/?${query}&ordering=${desc ? "-" : ""}timestamp&page_size=137`, want.length);
        expect(got).toEqual(want);
      });
    }
  }

  test("a page past the end is 404 and a deep single page is exact", async () => {
    const want = expected(() => true, true);
    expect((await api.get(`/api/outcomes/?page_size=100&page=${Math.ceil(want.length / 100) + 1}`)).status).toBe(404);
    const { body } = await api.get("/api/outcomes/?page_size=7&page=300");
    expect(body.results.map((r: { id: number }) => r.id)).toEqual(want.slice(7 * 299, 7 * 300));
  });
});

describe("a chunk of buckets summed in the database", () => {
  /** Outcomes per UTC hour that holds any, newest first, from the rows themselves. */
  const hours = () => {
    const per = new Map<number, number>();
    for (const row of rows) {
      const hour = Math.floor(Date.parse(`${row.ts}Z`) / 3_600_000) * 3_600_000;
      per.set(hour, (per.get(hour) ?? 0) + 1);
    }
    return [...per.entries()].sort((a, b) => b[0] - a[0]);
  };

  test("sends only the buckets holding the positions, with the outcomes before each, and the chunk's totals", async () => {
    const all = hours();
    const chunk = await bucketChunk(db.sql, "hourly", {}, "desc", 48, { from: 1_000, to: 1_137 });
    const first48 = all.slice(0, 48);
    let through = 0;
    const held = first48.flatMap(([start, outcomes]) => {
      const before = through;
      through += outcomes;
      return through > 1_000 && before < 1_137 ? [{ start, outcomes, before }] : [];
    });
    expect(held.length).toBeGreaterThan(0);
    expect(held.length).toBeLessThan(48);
    expect(chunk).toEqual({ held, buckets: 48, outcomes: through, lastStart: first48[47]![0] });
  });

  test("past its positions, a chunk sends nothing but its totals; the last chunk has fewer buckets than asked", async () => {
    const all = hours();
    const total = rows.length;
    const chunk = await bucketChunk(db.sql, "hourly", {}, "asc", 1_000, { from: total, to: total + 10 });
    expect(chunk).toEqual({ held: [], buckets: all.length, outcomes: total, lastStart: all[0]![0] });
  });
});

describe("cursors in a window", () => {
  for (const [name, query, filter] of CASES) {
    test(`walk forward then back through ${name}, equal to the rows in order`, async () => {
      const want = expected(filter, true);
      const { forward, back } = await walkCursors(api, `/api/outcomes/?${query}&cursor=&page_size=89`);
      expect(forward.flat()).toEqual(want);
      expect(forward.at(-1)!.length).toBeGreaterThan(0);
      // Back from the last page by previous links: the same pages, in reverse.
      expect(back).toEqual(forward.slice(0, -1).reverse());
    });
  }
});
