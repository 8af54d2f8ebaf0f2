// Pages past the first 1,000 rows are read by a deferred join on the ordering's own keys (their
// index holds them): every such page must hold exactly the rows OFFSET over the whole table gives,
// for every ordering, with ties on the first key, with filters, and on the last partial page.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Sql } from "../../src/db/client";
import type { Fragment } from "../../src/db/fragments";
import { writeBatch } from "../../src/ingest/batch-writer";
import { batchOf, outcomeAt } from "../support/batches";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { testApp } from "../support/http";

setDefaultTimeout(60_000);

let db: TestDatabase;
let api: ReturnType<typeof testApp>;
const ROWS = 2_600;

beforeAll(async () => {
  db = await createTestDatabase("deep_offset");
  // Four days (four partitions); prices from a short list, so thousands of rows tie on each.
  const base = Date.parse("2025-05-01T00:00:00Z");
  const prices = ["0.10", "0.25", "1.5", "2.00", "0.333"];
  const messages = Array.from({ length: ROWS }, (_, i) => {
    const win = i % 3 !== 0;
    const bid = prices[(i * 7) % prices.length]!;
    return outcomeAt(`deep-${i}`, new Date(base + ((i * 7_919) % (4 * 86_400)) * 1_000).toISOString(), {
      win_status: win,
      bid_price: bid,
      win_price: win ? bid : "0",
    });
  });
  for (let i = 0; i < messages.length; i += 650) await writeBatch(db.sql, batchOf(messages.slice(i, i + 650), { firstOffset: i }));
  api = testApp(db.config, db.sql);
});

afterAll(async () => {
  await db.drop();
});

/** The ids of one page as a plain OFFSET over the whole table orders them. */
async function expectedPage(orderBy: (sql: Sql) => Fragment, where: (sql: Sql) => Fragment, pageSize: number, page: number): Promise<number[]> {
  const sql = db.setup;
  const rows = await sql<{ id: string }[]>`
    select id from auction_outcomes where ${where(sql)} order by ${orderBy(sql)} limit ${pageSize} offset ${(page - 1) * pageSize}`;
  return rows.map((row) => Number(row.id));
}

const everything = (sql: Sql) => sql`true`;

// ordering= → the same order in SQL (the API adds id, in the last key's direction, as the tie-breaker).
const ORDERINGS: [string, (sql: Sql) => Fragment][] = [
  ["-win_price", (sql) => sql`win_price desc, id desc`],
  ["bid_price", (sql) => sql`bid_price asc, id asc`],
  ["-created_at", (sql) => sql`created_at desc, id desc`],
  ["id", (sql) => sql`id asc`],
  ["-id", (sql) => sql`id desc`],
  ["-timestamp", (sql) => sql`"timestamp" desc, id desc`],
  ["bid_price,-timestamp", (sql) => sql`bid_price asc, "timestamp" desc, id desc`],
];

describe("deep pages by OFFSET", () => {
  for (const [ordering, orderBy] of ORDERINGS) {
    test(`ordering=${ordering}: pages past 1,000 rows are the rows OFFSET gives, up to the last partial page`, async () => {
      // 48 × 21 = 1,008 rows before page 22; page 55 holds the last 8.
      for (const page of [22, 23, 55]) {
        const { status, body } = await api.get(`/api/outcomes/?ordering=${ordering}&page_size=48&page=${page}`);
        expect(status).toBe(200);
        expect(body.count).toBe(ROWS);
        const want = await expectedPage(orderBy, everything, 48, page);
        expect(want).toHaveLength(page === 55 ? 8 : 48);
        expect(body.results.map((r: { id: number }) => r.id)).toEqual(want);
      }
    });
  }

  test("with a filter, the deep page is the filtered rows' page", async () => {
    const { body } = await api.get("/api/outcomes/?win_status=true&ordering=-win_price&page_size=40&page=30");
    const want = await expectedPage(
      (sql) => sql`win_price desc, id desc`,
      (sql) => sql`win_status`,
      40,
      30,
    );
    expect(want).toHaveLength(40);
    expect(body.results.map((r: { id: number }) => r.id)).toEqual(want);
  });
});
