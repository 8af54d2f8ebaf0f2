// auction_outcomes partitioned by auction time: partitions made on demand by racing writers,
// exactly once across partition boundaries, the dedup window, rows written by other tools, and
// queries with from/to reading only the partitions they need.
import { afterAll, beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { loadConfig } from "../../src/config";
import { createSql, type Sql } from "../../src/db/client";
import { writeBatch } from "../../src/ingest/batch-writer";
import { whereClause } from "../../src/outcomes/outcomes.filters";
import { runMaintenancePass } from "../../src/storage/maintain";
import { PartitionKeeper } from "../../src/storage/partitions";
import { batchOf, outcomeAt } from "../support/batches";
import { createTestDatabase, emptyIngestTables, quietLog, type TestDatabase } from "../support/db";
import { testApp } from "../support/http";

setDefaultTimeout(60_000);

let db: TestDatabase;
const pools: Sql[] = [];

beforeAll(async () => {
  db = await createTestDatabase("partitions");
});

beforeEach(async () => {
  await emptyIngestTables(db);
  await db.setup`delete from outcome_rollup_hourly`;
  await db.setup`delete from outcome_rollup_daily_site`;
});

afterAll(async () => {
  await Promise.all(pools.map((sql) => sql.end({ timeout: 1 })));
  await db.drop();
});

function pool(): Sql {
  const sql = createSql(db.config.db, { max: 2 });
  pools.push(sql);
  return sql;
}

async function partitionOf(bidIds: string[]): Promise<Record<string, string[]>> {
  const rows = await db.setup<{ bid_id: string; partition: string }[]>`
    select bid_id, tableoid::regclass::text as partition from auction_outcomes where bid_id = any(${bidIds}::text[]) order by bid_id, "timestamp"`;
  const out: Record<string, string[]> = {};
  for (const row of rows) out[row.bid_id] = [...(out[row.bid_id] ?? []), row.partition];
  return out;
}

async function createdEvents(): Promise<string[]> {
  const rows = await db.setup<{ name: string }[]>`select partition_name as name from storage_events where kind = 'created' order by partition_name`;
  return rows.map((row) => row.name);
}

const count = async (table: "auction_outcomes" | "auction_outcomes_default") =>
  Number((await db.setup<{ n: string }[]>`select count(*) as n from ${db.setup(table)}`)[0]!.n);

describe("partitions on demand", () => {
  test("eight writers racing over three new days make each day's partition once and store every outcome once", async () => {
    const days = ["2024-03-09", "2024-03-10", "2024-03-11"];
    const before = await createdEvents();
    const batches = Array.from({ length: 8 }, (_, w) =>
      batchOf(
        days.flatMap((day, d) =>
          Array.from({ length: 25 }, (_, i) => outcomeAt(`race-${w % 4}-${d}-${i}`, `${day}T${String(i % 24).padStart(2, "0")}:30:00.000001Z`)),
        ),
        { firstOffset: w * 1000 },
      ),
    );
    // Each writer with its own pool and its own knowledge of the partitions, as separate consumers have.
    const results = await Promise.all(batches.map((batch) => writeBatch(pool(), batch, new PartitionKeeper())));
    const made = (await createdEvents()).filter((name) => !before.includes(name));
    expect(made).toEqual(["auction_outcomes_20240309", "auction_outcomes_20240310", "auction_outcomes_20240311"]);
    // Writers 0-3 and 4-7 send the same bid ids: 4 × 75 stored, as many duplicates.
    expect(results.reduce((sum, r) => sum + r.inserted, 0)).toBe(300);
    expect(results.reduce((sum, r) => sum + r.duplicates, 0)).toBe(300);
    expect(await count("auction_outcomes")).toBe(300);
    expect(await count("auction_outcomes_default")).toBe(0);
    const where = await partitionOf(["race-0-0-0", "race-1-1-5", "race-3-2-24"]);
    expect(where).toEqual({
      "race-0-0-0": ["auction_outcomes_20240309"],
      "race-1-1-5": ["auction_outcomes_20240310"],
      "race-3-2-24": ["auction_outcomes_20240311"],
    });
  });

  test("a batch spanning midnight is stored in both partitions, and its redelivery is all duplicates", async () => {
    const batch = batchOf([
      outcomeAt("mid-1", "2024-04-01T23:59:59.999999Z"),
      outcomeAt("mid-2", "2024-04-02T00:00:00Z"),
      outcomeAt("mid-3", "2024-04-02T00:00:00.000001+00:00"),
    ]);
    expect(await writeBatch(db.sql, batch)).toMatchObject({ inserted: 3, duplicates: 0 });
    expect(await writeBatch(db.sql, batch)).toMatchObject({ inserted: 0, duplicates: 3 });
    expect(await partitionOf(["mid-1", "mid-2", "mid-3"])).toEqual({
      "mid-1": ["auction_outcomes_20240401"],
      "mid-2": ["auction_outcomes_20240402"],
      "mid-3": ["auction_outcomes_20240402"],
    });
    const [hourly] = await db.setup<{ n: string }[]>`select sum(outcomes) as n from outcome_rollup_hourly`;
    expect(hourly!.n).toBe("3");
  });
});

describe("the dedup window is one partition", () => {
  test("the same bid_id with another auction time is stored once within its partition, and again in another partition", async () => {
    const first = await writeBatch(db.sql, batchOf([outcomeAt("window-1", "2024-05-10T08:00:00Z")]));
    const sameDay = await writeBatch(db.sql, batchOf([outcomeAt("window-1", "2024-05-10T21:15:00Z")], { firstOffset: 1 }));
    const nextDay = await writeBatch(db.sql, batchOf([outcomeAt("window-1", "2024-05-11T08:00:00Z")], { firstOffset: 2 }));
    expect([first.inserted, sameDay.inserted, sameDay.duplicates, nextDay.inserted]).toEqual([1, 0, 1, 1]);
    const rows = await db.setup<{ timestamp: string; partition: string }[]>`
      select "timestamp", tableoid::regclass::text as partition from auction_outcomes where bid_id = 'window-1' order by "timestamp"`;
    expect(rows.map((row) => [row.timestamp, row.partition])).toEqual([
      ["2024-05-10 08:00:00+00", "auction_outcomes_20240510"],
      ["2024-05-11 08:00:00+00", "auction_outcomes_20240511"],
    ]);
    // Both stored rows are counted, the skipped one is not.
    const { body } = await testApp(db.config, db.sql).get("/api/outcomes/stats/?user_id=u-storage");
    expect(body.total_outcomes).toBe(2);
  });
});

describe("rows another tool writes", () => {
  test("an INSERT and a COPY for periods without a partition are accepted, counted in the rollups, and moved into partitions by maintenance", async () => {
    await db.setup`
      insert into auction_outcomes (bid_id, user_id, win_status, win_price, bid_price, "timestamp", raw_data)
      values ('psql-1', 'u-psql', true, 2.5, 2.5, '2031-06-01T10:00:00Z', '{}'),
             ('psql-2', 'u-psql', false, 0, 1, '1999-12-31T23:00:00Z', '{}')`;
    const copy = await db.setup`copy auction_outcomes (bid_id, user_id, win_status, win_price, bid_price, "timestamp", raw_data) from stdin`.writable();
    copy.write("copy-1\tu-psql\tt\t0.75\t0.75\t2031-06-01 11:00:00+00\t{}\n");
    copy.end();
    await new Promise((resolve) => copy.on("finish", resolve));
    expect(await count("auction_outcomes_default")).toBe(3);
    const api = testApp(db.config, db.sql);
    const stats = (await api.get("/api/outcomes/stats/")).body;
    expect(stats).toMatchObject({ total_outcomes: 3, total_wins: 2, total_revenue: 3.25 });
    const ids = await db.setup<{ bid_id: string; id: string }[]>`select bid_id, id::text from auction_outcomes order by bid_id`;

    const report = await runMaintenancePass(db.setup, loadConfig({ PARTITIONS_AHEAD: "0" }).storage, quietLog);
    expect(report.movedFromDefault).toBe(3);
    expect(report.created).toEqual(expect.arrayContaining(["auction_outcomes_19991231", "auction_outcomes_20310601"]));
    expect(await count("auction_outcomes_default")).toBe(0);
    expect(await partitionOf(["psql-1", "psql-2", "copy-1"])).toEqual({
      "copy-1": ["auction_outcomes_20310601"],
      "psql-1": ["auction_outcomes_20310601"],
      "psql-2": ["auction_outcomes_19991231"],
    });
    expect(await db.setup<{ bid_id: string; id: string }[]>`select bid_id, id::text from auction_outcomes order by bid_id`).toEqual(ids);
    expect((await api.get("/api/outcomes/stats/")).body).toEqual(stats);
  });
});

describe("pruning", () => {
  type PlanNode = { "Node Type": string; "Relation Name"?: string; Plans?: PlanNode[] };
  const nodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodes)];
  const scanned = async (where: ReturnType<typeof whereClause>) => {
    const [row] = await db.setup<{ "QUERY PLAN": [{ Plan: PlanNode }] }[]>`explain (format json) select id from auction_outcomes ${where}`;
    return [...new Set(nodes(row!["QUERY PLAN"][0].Plan).flatMap((node) => (node["Relation Name"] ? [node["Relation Name"]] : [])))].sort();
  };

  test("a from/to period reads only the partitions it covers, the default partition included only where a period has none", async () => {
    const days = ["2024-07-01", "2024-07-02", "2024-07-03", "2024-07-04", "2024-07-05"];
    await writeBatch(db.sql, batchOf(days.map((day, i) => outcomeAt(`prune-${i}`, `${day}T12:00:00Z`))));
    expect(await scanned(whereClause(db.setup, { from: "2024-07-02T00:00:00+00:00", to: "2024-07-04T00:00:00+00:00" }))).toEqual([
      "auction_outcomes_20240702",
      "auction_outcomes_20240703",
    ]);
    expect(await scanned(whereClause(db.setup, { from: "2024-07-03T06:00:00+00:00", to: "2024-07-03T07:00:00+00:00", winStatus: true }))).toEqual([
      "auction_outcomes_20240703",
    ]);
    // 2024-06-30 has no partition: its rows could be waiting in the default partition.
    expect(await scanned(whereClause(db.setup, { from: "2024-06-30T00:00:00+00:00", to: "2024-07-02T00:00:00+00:00" }))).toEqual([
      "auction_outcomes_20240701",
      "auction_outcomes_default",
    ]);
  });
});

