// `bun run bench writer [--messages 400000] [--batch 1000] [--rounds 8] [--before 011] [--write-results]`:
// what a rollup level costs ingest. The service's writer (writeBatch → helios_store_outcomes, what
// every source calls) stores the same generated messages into two fresh databases in one run: one
// migrated up to --before (without the newest rollup level), one with every migration.
//
// 1. M messages (seed 42, 90 days from 2025-07-01, as `bench ingest`) are mapped once, in batches
//    of --batch messages, by the ingest step's own mapping (toBatchInput).
// 2. Both databases get every day's partition first, as maintenance ahead would, so no batch pays
//    for DDL.
// 3. The batches are split into --rounds rounds; each round writes its batches into one database,
//    then the other, the order swapped every round, so a busy moment on the shared machine falls on
//    both alike. Only the writer's calls are timed.
// 4. Checks: each database holds exactly M rows and the same rollup totals.

import type { Sql } from "../src/db/client";
import { writeBatch } from "../src/ingest/batch-writer";
import { toBatchInput } from "../src/ingest/ingest-step";
import { createOutcomeGenerator, GENERATOR_VERSION, messageValue } from "../src/simulate/generator";
import { PartitionKeeper } from "../src/storage/partitions";
import { parseFlags } from "./args";
import { adminSql, benchSql, checkQuiet, databaseAtMigration, dropDatabase, freshDatabase, machineFacts, preparePartitions, say } from "./environment";
import { appendResults, benchLine, commandLine, machineSection, markdownTable } from "./results";

const START_MS = Date.UTC(2025, 6, 1);
const encoder = new TextEncoder();

/** Rows stored and what the hourly rollup counted: equal on both sides when both wrote everything once. */
async function storedFigures(sql: Sql) {
  const [row] = await sql<{ rows: string; hourly: string }[]>`
    select (select count(*) from auction_outcomes) as rows, (select coalesce(sum(outcomes), 0) from outcome_rollup_hourly) as hourly`;
  return row!;
}

export async function benchWriter(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    integers: { messages: 400_000, batch: 1_000, rounds: 8, seed: 42 },
    strings: { before: "011" },
    booleans: ["write-results"],
  });
  const count = flags.int("messages");
  const batchSize = flags.int("batch");
  const rounds = flags.int("rounds");
  const before = flags.str("before");
  const busy = await checkQuiet();
  const admin = adminSql();
  const names = { without: "helios_bench_writer_before", with: "helios_bench_writer_after" } as const;
  try {
    say(`migrating ${names.without} up to ${before} and ${names.with} fully`);
    await databaseAtMigration(admin, names.without, before);
    await freshDatabase(admin, names.with);
    const pools = { without: benchSql(names.without, 2), with: benchSql(names.with, 2) };
    try {
      for (const sql of Object.values(pools)) await preparePartitions(sql, START_MS, 91);
      const generator = createOutcomeGenerator({ seed: flags.int("seed"), start: START_MS, days: 90, spreadOver: count });
      const batches = [];
      for (let from = 0; from < count; from += batchSize) {
        const sources = [];
        for (let i = from; i < Math.min(count, from + batchSize); i++) {
          const message = generator.messageAt(i);
          const value = messageValue(message);
          sources.push({
            topic: "bench-writer",
            partition: 0,
            offset: String(i),
            key: null,
            payload: typeof value === "string" ? encoder.encode(value) : value,
            timestamp: null,
          });
        }
        batches.push(toBatchInput(sources));
      }
      const keepers = { without: new PartitionKeeper(), with: new PartitionKeeper() };
      const ms = { without: 0, with: 0 };
      const perRound = Math.ceil(batches.length / rounds);
      for (let r = 0; r < rounds; r++) {
        const slice = batches.slice(r * perRound, (r + 1) * perRound);
        const order: ("without" | "with")[] = r % 2 === 0 ? ["without", "with"] : ["with", "without"];
        for (const side of order) {
          const started = performance.now();
          for (const batch of slice) await writeBatch(pools[side], batch, keepers[side]);
          ms[side] += performance.now() - started;
        }
        say(`round ${r + 1}/${rounds}: ${Math.round(ms.without)} ms without, ${Math.round(ms.with)} ms with`);
      }
      const [a, b] = [await storedFigures(pools.without), await storedFigures(pools.with)];
      const [price] = await pools.with<{ rows: string; outcomes: string }[]>`
        select count(*) as rows, sum(outcomes) as outcomes from outcome_rollup_price_hourly`;
      const exact = Number(a.rows) === count && Number(b.rows) === count && a.hourly === b.hourly && Number(price!.outcomes) === 2 * count;
      const rate = (side: "without" | "with") => Math.round(count / (ms[side] / 1000));
      const figures = {
        messages: count,
        batch: batchSize,
        rounds,
        before,
        without_msgs_per_s: rate("without"),
        with_msgs_per_s: rate("with"),
        cost_pct: Math.round((1 - rate("with") / rate("without")) * 1000) / 10,
        price_rollup_rows: Number(price!.rows),
        exact,
        generator_version: GENERATOR_VERSION,
      };
      benchLine("writer", figures);
      if (flags.bool("write-results")) {
        const machine = await machineFacts(admin);
        await appendResults(
          `writer, ${count.toLocaleString("en")} messages, migrations up to ${before} against all`,
          [
            `- command: \`${commandLine()}\``,
            machineSection(machine, busy),
            `- the writer (writeBatch, batches of ${batchSize}) into two fresh databases in ${rounds} alternating rounds; partitions made first`,
            "",
            markdownTable(
              ["schema", "msgs/s"],
              [
                [`migrations up to ${before}`, figures.without_msgs_per_s],
                ["all migrations", figures.with_msgs_per_s],
              ],
            ),
            "",
            `- cost of the newer rollup levels: ${figures.cost_pct}% of the writer's rate; price rollup rows: ${figures.price_rollup_rows.toLocaleString("en")} for ${count.toLocaleString("en")} outcomes over 90 days; exact: ${exact}`,
          ].join("\n"),
        );
      }
      return exact ? 0 : 1;
    } finally {
      await Promise.all(Object.values(pools).map((sql) => sql.end({ timeout: 5 })));
    }
  } finally {
    for (const name of Object.values(names)) await dropDatabase(admin, name);
    await admin.end();
  }
}
