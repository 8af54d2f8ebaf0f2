// `bun run bench soak [--duration 300] [--concurrency 64] [--messages N] [--max-lag 150000] [--sample-interval 10]
// [--write-results]`: the API under wrk while the consumer ingests at full speed, for a bounded
// time, watching for 5xx and for memory that keeps growing (issue 6, "Load").
//
// 1. A private broker (KAFKA_BROKERS when it answers, else scripts/kafka-local.sh on 19092) and a
//    fresh migrated database seeded by COPY, so the API's queries have data from the first second.
// 2. The consumer and the API roles start as subprocesses; the producer runs in this process,
//    in the background, for as long as wrk does (kafkajs produces about as fast as the consumer
//    ingests, so producing everything first would take longer than the soak itself).
// 3. wrk rotates over six endpoints and counts 5xx apart from other non-2xx in a Lua hook; every
//    --sample-interval seconds the RSS of both processes and the stored row count are recorded.
// 4. After wrk stops, the consumer catches up (bounded): rows must equal seed + produced exactly.
// 5. Flat memory: the median and the peak RSS of the later half of the post-warm-up readings are
//    within 10% of the earlier half's, for both processes (bench/rss-growth.ts says why not two readings).
import { join } from "node:path";
import { CompressionTypes, type Kafka } from "kafkajs";
import type { Sql } from "../src/db/client";
import { createOutcomeGenerator, messageValue, type OutcomeGenerator } from "../src/simulate/generator";
import { startApi } from "./api";
import { parseFlags } from "./args";
import { copyGenerated } from "./copy-load";
import {
  adminSql,
  benchKafka,
  benchSql,
  checkQuiet,
  createBenchTopic,
  deployedRuntimeEnv,
  dropDatabase,
  freePort,
  freshDatabase,
  machineFacts,
  ROOT,
  ramMiB,
  runDirectory,
  say,
  urlFor,
} from "./environment";
import { sampleProcess } from "./process-sampler";
import { appendResults, benchLine, commandLine, machineSection, markdownTable } from "./results";
import { type RssGrowth, rssGrowth } from "./rss-growth";
import { ensureWrk, runWrk } from "./wrk";

/** The soak's own broker: off the shared 9092 so the test suites and the soak never meet. */
const PRIVATE_BROKER = { host: "127.0.0.1", port: 19092, controllerPort: 19093, state: "/tmp/helios-kafka-soak" };
const CATCH_UP_LIMIT_MS = 120_000;
const RSS_GROWTH_LIMIT_PCT = 10;

interface Sample {
  atS: number;
  apiRssMiB: number;
  consumerRssMiB: number;
  /** From each process's /metrics: JS heap in use and memory held outside it (Buffers), MiB. */
  apiHeapMiB: number | null;
  apiExternalMiB: number | null;
  consumerHeapMiB: number | null;
  consumerExternalMiB: number | null;
  rows: number;
  produced: number;
}

// ---------------------------------------------------------------------------------------------
// Broker.

async function answers(hostPort: string): Promise<boolean> {
  const [host, port] = hostPort.split(":") as [string, string];
  try {
    const socket = await Bun.connect({ hostname: host, port: Number(port), socket: { data() {} } });
    socket.end();
    return true;
  } catch {
    return false;
  }
}

function kafkaLocal(command: "start" | "stop"): number {
  const result = Bun.spawnSync(["bash", join(ROOT, "scripts/kafka-local.sh"), command], {
    env: {
      ...process.env,
      KAFKA_PORT: String(PRIVATE_BROKER.port),
      KAFKA_CONTROLLER_PORT: String(PRIVATE_BROKER.controllerPort),
      KAFKA_LOCAL_STATE: PRIVATE_BROKER.state,
    },
    stdout: "inherit",
    stderr: "inherit",
  });
  return result.exitCode;
}