describe("detail by id", () => {
  test("finds an outcome in the partitions its id spans, and one stored after the ranges were read, and one in the default partition", async () => {
    await writeBatch(db.sql, batchOf(["2024-08-01", "2024-08-02", "2024-08-03"].map((day, i) => outcomeAt(`detail-${i}`, `${day}T10:00:00Z`))));
    const api = testApp(db.config, db.sql);
    const idOf = async (bid: string) => (await db.setup<{ id: string }[]>`select id::text from auction_outcomes where bid_id = ${bid}`)[0]!.id;
    const first = await api.get(`/api/outcomes/${await idOf("detail-1")}/`);
    expect(first.body).toMatchObject({ bid_id: "detail-1", timestamp: "2024-08-02T10:00:00Z" });
    // A late outcome for the first day, after the API read the ranges: its id is past every range.
    await writeBatch(db.sql, batchOf([outcomeAt("detail-late", "2024-08-01T23:00:00Z")], { firstOffset: 10 }));
    expect((await api.get(`/api/outcomes/${await idOf("detail-late")}/`)).body).toMatchObject({ bid_id: "detail-late" });
    await db.setup`insert into auction_outcomes (bid_id, user_id, win_status, "timestamp", raw_data) values ('detail-psql', 'u', true, '2040-01-01T00:00:00Z', '{}')`;
    expect((await api.get(`/api/outcomes/${await idOf("detail-psql")}/`)).body).toMatchObject({ bid_id: "detail-psql" });
    expect((await api.get("/api/outcomes/999999999/")).status).toBe(404);
  });
});
