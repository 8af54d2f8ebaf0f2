// `bun run bench citus [--outcomes N] [--batch N] [--shards N] [--requests N] [--rollups reference|distributed]`: the same simulated
// outcomes written through the service's writer into single-node PostgreSQL (BENCH_DATABASE_URL)
// and into the local Citus cluster (TEST_CITUS_URL or scripts/citus-local.sh's coordinator), then:
// ingest rate on each, how evenly rows spread over the shards when distributed by bid_id (what
// migration 016 does) and how they would spread by user_id (the same hash over user_id), and the
// median latency of API requests on each. On one machine this measures Citus's overhead, not its
// scaling: the coordinator and both workers share the same cores. Results: docs/scaling-out.md.
import { fixedPool } from "../src/db/pool";
import { createIngestCounters, createIngestStep } from "../src/ingest/ingest-step";
import { createOutcomeGenerator, messageValue, siteDomainOf, userIdOf } from "../src/simulate/generator";
import { citusSkipReason, createCitusDatabase } from "../tests/support/citus";
import { createTestDatabase, quietLog, type TestDatabase } from "../tests/support/db";
import { testApp } from "../tests/support/http";
import { BenchUsageError, parseFlags } from "./args";
import { say } from "./environment";

const PATHS: string[] = [
  "/api/outcomes/stats/",
  "/api/outcomes/daily_stats/",
  "/api/outcomes/?page_size=100",
  "/api/outcomes/?cursor=&page_size=100&ordering=-timestamp",
  `/api/outcomes/?user_id=${userIdOf(1)}&page_size=100`,
  `/api/outcomes/?site_domain=${siteDomainOf(1)}&page_size=100`,
  "/api/outcomes/1000/",
  "/api/outcomes/?from=2025-07-02&to=2025-07-03&ordering=-win_price&page_size=100",
  "/api/outcomes/winners/?page_size=20",
  "/api/outcomes/top/?by=user_id",
];

