// Pages ordered by auction time are read in the window the rollups place them in: every page
// must hold exactly the rows OFFSET over the whole table would give, at every depth, in both
// directions, with filters the rollups carry, with unaligned from/to, and for cursor walks.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeBatch } from "../../src/ingest/batch-writer";
import { batchOf, outcomeAt } from "../support/batches";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { testApp } from "../support/http";

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

/** The model: the rows matching, sorted by auction time (text of fixed width) then id, as the API orders. */
function expected(filter: (row: Row) => boolean, desc: boolean): number[] {
  const sorted = rows.filter(filter).sort((a, b) => (a.ts === b.ts ? a.id - b.id : a.ts < b.ts ? -1 : 1));
  return (desc ? sorted.reverse() : sorted).map((row) => row.id);
}

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
        const got: number[] = [];
        const pageSize = 137;
        for (let page = 1; ; page++) {
          const { status, body } = await api.get(`/api/outcomes/?${query}&ordering=${desc ? "-" : ""}timestamp&page_size=${pageSize}&page=${page}`);
          if (status === 404) break;
          expect(status).toBe(200);
          expect(body.count).toBe(want.length);
          got.push(...body.results.map((r: { id: number }) => r.id));
          if (!body.next) break;
        }
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

describe("cursors in a window", () => {
  for (const [name, query, filter] of CASES) {
    test(`walk forward then back through ${name}, equal to the rows in order`, async () => {
      const want = expected(filter, true);
      const forward: number[][] = [];
      let url: string | null = `/api/outcomes/?${query}&cursor=&page_size=89`;
      let previous: string | null = null;
      while (url) {
        const { body } = await api.get(url.replace("http://localhost", ""));
        forward.push(body.results.map((r: { id: number }) => r.id));
        previous = body.previous;
        url = body.next;
      }
      expect(forward.flat()).toEqual(want);
      expect(forward.at(-1)!.length).toBeGreaterThan(0);
      // Back from the last page by previous links: the same pages, in reverse.
      const back: number[][] = [];
      while (previous) {
        const { body } = await api.get(previous.replace("http://localhost", ""));
        back.push(body.results.map((r: { id: number }) => r.id));
        previous = body.previous;
      }
      expect(back).toEqual(forward.slice(0, -1).reverse());
    });
  }
});
