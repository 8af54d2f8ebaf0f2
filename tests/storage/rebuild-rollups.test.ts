// helios_rebuild_rollups on one node: over days the writer and the triggers kept, it finds every
// rollup (hourly, daily per site, price bins) as they were; after a rollup was damaged it restores
// it from the outcomes.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeBatch } from "../../src/ingest/batch-writer";
import { batchOf, outcomeAt } from "../support/batches";
import { createTestDatabase, type TestDatabase } from "../support/db";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase("rebuild_rollups");
  const messages = Array.from({ length: 300 }, (_, i) =>
    outcomeAt(`rb-${i}`, new Date(Date.parse("2025-06-12T00:00:00Z") + i * 900_000).toISOString(), {
      site_domain: `s${i % 3}.example`,
      currency: i % 4 === 0 ? "EUR" : "USD",
      win_status: i % 2 === 0,
      win_price: `${(i % 17) * 0.37}`,
      bid_price: `${(i % 17) * 0.37 + 0.05}`,
    }),
  );
  await writeBatch(db.sql, batchOf(messages));
  // A row another tool wrote, counted by the triggers.
  await db.setup`insert into auction_outcomes (bid_id, user_id, site_domain, win_status, win_price, bid_price, currency, "timestamp", raw_data)
                 values ('rb-psql', 'u', 's9.example', true, 12.5, 13, 'GBP', '2025-06-13T05:00:00Z', '{}')`;
});

afterAll(async () => {
  await db.drop();
});

const snapshot = async () => ({
  hourly:
    await db.setup`select bucket::text, currency, win_status, enriched, outcomes::text, win_price_sum::text, bid_price_sum::text from outcome_rollup_hourly order by 1, 2, 3, 4`,
  daily:
    await db.setup`select day::text, site_domain, currency, win_status, enriched, outcomes::text, win_price_sum::text from outcome_rollup_daily_site order by 1, 2, 3, 4, 5`,
  prices:
    await db.setup`select bucket::text, currency, win_status, enriched, price, bin, outcomes::text, min_price::text, max_price::text from outcome_rollup_price_hourly order by 1, 2, 3, 4, 5, 6`,
});

test("a rebuild of days the writer and the triggers kept changes no rollup row", async () => {
  const before = await snapshot();
  expect(before.prices.length).toBeGreaterThan(40);
  const [rebuilt] = await db.setup<{ rows: string }[]>`select helios_rebuild_rollups('2025-06-11', '2025-06-16')::text as rows`;
  expect(Number(rebuilt!.rows)).toBe(before.hourly.length + before.daily.length + before.prices.length);
  expect(await snapshot()).toEqual(before);
});

test("a rebuild restores rollups that were damaged, the price bins included", async () => {
  const before = await snapshot();
  await db.setup`delete from outcome_rollup_price_hourly where currency = 'EUR'`;
  await db.setup`update outcome_rollup_hourly set outcomes = outcomes + 5`;
  await db.setup`delete from outcome_rollup_daily_site where site_domain = 's1.example'`;
  expect(await snapshot()).not.toEqual(before);
  await db.setup`select helios_rebuild_rollups('2025-06-12', '2025-06-15')`;
  expect(await snapshot()).toEqual(before);
});