/** Through the ingest step, as the consumer writes: a batch that fails (a statement timeout) is retried until it commits. */
async function ingest(db: TestDatabase, outcomes: number, batch: number): Promise<{ perSecond: number; retries: number }> {
  const generator = createOutcomeGenerator({ seed: 18, spreadOver: outcomes, days: 7 });
  const counters = createIngestCounters();
  const step = createIngestStep({ pool: fixedPool(db.sql), log: quietLog, counters, quiet: true });
  const encoder = new TextEncoder();
  const started = performance.now();
  for (let from = 0; from < outcomes; from += batch) {
    const sources = [...generator.messages(from, Math.min(batch, outcomes - from))].map((message) => {
      const value = messageValue(message);
      return {
        topic: "bench",
        partition: message.index % 12,
        offset: String(message.index),
        key: null,
        payload: typeof value === "string" ? encoder.encode(value) : value,
        timestamp: "2025-07-01T00:00:00.000Z",
      };
    });
    await step.ingest(sources, { abandoned: () => false });
  }
  return { perSecond: Math.round(outcomes / ((performance.now() - started) / 1000)), retries: counters.dbRetries };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

async function latencies(db: TestDatabase, requests: number): Promise<Record<string, number>> {
  const app = testApp(db.config, db.sql);
  const out: Record<string, number> = {};
  for (const path of PATHS) {
    const times: number[] = [];
    for (let i = 0; i < requests; i++) {
      // No change feed given to the app: no aggregate is kept, each request reads the database.
      const started = performance.now();
      const response = await app.get(path);
      if (response.status !== 200) throw new Error(`${path}: ${response.status} ${response.text.slice(0, 200)}`);
      times.push(performance.now() - started);
    }
    out[path] = Math.round(median(times) * 10) / 10;
  }
  return out;
}

/** Rows per shard, as max ÷ mean, when hashed on `column` with auction_outcomes' own hash. */
async function spread(db: TestDatabase, column: "bid_id" | "user_id"): Promise<{ shards: number; maxOverMean: number; largestShardShare: number }> {
  const rows = await db.setup<{ n: string }[]>`
    select count(*)::text as n from (select ${db.setup(column)} as value from auction_outcomes) o
     group by get_shard_id_for_distribution_column('auction_outcomes', o.value)`;
  const counts = rows.map((row) => Number(row.n));
  const total = counts.reduce((a, b) => a + b, 0);
  const max = Math.max(...counts);
  return {
    shards: counts.length,
    maxOverMean: Math.round((max / (total / counts.length)) * 100) / 100,
    largestShardShare: Math.round((max / total) * 1000) / 10,
  };
}

/**
 * Disk an outcome takes as heap (table alone, and with its 11 indexes), read on the single-node
 * database (on the cluster, shards this small are mostly each relation's fixed pages), against the
 * same rows in one Citus columnar table (no index): what COLUMNAR_AFTER_DAYS would save.
 */
async function diskPerOutcome(single: TestDatabase, citus: TestDatabase, outcomes: number): Promise<Record<string, number>> {
  const [heap] = await single.setup<{ table: string; total: string }[]>`
    select sum(pg_table_size(name::regclass))::text as table, sum(pg_total_relation_size(name::regclass))::text as total
      from (select name from outcome_partitions union all select 'auction_outcomes_default') p`;
  // Citus 12+ ships columnar as an extension of its own.
  await citus.setup`create extension if not exists citus_columnar`;
  await citus.setup`create table bench_outcomes_columnar (like auction_outcomes) using columnar`;
  await citus.setup`insert into bench_outcomes_columnar select * from auction_outcomes`;
  const [columnar] = await citus.setup<{ size: string }[]>`select pg_total_relation_size('bench_outcomes_columnar')::text as size`;
  await citus.setup`drop table bench_outcomes_columnar`;
  const perOutcome = (bytes: string) => Math.round(Number(bytes) / outcomes);
  return { heap_table_bytes: perOutcome(heap!.table), heap_with_indexes_bytes: perOutcome(heap!.total), columnar_bytes: perOutcome(columnar!.size) };
}

export async function benchCitus(args: string[]): Promise<number> {
  const flags = parseFlags(args, { integers: { outcomes: 50_000, batch: 1_000, shards: 32, requests: 20 }, strings: { rollups: "reference" } });
  const rollups = flags.str("rollups");
  if (rollups !== "distributed" && rollups !== "reference")
    throw new BenchUsageError(`--rollups ${rollups}: expected reference (migration 016) or distributed`);
  if (citusSkipReason) throw new BenchUsageError(`bench citus needs a Citus coordinator: ${citusSkipReason}`);
  const outcomes = flags.int("outcomes");
  const single = await createTestDatabase("bench_citus_single");
  const citus = await createCitusDatabase("bench", { shardCount: flags.int("shards") });
  try {
    // The alternative migration 016 did not take, for comparison: rollups hashed on their time.
    if (rollups === "distributed") {
      for (const [table, column] of [
        ["outcome_rollup_hourly", "bucket"],
        ["outcome_rollup_daily_site", "day"],
      ] as const) {
        await citus.setup`select undistribute_table(${table})`;
        await citus.setup`select create_distributed_table(${table}, ${column})`;
      }
    }
    say(`writing ${outcomes} outcomes in batches of ${flags.int("batch")} into single-node PostgreSQL`);
    const singleRate = await ingest(single, outcomes, flags.int("batch"));
    say(`writing the same into Citus (${flags.int("shards")} shards over 2 workers)`);
    const citusRate = await ingest(citus, outcomes, flags.int("batch"));
    const result = {
      outcomes,
      shards: flags.int("shards"),
      rollups,
      ingest: { single: singleRate, citus: citusRate },
      spread: { bid_id: await spread(citus, "bid_id"), user_id: await spread(citus, "user_id") },
      disk_per_outcome: await diskPerOutcome(single, citus, outcomes),
      median_ms: { single: await latencies(single, flags.int("requests")), citus: await latencies(citus, flags.int("requests")) },
    };
    console.log(JSON.stringify(result, null, 2));
    return 0;
  } finally {
    await Promise.all([single.drop(), citus.drop()]);
  }
}
