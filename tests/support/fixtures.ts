// Outcome rows inserted with plain SQL, every value explicit, so tests can compute what the API
// must answer without calling the code under test. The set is built to catch the usual mistakes:
// prices whose float sums drift (0.1 + 0.2 + 0.7), microsecond timestamps on both sides of UTC
// midnight, ties on every ordering field, a day with losses only, a non-USD currency, a null
// site_domain, a winner who paid less than it bid, and a stored trailing zero ("0.10").
import type { Sql } from "../../src/db/client";
import type { OutcomeInsert } from "../../src/outcomes/outcome.mapping";

/**
 * One row as the fixtures insert it: the stored columns of the mapping's OutcomeInsert, every
 * timestamp ISO-8601 UTC with exactly 6 fractional digits and Z (so text order is time order),
 * prices as decimal text exactly as stored, and created_at given (ties on purpose).
 */
export interface OutcomeFixture extends Omit<OutcomeInsert, "raw_data" | "user_interests"> {
  user_interests: string[];
  created_at: string;
}

export interface StoredOutcome extends OutcomeFixture {
  id: number;
  raw_data: Record<string, unknown>;
}

type Row = [
  bid: string,
  user: string,
  site: string | null,
  won: boolean,
  winPrice: string,
  bidPrice: string,
  currency: string,
  enriched: boolean,
  timestamp: string,
  auctionTimestamp: string | null,
  interests: string[],
  createdAt: string,
];