/** The brokers to use and whether this run started them (and so must stop them). */
async function soakBroker(): Promise<{ brokers: string; started: boolean }> {
  const given = process.env.KAFKA_BROKERS;
  if (given && (await answers(given.split(",")[0]!))) return { brokers: given, started: false };
  const brokers = `${PRIVATE_BROKER.host}:${PRIVATE_BROKER.port}`;
  if (await answers(brokers)) {
    say(`a broker already answers on ${brokers}: using it, and leaving it running`);
    return { brokers, started: false };
  }
  say(`starting a private broker on ${brokers} (state in ${PRIVATE_BROKER.state})`);
  if (kafkaLocal("start") !== 0) throw new Error("scripts/kafka-local.sh start failed for the soak broker");
  return { brokers, started: true };
}

// ---------------------------------------------------------------------------------------------
// Background producer: full speed until told to stop or `limit` messages are acknowledged, but
// never more than `maxLag` ahead of what the consumer has stored: enough backlog to keep it busy,
// not so much that catching up after the load outlasts its bound (or that producing starves the
// processes under test of CPU on a small machine).

function backgroundProducer(
  kafka: Kafka,
  topic: string,
  generator: OutcomeGenerator,
  limit: number,
  maxLag: number,
  ingested: () => number,
  batchSize = 2_000,
) {
  let acknowledged = 0;
  let stopping = false;
  const run = async () => {
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const inFlight = new Set<Promise<unknown>>();
    try {
      for (let from = 0; !stopping && from < limit; from += batchSize) {
        while (!stopping && from - ingested() >= maxLag) await Bun.sleep(100);
        if (stopping) break;
        const count = Math.min(batchSize, limit - from);
        const messages = [];
        for (let i = from; i < from + count; i++) {
          const message = generator.messageAt(i);
          messages.push({ key: message.key, value: messageValue(message) as string });
        }
        // acks -1: a message counts as produced only once the broker has it for good.
        const sent: Promise<unknown> = producer
          .send({ topic, messages, acks: -1, compression: CompressionTypes.None })
          .then(() => (acknowledged += count))
          .finally(() => inFlight.delete(sent));
        inFlight.add(sent);
        if (inFlight.size >= 4) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    } finally {
      await producer.disconnect();
    }
  };
  const done = run();
  return {
    produced: () => acknowledged,
    /** Stops producing; resolves with the final acknowledged count once nothing is in flight. */
    async stop(): Promise<number> {
      stopping = true;
      await done;
      return acknowledged;
    },
    done,
  };
}

// ---------------------------------------------------------------------------------------------
// wrk script: six endpoints in rotation, 5xx counted apart from other non-2xx.

async function soakScript(dir: string, idLo: number, idHi: number): Promise<string> {
  const path = join(dir, "soak.lua");
  await Bun.write(
    path,
    `-- Rotates over the API's endpoints; the detail asks for a random id of the seeded rows.
local lo, hi = ${idLo}, ${idHi}
local paths = {
  "/api/outcomes/",
  "/api/outcomes/?win_status=true&ordering=-win_price",
  "/api/outcomes/stats/",
  "/api/outcomes/daily_stats/",
  false,
  "/api/outcomes/?cursor=&page_size=50",
}
local threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end
function init(args)
  math.randomseed(os.time() * 1000 + id)
  n = id
  server_errors = 0
  other_non2xx = 0
end
function request()
  n = n + 1
  local path = paths[(n % #paths) + 1]
  if not path then path = "/api/outcomes/" .. math.random(lo, hi) .. "/" end
  return wrk.format("GET", path)
end
function response(status, headers, body)
  if status >= 500 then
    server_errors = server_errors + 1
  elseif status < 200 or status > 299 then
    other_non2xx = other_non2xx + 1
  end
end
function done(summary, latency, requests)
  local s5, other = 0, 0
  for _, t in ipairs(threads) do
    s5 = s5 + t:get("server_errors")
    other = other + t:get("other_non2xx")
  end
  io.write(string.format("SOAK server_errors=%d other_non2xx=%d p50_us=%d p99_us=%d max_us=%d\\n",
    s5, other, latency:percentile(50), latency:percentile(99), latency.max))
end
`,
  );
  return path;
}

function soakCounts(raw: string): { serverErrors: number; otherNon2xx: number; p50Ms: number; p99Ms: number; maxMs: number } {
  const match = /SOAK server_errors=(\d+) other_non2xx=(\d+) p50_us=(\d+) p99_us=(\d+) max_us=(\d+)/.exec(raw);
  if (!match) throw new Error(`the wrk script printed no SOAK line:\n${raw}`);
  const [, s5, other, p50, p99, max] = match.map(Number) as number[];
  return { serverErrors: s5!, otherNon2xx: other!, p50Ms: p50! / 1000, p99Ms: p99! / 1000, maxMs: max! / 1000 };
}

// ---------------------------------------------------------------------------------------------
// Figures.

async function rowCount(sql: Sql): Promise<number> {
  const [row] = await sql<{ value: string }[]>`select count(*)::text as value from auction_outcomes`;
  return Number(row!.value);
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** The process metrics a component exports (prom-client defaults), MiB; null when not scraped. */
async function processMemory(port: number): Promise<{ heapMiB: number | null; externalMiB: number | null }> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
    const value = (name: string) => {
      const match = new RegExp(`^${name} ([0-9.e+]+)$`, "m").exec(text);
      return match ? round1(Number(match[1]) / 1024 / 1024) : null;
    };
    return { heapMiB: value("nodejs_heap_size_used_bytes"), externalMiB: value("nodejs_external_memory_bytes") };
  } catch {
    return { heapMiB: null, externalMiB: null };
  }
}

