// The original Django service's table in a database of its own, as its migration made it
// (`manage.py sqlmigrate outcomes 0001` for the model in ../shared/reference/original-service.md:
// bigserial id, no unique key besides it, raw_data jsonb NOT NULL), for the import's tests and
// benchmark. Rows are inserted with plain SQL, every column explicit, bugs included.
import type { Sql } from "../../src/db/client";
import { createTestDatabase, type TestDatabase } from "./db";

export const ORIGINAL_DDL = `
CREATE TABLE "outcomes_auctionoutcome" (
    "id" bigserial NOT NULL PRIMARY KEY,
    "bid_id" varchar(255) NOT NULL,
    "user_id" varchar(255) NOT NULL,
    "site_domain" varchar(255) NULL,
    "win_status" boolean NOT NULL,
    "win_price" numeric(10, 2) NOT NULL,
    "bid_price" numeric(10, 2) NOT NULL,
    "currency" varchar(3) NOT NULL,
    "enriched" boolean NOT NULL,
    "timestamp" timestamp with time zone NOT NULL,
    "auction_timestamp" timestamp with time zone NULL,
    "user_interests" jsonb NOT NULL,
    "raw_data" jsonb NOT NULL,
    "created_at" timestamp with time zone NOT NULL,
    "updated_at" timestamp with time zone NOT NULL
);
CREATE INDEX "outcomes_au_timesta_3b1c4e_idx" ON "outcomes_auctionoutcome" ("timestamp" DESC);
CREATE INDEX "outcomes_au_win_sta_8a2f0d_idx" ON "outcomes_auctionoutcome" ("win_status", "timestamp" DESC);
CREATE INDEX "outcomes_au_user_id_5c9e21_idx" ON "outcomes_auctionoutcome" ("user_id", "timestamp" DESC);
CREATE INDEX "outcomes_au_site_do_d41a7b_idx" ON "outcomes_auctionoutcome" ("site_domain", "timestamp" DESC);
CREATE INDEX "outcomes_auctionoutcome_bid_id_1f0c6a2e" ON "outcomes_auctionoutcome" ("bid_id");
CREATE INDEX "outcomes_auctionoutcome_bid_id_1f0c6a2e_like" ON "outcomes_auctionoutcome" ("bid_id" varchar_pattern_ops);
CREATE INDEX "outcomes_auctionoutcome_user_id_7d2b9c40" ON "outcomes_auctionoutcome" ("user_id");
CREATE INDEX "outcomes_auctionoutcome_user_id_7d2b9c40_like" ON "outcomes_auctionoutcome" ("user_id" varchar_pattern_ops);
CREATE INDEX "outcomes_auctionoutcome_site_domain_0e6f3a11" ON "outcomes_auctionoutcome" ("site_domain");
CREATE INDEX "outcomes_auctionoutcome_site_domain_0e6f3a11_like" ON "outcomes_auctionoutcome" ("site_domain" varchar_pattern_ops);
CREATE INDEX "outcomes_auctionoutcome_win_status_9b8e2f57" ON "outcomes_auctionoutcome" ("win_status");
`;

/** A fresh database holding the original's empty table (not our migrations). */
export async function createOriginalDatabase(label: string): Promise<TestDatabase> {
  const db = await createTestDatabase(label, { migrate: false });
  await db.setup.begin((tx) => tx.unsafe(ORIGINAL_DDL));
  return db;
}

/** One row as the original stored it: its columns (with its bugs) and raw_data as given (JSON text, or "{}"). */
export interface OriginalFixture {
  id: number;
  bid_id: string;
  win_status: boolean;
  win_price: string;
  bid_price: string;
  enriched: boolean;
  /** The original's insert time, which it stored as the auction time. */
  timestamp: string;
  raw_data: string;
}

export async function insertOriginalRows(sql: Sql, rows: readonly OriginalFixture[]): Promise<void> {
  for (const row of rows) {
    await sql`
      insert into outcomes_auctionoutcome
        (id, bid_id, user_id, site_domain, win_status, win_price, bid_price, currency, enriched,
         "timestamp", auction_timestamp, user_interests, raw_data, created_at, updated_at)
      values (${row.id}, ${row.bid_id}, 'unknown', null, ${row.win_status}, ${row.win_price}::numeric, ${row.bid_price}::numeric, 'USD',
              ${row.enriched}, ${row.timestamp}::timestamptz, null, '[]'::jsonb, ${row.raw_data}::text::jsonb,
              ${row.timestamp}::timestamptz, ${row.timestamp}::timestamptz)`;
  }
}

/**
 * `count` generated rows in one statement: bid_request_id gen-1 … gen-<distinct> and then the
 * same ids again (the original's duplicates), every 1,000th row without a bid id (a dead letter).
 * A row's auction time follows its bid id, so a duplicate is the same message again.
 */
export async function generateOriginalRows(sql: Sql, count: number, distinct: number): Promise<void> {
  await sql`
    insert into outcomes_auctionoutcome
      (bid_id, user_id, site_domain, win_status, win_price, bid_price, currency, enriched,
       "timestamp", auction_timestamp, user_interests, raw_data, created_at, updated_at)
    select b.bid, 'user-' || (b.n % 97), 'site' || (b.n % 7) || '.example.com', b.n % 3 = 0, case when b.n % 3 = 0 then 0.75 else 0 end, 0.75, 'USD', true,
           now(), null, '[]'::jsonb,
           case when g % 1000 = 0 then jsonb_build_object('user_id', 'no-bid-id')
                else jsonb_build_object(
                  'bid_request_id', b.bid, 'user_id', 'user-' || (b.n % 97), 'site_domain', 'site' || (b.n % 7) || '.example.com',
                  'bid_price', 0.75, 'currency', 'USD', 'enriched', true, 'win_status', b.n % 3 = 0,
                  'win_price', case when b.n % 3 = 0 then 0.75 else 0 end,
                  'timestamp', to_char((timestamptz '2025-10-25 00:00:00+00' + make_interval(secs => b.n)) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'))
           end,
           now(), now()
    from generate_series(1, ${count}) g
    cross join lateral (select ((g - 1) % ${distinct}) + 1 as n, 'gen-' || (((g - 1) % ${distinct}) + 1) as bid) b`;
}
