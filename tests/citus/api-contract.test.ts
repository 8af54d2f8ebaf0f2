// The same fixture in a single-node database and in a Citus cluster (a coordinator and two
// workers), and every answer of the API compared body for body: lists with each filter and
// ordering, page and cursor pagination followed to the end, detail, the aggregates, the console's
// storage endpoint and the dead letters. Skipped, with the reason printed, where no Citus
// coordinator answers.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeBatch } from "../../src/ingest/batch-writer";
import { recordConsumerLag } from "../../src/ingest/kafka/consumer-lag";
import { PartitionKeeper } from "../../src/storage/partitions";
import { batchOf } from "../support/batches";
import { citusSkipReason, createCitusDatabase } from "../support/citus";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { insertOutcomes, messageOf, OUTCOMES } from "../support/fixtures";
import { testApp } from "../support/http";

setDefaultTimeout(180_000);

type App = ReturnType<typeof testApp>;

const LETTERS = [
  { offset: 11, partition: 0, payload: "{not json", reason: "payload is not JSON", received_at: "2025-10-25T08:00:00Z" },
  { offset: 12, partition: 1, payload: "[]", reason: "payload is not an object", received_at: "2025-10-25T08:00:00Z" },
  { offset: 13, partition: 2, payload: '{"bid_request_id":""}', reason: "bid_request_id is empty", received_at: "2025-10-26T09:30:00Z" },
];

/** The fixture as tests write it (plain SQL, so ids, created_at and everything else are given), then the service's writer. */
async function load(db: TestDatabase): Promise<void> {
  await insertOutcomes(db.setup, OUTCOMES);
  // Rows written by plain SQL are another tool's rows: on Citus no trigger counts them, and the
  // rebuild is the repair an operator runs (on one node the triggers counted them already).
  await db.setup`select helios_rebuild_rollups('2025-10-20', '2025-10-31')`;
  // The writer's redeliveries of the same rows change nothing.
  const redelivered = await writeBatch(db.sql, batchOf(OUTCOMES.map(messageOf), { firstOffset: 100 }), new PartitionKeeper());
  expect(redelivered).toMatchObject({ inserted: 0, duplicates: OUTCOMES.length });
  // The consumer's lag report, upserted twice (the second an update of the first).
  for (const lag of [7, 3]) {
    await recordConsumerLag(db.sql, [
      { groupId: "helios-analytics", topic: "auction_outcomes", partition: 0, committedOffset: "120", highWatermark: String(120 + lag), lag },
    ]);
  }
  await db.setup`update consumer_lag set updated_at = '2025-10-26T10:00:00Z'`;
  for (const letter of LETTERS) {
    await db.setup`
      insert into dead_letters (topic, "partition", "offset", payload, reason, received_at)
      values ('auction_outcomes', ${letter.partition}, ${letter.offset}, convert_to(${letter.payload}, 'UTF8'), ${letter.reason}, ${letter.received_at}::timestamptz)`;
  }
}

const PATHS = [
  "/api/",
  "/api/outcomes/",
  "/api/outcomes/?page_size=5",
  "/api/outcomes/?page_size=5&page=3",
  "/api/outcomes/?page_size=4&page=99",
  "/api/outcomes/?ordering=timestamp",
  "/api/outcomes/?ordering=win_price",
  "/api/outcomes/?ordering=-bid_price,timestamp",
  "/api/outcomes/?ordering=created_at&page_size=7&page=2",
  "/api/outcomes/?ordering=-id",
  "/api/outcomes/?user_id=u-alice",
  "/api/outcomes/?site_domain=example.com&ordering=-win_price",
  "/api/outcomes/?win_status=false",
  "/api/outcomes/?enriched=true&currency=eur",
  "/api/outcomes/?min_price=0.2&max_price=1",
  "/api/outcomes/?from=2025-10-25&to=2025-10-26",
  "/api/outcomes/?from=2025-10-25T00:00:00.000001Z&ordering=timestamp&page_size=3",
  "/api/outcomes/?search=u-b",
  "/api/outcomes/?search=b-0&ordering=-timestamp&page_size=2&page=2",
  "/api/outcomes/winners/",
  "/api/outcomes/winners/?site_domain=example.com",
  "/api/outcomes/stats/",
  "/api/outcomes/stats/?user_id=u-alice",
  "/api/outcomes/stats/?from=2025-10-25&currency=USD",
  "/api/outcomes/stats/?site_domain=news.example.org&win_status=true",
  "/api/outcomes/stats/?min_price=0.5",
  "/api/outcomes/daily_stats/",
  "/api/outcomes/daily_stats/?enriched=false",
  "/api/outcomes/daily_stats/?user_id=u-bob",
  "/api/outcomes/timeseries/?from=2025-10-23&to=2025-10-27",
  "/api/outcomes/timeseries/?from=2025-10-24T20:00:00Z&to=2025-10-25T04:00:00Z&interval=hour&win_status=true",
  "/api/outcomes/timeseries/?from=2025-10-25T01:00:00Z&to=2025-10-25T03:00:00Z&interval=minute",
  "/api/outcomes/daily_stats/?tz=America/New_York",
  "/api/outcomes/breakdown/?by=site_domain,day",
  "/api/outcomes/breakdown/?by=currency,hour&order=-outcomes&tz=Europe/Berlin",
  "/api/outcomes/breakdown/?by=user_id&compare=previous_period&from=2025-10-25&to=2025-10-26",
  "/api/outcomes/price_distribution/?price=win",
  "/api/outcomes/price_distribution/?price=bid&user_id=u-alice",
  "/api/outcomes/top/",
  "/api/outcomes/top/?by=user_id&limit=3",
  "/api/outcomes/top/?by=site_domain&from=2025-10-25",
  "/api/dead_letters/",
  "/api/dead_letters/?page_size=2&page=2",
  "/api/ingest/status/?from=2025-10-25T00:00:00Z&to=2025-10-27T00:00:00Z",
  "/api/storage/",
  "/api/outcomes/?ordering=nonsense",
  "/api/outcomes/999999/",
];

