// Pages ordered by auction time with filters no rollup carries (user_id, prices, search) are read
// in windows over the newest (ascending: oldest) stored partitions, widened until one holds a
// whole page. Every page must hold exactly the rows of the query over every partition: dense and
// sparse users, a user only in the oldest partition, the last short page, offsets that cross
// partitions, cursors both ways.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeBatch } from "../../src/ingest/batch-writer";
import type { Filters } from "../../src/outcomes/outcomes.filters";
import { parseOrdering } from "../../src/outcomes/outcomes.paging";
import { prefixWindows, type StoredPeriod } from "../../src/outcomes/outcomes.window";
import { batchOf, outcomeAt } from "../support/batches";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { testApp } from "../support/http";
import { inApiOrder, walkCursors, walkPageNumbers } from "../support/page-walks";

setDefaultTimeout(180_000);

const DAY = 86_400_000;
const START = Date.parse("2025-05-01T00:00:00Z");
/** Ten daily partitions, as PARTITION_INTERVAL=day stores them. */
const PERIODS: StoredPeriod[] = Array.from({ length: 10 }, (_, d) => ({ from: START + d * DAY, to: START + (d + 1) * DAY }));
const iso = (ms: number) => new Date(ms).toISOString();

describe("the windows tried (pure)", () => {
  const keys = parseOrdering("-timestamp");
  test("newest first: the newest 1 and 4 partitions, then every partition", () => {
    const { tries, last } = prefixWindows({ userId: "u" } as Filters, keys, PERIODS);
    expect(tries.map((f) => [f.from, f.to])).toEqual([
      ["2025-05-10T00:00:00.000Z", undefined],
      ["2025-05-07T00:00:00.000Z", undefined],
    ]);
    expect(last).toEqual({ userId: "u" } as Filters);
  });

  test("oldest first: the oldest 1 and 4 partitions", () => {
    const { tries } = prefixWindows({} as Filters, parseOrdering("timestamp"), PERIODS);
    expect(tries.map((f) => [f.from, f.to])).toEqual([
      [undefined, "2025-05-02T00:00:00.000Z"],
      [undefined, "2025-05-05T00:00:00.000Z"],
    ]);
  });

  test("only the partitions inside from/to count, and the windows never widen them", () => {
    const filters = { from: "2025-05-03T12:00:00.000Z", to: "2025-05-06T06:00:00.000Z" } as Filters;
    const { tries, last } = prefixWindows(filters, keys, PERIODS);
    expect(tries.map((f) => [f.from, f.to])).toEqual([["2025-05-06T00:00:00.000Z", filters.to]]);
    expect(last).toEqual(filters);
  });

  test("a cursor starts the windows at its own partition and keeps its instant", () => {
    const at = iso(START + 5 * DAY + 3_600_000);
    const { tries, last } = prefixWindows({} as Filters, keys, PERIODS, { timestamp: at, reverse: false });
    expect(tries.map((f) => [f.from, f.to])).toEqual([
      ["2025-05-06T00:00:00.000Z", "2025-05-06T01:00:00.001Z"],
      ["2025-05-03T00:00:00.000Z", "2025-05-06T01:00:00.001Z"],
    ]);
    expect(last.to).toBe("2025-05-06T01:00:00.001Z");
    // A previous-page link walks the other way, towards newer partitions.
    const back = prefixWindows({} as Filters, keys, PERIODS, { timestamp: at, reverse: true });
    expect(back.tries[0]).toEqual({ from: "2025-05-06T01:00:00.000Z", to: "2025-05-07T00:00:00.000Z" } as Filters);
  });

  test("no window for orderings that do not start with timestamp, for nothing to match, or one partition", () => {
    expect(prefixWindows({} as Filters, parseOrdering("-win_price"), PERIODS).tries).toEqual([]);
    expect(prefixWindows({ matchNothing: true } as Filters, keys, PERIODS).tries).toEqual([]);
    expect(prefixWindows({} as Filters, keys, PERIODS.slice(0, 1)).tries).toEqual([]);
    expect(prefixWindows({} as Filters, keys, []).tries).toEqual([]);
  });
});