// prettier-ignore
const ROWS: Row[] = [
  [
    "b-01",
    "u-alice",
    "example.com",
    true,
    "0.1",
    "0.1",
    "USD",
    true,
    "2025-10-24T23:59:59.999999Z",
    "2025-10-25T00:00:00.049Z",
    ["technology", "sports"],
    "2025-10-27T10:00:03.000000Z",
  ],
  [
    "b-02",
    "u-bob",
    "example.com",
    true,
    "0.2",
    "0.2",
    "USD",
    false,
    "2025-10-25T00:00:00.000000Z",
    "2025-10-25T00:00:00.050Z",
    ["sports"],
    "2025-10-27T10:00:01.000000Z",
  ],
  [
    "b-03",
    "u-alice",
    "news.example.org",
    true,
    "0.7",
    "0.7",
    "USD",
    true,
    "2025-10-25T00:00:00.000001Z",
    "2025-10-25T00:00:00.051Z",
    ["news"],
    "2025-10-27T10:00:03.000000Z",
  ],
  [
    "b-04",
    "u-carol",
    "example.com",
    false,
    "0",
    "0.55",
    "USD",
    true,
    "2025-10-25T12:00:00.123456Z",
    "2025-10-25T12:00:00.173Z",
    ["travel", "food"],
    "2025-10-27T10:00:00.000000Z",
  ],
  ["b-05", "u-bob", null, true, "1.2345", "1.2345", "USD", false, "2025-10-25T12:00:00.123456Z", "2025-10-25T12:00:00.170Z", [], "2025-10-27T10:00:02.000000Z"],
  [
    "b-06",
    "u-dave",
    "shop.example.net",
    true,
    "0.80",
    "0.80",
    "EUR",
    true,
    "2025-10-26T08:30:00.500000Z",
    "2025-10-26T08:30:00.550Z",
    ["shopping"],
    "2025-10-27T10:00:03.000000Z",
  ],
  ["b-07", "u-alice", "example.com", false, "0", "0.3", "USD", false, "2025-10-23T10:00:00.000000Z", null, ["sports"], "2025-10-27T10:00:01.000000Z"],
  [
    "b-08",
    "u-carol",
    "news.example.org",
    false,
    "0",
    "2.5",
    "USD",
    true,
    "2025-10-23T23:59:59.999999Z",
    "2025-10-24T00:00:00.040Z",
    ["news", "politics"],
    "2025-10-27T10:00:00.000000Z",
  ],
  [
    "b-09",
    "u-bob",
    "example.com",
    true,
    "0.5",
    "0.75",
    "USD",
    true,
    "2025-10-26T00:00:00.000000Z",
    "2025-10-26T00:00:00.048Z",
    ["technology"],
    "2025-10-27T10:00:04.000000Z",
  ],
  [
    "b-10",
    "u-alice",
    "shop.example.net",
    true,
    "0.1",
    "0.1",
    "USD",
    false,
    "2025-10-24T00:00:00.000000Z",
    "2025-10-24T00:00:00.045Z",
    ["shopping"],
    "2025-10-27T10:00:02.000000Z",
  ],
  [
    "b-11",
    "u-dave",
    "example.com",
    true,
    "0.2",
    "0.2",
    "USD",
    true,
    "2025-10-24T06:00:00.000001Z",
    "2025-10-24T06:00:00.050Z",
    ["technology"],
    "2025-10-27T10:00:00.000000Z",
  ],
  ["b-12", "u-erin", "example.com", false, "0", "0.1", "USD", false, "2025-10-26T23:59:59.999999Z", null, [], "2025-10-27T10:00:04.000000Z"],
  [
    "b-13",
    "u-erin",
    "news.example.org",
    true,
    "12345.678901",
    "12345.678901",
    "USD",
    true,
    "2025-10-25T18:45:10.654321Z",
    "2025-10-25T18:45:10.700Z",
    ["finance"],
    "2025-10-27T10:00:01.000000Z",
  ],
  [
    "b-14",
    "u-carol",
    "example.com",
    true,
    "0.000001",
    "0.000001",
    "USD",
    false,
    "2025-10-24T12:00:00.000000Z",
    "2025-10-24T12:00:00.050Z",
    ["food"],
    "2025-10-27T10:00:02.000000Z",
  ],
  [
    "b-15",
    "u-alice",
    "example.com",
    true,
    "0.7",
    "0.7",
    "USD",
    true,
    "2025-10-25T12:00:00.123456Z",
    "2025-10-25T12:00:00.171Z",
    ["technology"],
    "2025-10-27T10:00:03.000000Z",
  ],
  [
    "b-16",
    "u-bob",
    "shop.example.net",
    false,
    "0",
    "0.2",
    "EUR",
    false,
    "2025-10-26T08:30:00.500000Z",
    "2025-10-26T08:30:00.560Z",
    ["shopping"],
    "2025-10-27T10:00:00.000000Z",
  ],
  [
    "b-17",
    "u-dave",
    null,
    false,
    "0",
    "0.9",
    "USD",
    true,
    "2025-10-24T23:59:59.999999Z",
    "2025-10-25T00:00:00.030Z",
    ["sports"],
    "2025-10-27T10:00:04.000000Z",
  ],
  [
    "b-18",
    "u-erin",
    "example.com",
    true,
    "0.1",
    "0.35",
    "USD",
    false,
    "2025-10-25T06:00:00.000000Z",
    "2025-10-25T06:00:00.050Z",
    ["travel"],
    "2025-10-27T10:00:01.000000Z",
  ],
  [
    "b-19",
    "u-carol",
    "shop.example.net",
    true,
    "3",
    "3",
    "USD",
    true,
    "2025-10-26T12:00:00.000000Z",
    "2025-10-26T12:00:00.050Z",
    ["shopping", "food"],
    "2025-10-27T10:00:02.000000Z",
  ],
  [
    "b-20",
    "u-alice",
    "news.example.org",
    true,
    "0.2",
    "0.2",
    "USD",
    false,
    "2025-10-24T18:00:00.000000Z",
    "2025-10-24T18:00:00.050Z",
    ["news"],
    "2025-10-27T10:00:03.000000Z",
  ],
  [
    "b-21",
    "u-bob",
    "example.com",
    false,
    "0",
    "1.5",
    "USD",
    true,
    "2025-10-25T23:59:59.999999Z",
    "2025-10-26T00:00:00.049Z",
    ["technology"],
    "2025-10-27T10:00:00.000000Z",
  ],
  [
    "b-22",
    "u-dave",
    "example.com",
    true,
    "0.10",
    "0.10",
    "USD",
    false,
    "2025-10-26T00:00:00.000001Z",
    "2025-10-26T00:00:00.051Z",
    ["sports"],
    "2025-10-27T10:00:04.000000Z",
  ],
  [
    "b-23",
    "u-erin",
    "shop.example.net",
    true,
    "999.99",
    "999.99",
    "USD",
    true,
    "2025-10-25T09:15:00.000000Z",
    "2025-10-25T09:15:00.050Z",
    ["shopping"],
    "2025-10-27T10:00:01.000000Z",
  ],
  [
    "b-24",
    "u-alice",
    "example.com",
    false,
    "0",
    "0.05",
    "USD",
    false,
    "2025-10-23T00:00:00.000000Z",
    "2025-10-23T00:00:00.050Z",
    [],
    "2025-10-27T10:00:02.000000Z",
  ],
];