export async function benchSoak(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    integers: { duration: 300, concurrency: 64, messages: 0, "max-lag": 150_000, "sample-interval": 10, seed: 42, partitions: 4, "seed-rows": 200_000 },
    strings: { "log-level": "WARN" },
    booleans: ["keep", "write-results"],
  });
  const durationS = flags.int("duration");
  const concurrency = flags.int("concurrency");
  const intervalS = Math.max(1, flags.int("sample-interval"));
  const seedRows = flags.int("seed-rows");
  // 0 = no cap: the producer runs for the whole duration (the consumer must never run dry).
  const messageLimit = flags.int("messages") || Number.MAX_SAFE_INTEGER;
  const warmupS = Math.min(60, durationS * 0.2);
  const runId = `${Date.now().toString(36)}${process.pid.toString(36)}`;
  const database = `helios_bench_soak_${runId}`;
  const topic = `helios-soak-${runId}`;
  const outDir = await runDirectory("soak");
  await ensureWrk();

  const admin = adminSql();
  let broker: { brokers: string; started: boolean } | null = null;
  let kafkaAdmin: ReturnType<Kafka["admin"]> | null = null;
  let topicCreated = false;
  const children: { name: string; proc: Bun.Subprocess }[] = [];
  let producer: ReturnType<typeof backgroundProducer> | null = null;
  try {
    const busy = await checkQuiet();
    const machine = await machineFacts(admin);
    broker = await soakBroker();
    const kafka = benchKafka("helios-soak", broker.brokers);
    kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    await createBenchTopic(kafkaAdmin, topic, flags.int("partitions"));
    topicCreated = true;

    say(`fresh database ${database}, seeded with ${seedRows.toLocaleString("en")} rows by COPY`);
    await freshDatabase(admin, database);
    const sql = benchSql(database, 1);
    try {
      // The seed and the stream use different seeds: generated ids never collide across seeds.
      if (seedRows > 0) await copyGenerated(sql, createOutcomeGenerator({ seed: flags.int("seed"), spreadOver: seedRows }), 0, seedRows);
      await sql`vacuum (analyze)`;
      const [range] = await sql<{ lo: string | null; hi: string | null }[]>`select min(id)::text as lo, max(id)::text as hi from auction_outcomes`;
      const idLo = Number(range?.lo ?? 1);
      const idHi = Number(range?.hi ?? 1);
      const script = await soakScript(outDir, idLo, idHi);

      const port = freePort();
      const api = await startApi(database, port, flags.str("log-level"), outDir);
      children.push({ name: "api", proc: api });
      const consumerHealthPort = freePort();
      const consumer = Bun.spawn([process.execPath, "run", "src/main.ts", "consumer"], {
        cwd: ROOT,
        env: {
          ...process.env,
          ...deployedRuntimeEnv("consumer"),
          DATABASE_URL: urlFor(database),
          KAFKA_BROKERS: broker.brokers,
          KAFKA_TOPIC_AUCTION_OUTCOMES: topic,
          KAFKA_CONSUMER_GROUP: `helios-soak-${runId}`,
          LOG_LEVEL: flags.str("log-level"),
          CONSUMER_HEALTH_PORT: String(consumerHealthPort),
        },
        stdout: Bun.file(join(outDir, "consumer.stdout.log")),
        stderr: Bun.file(join(outDir, "consumer.stderr.log")),
      });
      children.push({ name: "consumer", proc: consumer });

      const streamGenerator = createOutcomeGenerator({ seed: flags.int("seed") + 1, spreadOver: Math.min(messageLimit, 10_000_000) });
      // The lag is judged from the last sample's row count: no extra queries on the database under test.
      const samples: Sample[] = [];
      producer = backgroundProducer(kafka, topic, streamGenerator, messageLimit, flags.int("max-lag"), () => samples[samples.length - 1]?.rows ?? 0);
      void producer.done.catch((error) => say(`producer failed: ${(error as Error).message}`));

      const started = performance.now();
      const takeSample = async () => {
        const apiNow = sampleProcess(api.pid);
        const consumerNow = sampleProcess(consumer.pid);
        if (!apiNow || !consumerNow) throw new Error(`the ${!apiNow ? "API" : "consumer"} exited during the soak (logs in ${outDir})`);
        const [apiMemory, memory] = await Promise.all([processMemory(port), processMemory(consumerHealthPort)]);
        const sample = {
          atS: Math.round((performance.now() - started) / 1000),
          apiRssMiB: round1(apiNow.rssMiB),
          consumerRssMiB: round1(consumerNow.rssMiB),
          apiHeapMiB: apiMemory.heapMiB,
          apiExternalMiB: apiMemory.externalMiB,
          consumerHeapMiB: memory.heapMiB,
          consumerExternalMiB: memory.externalMiB,
          rows: (await rowCount(sql)) - seedRows,
          produced: producer!.produced(),
        };
        samples.push(sample);
        say(
          `t=${sample.atS}s API ${sample.apiRssMiB} MiB, consumer ${sample.consumerRssMiB} MiB, ingested ${sample.rows.toLocaleString("en")} of ${sample.produced.toLocaleString("en")} produced`,
        );
      };

      say(`wrk: ${concurrency} connections for ${durationS} s over 6 endpoints; sampling every ${intervalS} s`);
      await takeSample();
      const wrk = runWrk({ baseUrl: `http://127.0.0.1:${port}`, path: "/", durationS, concurrency, script });
      let wrkDone = false;
      void wrk.finally(() => (wrkDone = true)).catch(() => {});
      let sampleError: unknown = null;
      while (!wrkDone) {
        const next = started + samples.length * intervalS * 1000;
        while (!wrkDone && performance.now() < next) await Bun.sleep(100);
        if (wrkDone) break;
        try {
          await takeSample();
        } catch (error) {
          sampleError = error;
          break;
        }
      }
      const http = await wrk;
      if (sampleError) throw sampleError;
      await takeSample();
      const loadEnd = samples[samples.length - 1]!;
      const produced = await producer.stop();
      const counts = soakCounts(http.raw);
      say(
        `wrk done: ${Math.round(http.requestsPerSecond)} req/s, p50 ${counts.p50Ms} ms, p99 ${counts.p99Ms} ms, 5xx ${counts.serverErrors}, other non-2xx ${counts.otherNon2xx}`,
      );

      say(`producer stopped at ${produced.toLocaleString("en")} messages; waiting (≤ ${CATCH_UP_LIMIT_MS / 1000} s) for the consumer to catch up`);
      const catchUpStarted = performance.now();
      let ingested = (await rowCount(sql)) - seedRows;
      while (ingested < produced && performance.now() - catchUpStarted < CATCH_UP_LIMIT_MS) {
        await Bun.sleep(500);
        ingested = (await rowCount(sql)) - seedRows;
      }
      const catchUpS = (performance.now() - catchUpStarted) / 1000;
      // Settle: anything written after the count reached the target would be a duplicate.
      await Bun.sleep(2000);
      ingested = (await rowCount(sql)) - seedRows;
      const [dead] = await sql<{ value: string }[]>`select count(*)::text as value from dead_letters`;
      const deadLetters = Number(dead!.value);
      const exactlyOnce = ingested === produced && deadLetters === 0;

      const loadStart = samples[0]!;
      const ingestRate = (loadEnd.rows - loadStart.rows) / Math.max(1, loadEnd.atS - loadStart.atS);
      const growthOf = (pick: (s: Sample) => number) =>
        rssGrowth(
          samples.map((s) => [s.atS, pick(s)] as const),
          warmupS,
        );
      const apiGrowth = growthOf((s) => s.apiRssMiB);
      const consumerGrowth = growthOf((s) => s.consumerRssMiB);
      const flat = (g: RssGrowth) => g.medianPct < RSS_GROWTH_LIMIT_PCT && g.peakPct < RSS_GROWTH_LIMIT_PCT;
      const rssFlat = flat(apiGrowth) && flat(consumerGrowth);
      const passed = counts.serverErrors === 0 && rssFlat && exactlyOnce;

      const figures = {
        duration_s: durationS,
        concurrency,
        requests: http.requests,
        rps: Math.round(http.requestsPerSecond),
        p50_ms: counts.p50Ms,
        p99_ms: counts.p99Ms,
        max_ms: counts.maxMs,
        server_errors_5xx: counts.serverErrors,
        other_non2xx: counts.otherNon2xx,
        socket_errors: http.errors - counts.serverErrors - counts.otherNon2xx,
        api_rss_start_mb: samples.find((s) => s.atS === apiGrowth.fromS)!.apiRssMiB,
        api_rss_end_mb: loadEnd.apiRssMiB,
        api_rss_median_growth_pct: round1(apiGrowth.medianPct),
        api_rss_peak_growth_pct: round1(apiGrowth.peakPct),
        api_rss_first_last_pct: round1(apiGrowth.firstLastPct),
        consumer_rss_start_mb: samples.find((s) => s.atS === consumerGrowth.fromS)!.consumerRssMiB,
        consumer_rss_end_mb: loadEnd.consumerRssMiB,
        consumer_rss_median_growth_pct: round1(consumerGrowth.medianPct),
        consumer_rss_peak_growth_pct: round1(consumerGrowth.peakPct),
        consumer_rss_first_last_pct: round1(consumerGrowth.firstLastPct),
        warmup_s: consumerGrowth.fromS,
        produced,
        ingested_during_load: loadEnd.rows,
        ingest_msgs_per_s_under_load: Math.round(ingestRate),
        final_rows: ingested,
        dead_letters: deadLetters,
        catch_up_s: round1(catchUpS),
        exactly_once: exactlyOnce,
        seed_rows: seedRows,
        max_lag: flags.int("max-lag"),
        passed,
        machine_busy_pct: busy,
      };
      benchLine("soak", figures);

      if (flags.bool("write-results")) {
        await appendResults(
          `soak, ${durationS} s at concurrency ${concurrency} while the consumer ingests`,
          [
            `- command: \`${commandLine()}\``,
            machineSection(machine, busy),
            `- broker ${broker.brokers}${broker.started ? " (private, started for the run)" : ""}; topic of ${flags.int("partitions")} partitions; ${seedRows.toLocaleString("en")} seed rows by COPY; API and consumer LOG_LEVEL=${flags.str("log-level")}; BUN_JSC_forceRAMSize API ${ramMiB("api")} MiB, consumer ${ramMiB("consumer")} MiB (their k8s memory limits)`,
            "- wrk 2 threads rotating over `/api/outcomes/`, `?win_status=true&ordering=-win_price`, `stats/`, `daily_stats/`, `<random id>/`, `?cursor=&page_size=50`; the producer runs in the background for the whole load, at most " +
              `${flags.int("max-lag").toLocaleString("en")} messages ahead of the rows stored`,
            "",
            markdownTable(
              ["figure", "value"],
              [
                ["requests", `${http.requests.toLocaleString("en")} (**${Math.round(http.requestsPerSecond).toLocaleString("en")} req/s**)`],
                ["latency p50 / p99 / max", `${counts.p50Ms} / **${counts.p99Ms}** / ${counts.maxMs} ms`],
                ["5xx", `**${counts.serverErrors}**`],
                ["other non-2xx / socket errors", `${counts.otherNon2xx} / ${figures.socket_errors}`],
                [
                  `API RSS growth after warm-up (t=${apiGrowth.fromS} s → ${loadEnd.atS} s), later half against earlier: median / peak`,
                  `**${figures.api_rss_median_growth_pct}% / ${figures.api_rss_peak_growth_pct}%**`,
                ],
                [
                  `consumer RSS growth after warm-up (t=${consumerGrowth.fromS} s → ${loadEnd.atS} s), later half against earlier: median / peak`,
                  `**${figures.consumer_rss_median_growth_pct}% / ${figures.consumer_rss_peak_growth_pct}%**`,
                ],
                [
                  "RSS last reading against first after warm-up (informational: two points of the GC cycle)",
                  `API ${figures.api_rss_first_last_pct}% (${figures.api_rss_start_mb} → ${figures.api_rss_end_mb} MiB), consumer ${figures.consumer_rss_first_last_pct}% (${figures.consumer_rss_start_mb} → ${figures.consumer_rss_end_mb} MiB)`,
                ],
                [
                  "ingested during the load",
                  `${loadEnd.rows.toLocaleString("en")} messages, **${figures.ingest_msgs_per_s_under_load.toLocaleString("en")} msg/s**`,
                ],
                [
                  "exactly once after catch-up",
                  `${exactlyOnce} (${produced.toLocaleString("en")} produced, ${ingested.toLocaleString("en")} rows, ${deadLetters} dead letters, caught up in ${figures.catch_up_s} s)`,
                ],
                ["verdict (no 5xx, RSS median and peak growth < 10% for both, exactly once)", passed ? "**pass**" : "**FAIL**"],
              ],
            ),
            "",
            markdownTable(
              [
                "t (s)",
                "API RSS MiB",
                "API heap used / external MiB",
                "consumer RSS MiB",
                "consumer heap used / external MiB",
                "rows ingested",
                "messages produced",
              ],
              samples.map((s) => [
                s.atS,
                s.apiRssMiB,
                `${s.apiHeapMiB ?? "–"} / ${s.apiExternalMiB ?? "–"}`,
                s.consumerRssMiB,
                `${s.consumerHeapMiB ?? "–"} / ${s.consumerExternalMiB ?? "–"}`,
                s.rows.toLocaleString("en"),
                s.produced.toLocaleString("en"),
              ]),
            ),
          ].join("\n"),
        );
      }
      return passed ? 0 : 1;
    } finally {
      await producer?.stop().catch(() => {});
      for (const { proc } of children) proc.kill("SIGTERM");
      for (const { name, proc } of children) {
        const code = await Promise.race([proc.exited, Bun.sleep(15_000).then(() => null)]);
        if (code === null) {
          say(`the ${name} did not stop within 15 s of SIGTERM; sending SIGKILL`);
          proc.kill("SIGKILL");
          await proc.exited;
        }
      }
      await sql.end({ timeout: 5 });
    }
  } finally {
    if (topicCreated && kafkaAdmin && !broker?.started) await kafkaAdmin.deleteTopics({ topics: [topic] }).catch(() => {});
    await kafkaAdmin?.disconnect().catch(() => {});
    if (broker?.started) {
      say("stopping the private broker");
      kafkaLocal("stop");
    }
    if (flags.bool("keep")) say(`kept database ${database}`);
    else await dropDatabase(admin, database).catch(() => {});
    await admin.end({ timeout: 5 });
  }
}