let db: TestDatabase;
let api: ReturnType<typeof testApp>;
interface Row {
  id: number;
  ts: string;
  user: string;
  price: number;
}
let rows: Row[];

beforeAll(async () => {
  db = await createTestDatabase("prefix_window");
  // 1,500 outcomes over ten days: u-dense everywhere, u-sparse one in twenty, u-old only on the
  // first day, u-ends on the first and last days; ties on one instant on day 6.
  const messages = Array.from({ length: 1_500 }, (_, i) => {
    const day = i % 10;
    const user = day === 0 && i % 3 === 0 ? "u-old" : (day === 0 || day === 9) && i % 7 === 0 ? "u-ends" : i % 20 === 0 ? "u-sparse" : "u-dense";
    const at = day === 6 && i % 4 === 0 ? iso(START + 6 * DAY + 7_200_000) : iso(START + day * DAY + (i % 97) * 600_000 + (i % 11));
    return outcomeAt(`p-${i}`, at.replace("Z", `${String(i % 1000).padStart(3, "0")}Z`), {
      user_id: user,
      win_price: `${(i % 50) / 10}`,
      bid_price: `${(i % 50) / 10 + 0.5}`,
    });
  });
  for (let i = 0; i < messages.length; i += 500) await writeBatch(db.sql, batchOf(messages.slice(i, i + 500), { firstOffset: i }));
  rows = (
    await db.setup<{ id: string; ts: string; user: string; price: string }[]>`
      select id::text, to_char("timestamp" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as ts, user_id as user, win_price::text as price
      from auction_outcomes`
  ).map((r) => ({ ...r, id: Number(r.id), price: Number(r.price) }));
  const partitions = await db.setup<{ n: number }[]>`
    select count(*)::int as n from pg_inherits where inhparent = 'auction_outcomes'::regclass`;
  expect(partitions[0]!.n).toBeGreaterThanOrEqual(10);
  api = testApp(db.config, db.sql);
});

afterAll(async () => {
  await db.drop();
});

const expected = (filter: (row: Row) => boolean, desc: boolean) => inApiOrder(rows, filter, desc);

const CASES: [string, string, (row: Row) => boolean][] = [
  ["a user in every partition", "user_id=u-dense", (r) => r.user === "u-dense"],
  ["a sparse user", "user_id=u-sparse", (r) => r.user === "u-sparse"],
  ["a user only in the oldest partition", "user_id=u-old", (r) => r.user === "u-old"],
  ["a user in the oldest and newest partitions", "user_id=u-ends", (r) => r.user === "u-ends"],
  ["a win price range", "min_price=1.0&max_price=2.0", (r) => r.price >= 1 && r.price <= 2],
  [
    "a user with from/to",
    "user_id=u-dense&from=2025-05-03T05:00:00Z&to=2025-05-08T00:00:00Z",
    (r) => r.user === "u-dense" && r.ts >= "2025-05-03T05" && r.ts < "2025-05-08",
  ],
];

describe("page numbers in prefix windows", () => {
  for (const [name, query, filter] of CASES) {
    for (const desc of [true, false]) {
      test(`every page of ${name}, ${desc ? "newest" : "oldest"} first, equals the rows in order`, async () => {
        const want = expected(filter, desc);
        expect(want.length).toBeGreaterThan(0);
        const got = await walkPageNumbers(api, `/api/outcomes/?${query}&ordering=${desc ? "-" : ""}timestamp&page_size=53`, want.length);
        expect(got).toEqual(want);
      });
    }
  }
});

describe("cursors in prefix windows", () => {
  for (const [name, query, filter] of CASES) {
    for (const desc of [true, false]) {
      test(`walk ${name} forward then back, ${desc ? "newest" : "oldest"} first, equal to the rows in order`, async () => {
        const want = expected(filter, desc);
        const { forward, back } = await walkCursors(api, `/api/outcomes/?${query}&ordering=${desc ? "-" : ""}timestamp&cursor=&page_size=41`);
        expect(forward.flat()).toEqual(want);
        expect(back).toEqual(forward.slice(0, -1).reverse());
      });
    }
  }
});
