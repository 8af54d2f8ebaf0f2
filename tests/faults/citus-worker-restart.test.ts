// Fault: a Citus worker restarts (fast: every connection to it cut) while the ingest step writes
// batches with redeliveries through the coordinator. Promises checked: nothing lost, nothing
// doubled, the rollups equal the stored rows, and ingest resumes on its own. Runs only against the
// cluster this checkout started with scripts/citus-local.sh (it restarts one of its workers);
// skipped, with the reason printed, otherwise.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { fixedPool } from "../../src/db/pool";
import { createIngestCounters, createIngestStep } from "../../src/ingest/ingest-step";
import { outcomeAt, sourcesOf } from "../support/batches";
import { CITUS, citusSkipReason, createCitusDatabase } from "../support/citus";
import { quietLog, type TestDatabase } from "../support/db";
import { ROOT } from "../support/project";

setDefaultTimeout(180_000);

const port = process.env.CITUS_LOCAL_PORT ?? "55450";
const ownerFile = `${process.env.CITUS_LOCAL_DIR ?? `/tmp/helios-citus-${port}`}/helios-owner`;

function localClusterReason(): string | undefined {
  if (citusSkipReason) return citusSkipReason;
  if (new URL(CITUS.url).port !== port) return `the coordinator at ${new URL(CITUS.url).host} is not scripts/citus-local.sh's (port ${port})`;
  let owner = "";
  try {
    owner = readFileSync(ownerFile, "utf8").trim();
  } catch {}
  if (owner !== ROOT) return `the local Citus cluster was started from ${owner || "elsewhere"}, not this checkout: its workers are not ours to restart`;
  return undefined;
}

const skipReason = localClusterReason();
if (skipReason && !citusSkipReason) console.log(`Citus worker-restart test skipped: ${skipReason}`);

describe.skipIf(skipReason !== undefined)("a Citus worker restarted under ingest", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createCitusDatabase("worker_restart");
  }, 120_000);
  afterAll(async () => {
    await db?.drop();
  }, 120_000);

  test("loses and doubles nothing, keeps the rollups exact, and ingest resumes", async () => {
    const counters = createIngestCounters();
    const step = createIngestStep({ pool: fixedPool(db.sql), log: quietLog, counters, retry: { initialMs: 100, maxMs: 1_000 }, quiet: true });
    const BATCHES = 24;
    const PER_BATCH = 100;
    // Each batch redelivers the last 20 outcomes of the one before: at-least-once delivery.
    const batch = (n: number) =>
      Array.from({ length: PER_BATCH }, (_, i) => {
        const k = n * (PER_BATCH - 20) + i;
        return outcomeAt(`w-${k}`, new Date(Date.UTC(2025, 8, 1 + (k % 3), k % 24)).toISOString(), { win_price: "0.50" });
      });
    let restart: Promise<{ exitCode: number; output: string }> | undefined;
    for (let n = 0; n < BATCHES; n++) {
      if (n === 6) {
        // Not awaited: the restart lands while the next batches are being written.
        restart = (async () => {
          const proc = Bun.spawn(["bash", "scripts/citus-local.sh", "restart-worker", "1"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
          const output = (await new Response(proc.stdout).text()) + (await new Response(proc.stderr).text());
          return { exitCode: await proc.exited, output };
        })();
      }
      const written = await step.ingest(sourcesOf(batch(n), { topic: "worker-restart", firstOffset: n * PER_BATCH }), { abandoned: () => false });
      expect(written).not.toBeNull();
    }
    expect(await restart).toMatchObject({ exitCode: 0 });

    const expected = (BATCHES - 1) * (PER_BATCH - 20) + PER_BATCH;
    const [stored] = await db.setup<{ rows: string; distinct: string }[]>`
      select count(*)::text as rows, count(distinct bid_id)::text as distinct from auction_outcomes`;
    expect(stored).toEqual({ rows: String(expected), distinct: String(expected) });
    const [rolled] = await db.setup<{ outcomes: string; win: string }[]>`
      select sum(outcomes)::text as outcomes, sum(win_price_sum)::text as win from outcome_rollup_hourly`;
    expect(rolled).toEqual({ outcomes: String(expected), win: (expected * 0.5).toFixed(2) });
    expect(counters.successCount).toBe(expected);
    console.log(`worker restart: ${counters.dbRetries} batch retries`);
  });
});
