// Keyset pages stay consistent while rows arrive: every row present at the start is seen
// exactly once, and no row is ever seen twice.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { testApp } from "../support/http";

let db: TestDatabase;

async function insertRows(prefix: string, count: number, baseMs: number, spreadMs: number) {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  // Many rows share a timestamp on purpose: the id tie-breaker must keep pages apart.
  const times = ids.map((_, i) => new Date(baseMs + (i % 40) * spreadMs).toISOString());
  await db.sql`
    insert into auction_outcomes (bid_id, user_id, win_status, win_price, bid_price, "timestamp", raw_data)
    select b, 'u', true, 0.5, 0.5, t, '{}'::jsonb from unnest(${ids}::text[], ${times}::timestamptz[]) as x(b, t)`;
}

beforeAll(async () => {
  db = await createTestDatabase("cursor");
  await insertRows("seed", 400, Date.UTC(2025, 9, 10), 60_000);
});
afterAll(async () => db.drop());

for (const ordering of ["-timestamp", "timestamp", "win_price,-id", "-bid_price,timestamp"]) {
  test(`cursor pages over ordering=${ordering} visit every initial row once while rows are inserted`, async () => {
    const { get } = testApp(db.config, db.sql);
    const initial = new Set((await db.sql<{ bid_id: string }[]>`select bid_id from auction_outcomes`).map((r) => r.bid_id));
    const seen: string[] = [];
    let url: string | null = `/api/outcomes/?cursor=&page_size=37&ordering=${ordering}`;
    let round = 0;
    while (url) {
      const response = await get(url.replace("http://localhost", ""));
      expect(response.status).toBe(200);
      seen.push(...response.body.results.map((r: { bid_id: string }) => r.bid_id));
      // New rows before, inside and after the walked range, between every two pages.
      await insertRows(`${ordering}-r${round++}`, 5, Date.UTC(2025, 9, 10) + (round % 3 - 1) * 30 * 60_000, 61_000);
      url = response.body.next;
    }
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of initial) expect(seen).toContain(id);
  });
}

test("previous links walk back to exactly the pages seen going forward", async () => {
  const { get } = testApp(db.config, db.sql);
  const forward: string[][] = [];
  let response = await get("/api/outcomes/?cursor=&page_size=50&ordering=timestamp");
  forward.push(response.body.results.map((r: { id: number }) => r.id));
  for (let i = 0; i < 3; i++) {
    response = await get(response.body.next.replace("http://localhost", ""));
    forward.push(response.body.results.map((r: { id: number }) => r.id));
  }
  for (let i = forward.length - 2; i >= 0; i--) {
    response = await get(response.body.previous.replace("http://localhost", ""));
    expect(response.body.results.map((r: { id: number }) => r.id)).toEqual(forward[i]!);
  }
  expect(response.body.previous).toBeNull();
});