export const OUTCOMES: OutcomeFixture[] = ROWS.map(
  ([bid_id, user_id, site_domain, win_status, win_price, bid_price, currency, enriched, timestamp, auction_timestamp, user_interests, created_at]) => ({
    bid_id,
    user_id,
    site_domain,
    win_status,
    win_price,
    bid_price,
    currency,
    enriched,
    timestamp,
    auction_timestamp,
    user_interests,
    created_at,
  }),
);

/** The message as the upstream would have sent it: what raw_data keeps. */
export function messageOf(row: OutcomeFixture): Record<string, unknown> {
  return {
    bid_request_id: row.bid_id,
    user_id: row.user_id,
    ...(row.site_domain === null ? {} : { site_domain: row.site_domain }),
    bid_price: Number(row.bid_price),
    currency: row.currency,
    timestamp: row.timestamp.replace("Z", "+00:00"),
    enriched: row.enriched,
    user_interests: row.user_interests,
    ad_creative: { creative_id: `c-${row.bid_id}`, bid_tier: "premium", targeted: "true" },
    win_status: row.win_status,
    win_price: Number(row.win_price),
    ...(row.auction_timestamp === null ? {} : { auction_timestamp: row.auction_timestamp }),
  };
}

/** Inserts the rows one statement each, in order, and returns them with their ids. */
export async function insertOutcomes(sql: Sql, rows: readonly OutcomeFixture[] = OUTCOMES): Promise<StoredOutcome[]> {
  const stored: StoredOutcome[] = [];
  for (const row of rows) {
    const raw_data = messageOf(row);
    const [inserted] = await sql<{ id: string }[]>`
      insert into auction_outcomes
        (bid_id, user_id, site_domain, win_status, win_price, bid_price, currency, enriched,
         "timestamp", auction_timestamp, user_interests, raw_data, created_at, updated_at)
      values
        (${row.bid_id}, ${row.user_id}, ${row.site_domain}, ${row.win_status}, ${row.win_price}::numeric,
         ${row.bid_price}::numeric, ${row.currency}, ${row.enriched}, ${row.timestamp}::timestamptz,
         ${row.auction_timestamp}::timestamptz, ${sql.json(row.user_interests)}, ${sql.json(raw_data as never)},
         ${row.created_at}::timestamptz, ${row.created_at}::timestamptz)
      returning id`;
    stored.push({ ...row, id: Number(inserted!.id), raw_data });
  }
  return stored;
}

/**
 * `count` generated outcomes in one statement (for page-size and win-rate edges): outcome i
 * (1-based) is at 2025-11-01T00:00:00Z + i seconds, won when i <= wins, price 1.00.
 */
export async function insertGeneratedOutcomes(sql: Sql, count: number, options: { userId: string; wins?: number }): Promise<void> {
  const wins = options.wins ?? 0;
  await sql`
    insert into auction_outcomes
      (bid_id, user_id, site_domain, win_status, win_price, bid_price, currency, enriched, "timestamp", raw_data)
    select ${options.userId} || '-' || i, ${options.userId}, 'generated.example', i <= ${wins},
           case when i <= ${wins} then 1.00 else 0 end, 1.00, 'USD', false,
           '2025-11-01T00:00:00Z'::timestamptz + make_interval(secs => i), '{}'::jsonb
    from generate_series(1, ${count}::int) as i`;
}