/** Fields that tell when something was read or done, not what is stored: the same on both by design, not by value. */
const WHEN = new Set(["measured_at", "last_maintenance_at"]);
const comparable = (body: unknown) => JSON.stringify(body, (key, value) => (WHEN.has(key) ? "(time)" : value));

/** Follows `next` from `first` to the end, returning every page's body. */
async function followNext(app: App, first: string): Promise<unknown[]> {
  const pages: unknown[] = [];
  let path: string | null = first;
  while (path && pages.length < 50) {
    const response = await app.get(path);
    pages.push({ status: response.status, body: response.body });
    const next: string | null = response.body?.next ?? null;
    path = next ? next.replace(/^https?:\/\/[^/]+/, "") : null;
  }
  return pages;
}

describe.skipIf(citusSkipReason !== undefined)("the API on Citus answers as on one node", () => {
  let single: TestDatabase;
  let citus: TestDatabase;
  let singleApp: App;
  let citusApp: App;

  beforeAll(async () => {
    [single, citus] = await Promise.all([createTestDatabase("citus_contract"), createCitusDatabase("contract")]);
    await load(single);
    await load(citus);
    singleApp = testApp(single.config, single.sql);
    citusApp = testApp(citus.config, citus.sql);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([single?.drop(), citus?.drop()]);
  }, 120_000);

  test("the rollups hold the same figures on both", async () => {
    const read = (db: TestDatabase) =>
      db.setup`
        select bucket::text, currency, win_status, enriched, outcomes::text, win_price_sum::text, bid_price_sum::text
          from outcome_rollup_hourly order by 1, 2, 3, 4`;
    const readDaily = (db: TestDatabase) =>
      db.setup`
        select day::text, site_domain, currency, win_status, enriched, outcomes::text, win_price_sum::text
          from outcome_rollup_daily_site order by 1, 2, 3, 4, 5`;
    expect(await read(citus)).toEqual(await read(single));
    expect(await readDaily(citus)).toEqual(await readDaily(single));
    expect((await read(single)).length).toBeGreaterThan(0);
  });

  test("every list, filter, ordering, page, aggregate, console and dead-letter answer is the same body", async () => {
    const differences: unknown[] = [];
    const refused: string[] = [];
    for (const path of PATHS) {
      const [a, b] = [await singleApp.get(path), await citusApp.get(path)];
      if (a.status !== 200) refused.push(`${a.status} ${path}`);
      if (a.status !== b.status || comparable(a.body) !== comparable(b.body)) differences.push({ path, single: a.body, citus: b.body });
    }
    expect(differences).toEqual([]);
    // Not equal by both failing: only the requests meant to fail did (a page past the end, a bad ordering, no such id).
    expect(refused).toEqual(["404 /api/outcomes/?page_size=4&page=99", "400 /api/outcomes/?ordering=nonsense", "404 /api/outcomes/999999/"]);
  });

  test("the detail of every outcome is the same", async () => {
    const list = await singleApp.get("/api/outcomes/?page_size=1000&ordering=id");
    const ids: number[] = list.body.results.map((row: { id: number }) => row.id);
    expect(ids.length).toBe(OUTCOMES.length);
    for (const id of ids) {
      const [a, b] = [await singleApp.get(`/api/outcomes/${id}/`), await citusApp.get(`/api/outcomes/${id}/`)];
      expect({ id, status: b.status, body: b.body }).toEqual({ id, status: a.status, body: a.body });
    }
  });

  test("cursor pages followed to the end are the same pages, in every ordering", async () => {
    for (const query of ["cursor=&page_size=4", "cursor=&page_size=3&ordering=win_price", "cursor=&page_size=5&ordering=-created_at&win_status=true"]) {
      const [a, b] = [await followNext(singleApp, `/api/outcomes/?${query}`), await followNext(citusApp, `/api/outcomes/?${query}`)];
      expect(a.length).toBeGreaterThan(1);
      expect({ query, pages: b }).toEqual({ query, pages: a });
    }
  });
});
