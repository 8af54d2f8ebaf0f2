// `bun run bench api [--rows 10000000] [--duration 10] [--concurrency 32] [--reuse]`: every query
// of issue 4 through the real API role under wrk, against the same SQL under pgbench, in one run.
//
// 1. N generated rows are COPYed into `helios_bench_<N>` (secondary indexes built after the load,
//    as a bulk load does), then VACUUM (FREEZE, ANALYZE). With --reuse a database of that name
//    holding the same N rows of the same seed is kept, only migrated and analyzed again.
// 2. Each query's SQL is captured from the app itself (bench/sql-capture.ts) into pgbench scripts.
// 3. The API role starts as a subprocess; per query: a short warm-up, wrk for --duration at
//    --concurrency, then pgbench with the captured statements for as long at the same concurrency.
import { join } from "node:path";
import type { Sql } from "../src/db/client";
import { encodeCursor, orderingText, parseOrdering } from "../src/outcomes/outcomes.paging";
import { createOutcomeGenerator, GENERATOR_VERSION, siteDomainOf, userIdOf } from "../src/simulate/generator";
import { parseFlags } from "./args";
import { copyGenerated } from "./copy-load";
import {
  adminSql,
  benchSql,
  checkQuiet,
  configFor,
  databaseExists,
  deployedRuntimeEnv,
  dropDatabase,
  freePort,
  freshDatabase,
  machineFacts,
  migrate,
  preparePartitions,
  ROOT,
  ramMiB,
  runDirectory,
  SERVER_URL,
  say,
  urlFor,
} from "./environment";
import { watchProcess } from "./process-sampler";
import { appendResults, benchLine, commandLine, machineSection, markdownTable } from "./results";
import { captureStatements, type PgbenchResult, runPgbench, writePgbenchScript } from "./sql-capture";
import { ensureWrk, type HttpLoadResult, randomIdScript, runWrk } from "./wrk";

const PAGE_SIZE = 100;
const DAY_MS = 86_400_000;

interface ApiQuery {
  name: string;
  path: string;
  /** Detail: every request asks for a random id instead of `path`'s. */
  randomId?: boolean;
  /** Issue 4's extra target: p50 ≤ 5 ms. */
  p50TargetMs?: number;
}

// ---------------------------------------------------------------------------------------------
// Loading.

async function databaseMarker(admin: Sql, name: string): Promise<string | null> {
  const [row] = await admin<{ marker: string | null }[]>`
    select shobj_description(oid, 'pg_database') as marker from pg_database where datname = ${name}`;
  return row?.marker ?? null;
}

/** COMMENT takes no bind parameters: name and marker are checked to be plain before splicing. */
async function setDatabaseMarker(admin: Sql, name: string, marker: string): Promise<void> {
  if (!/^[a-z0-9_]+$/.test(name) || !/^[a-z0-9=_ .-]+$/.test(marker)) throw new Error(`unsafe database name or marker: ${name} ${marker}`);
  await admin.unsafe(`comment on database "${name}" is '${marker}'`);
}

/**
 * Secondary indexes and unique constraints of auction_outcomes as the catalog defines them;
 * dropped before a bulk load and rebuilt after it (one sort per index instead of N random inserts).
 */
async function withIndexesBuiltAfter(sql: Sql, load: () => Promise<void>): Promise<void> {
  const constraints = await sql<{ name: string; definition: string }[]>`
    select conname as name, pg_get_constraintdef(oid) as definition from pg_constraint
    where conrelid = 'auction_outcomes'::regclass and contype = 'u'`;
  const indexes = await sql<{ name: string; definition: string }[]>`
    select i.relname as name, pg_get_indexdef(i.oid) as definition
    from pg_index x join pg_class i on i.oid = x.indexrelid
    where x.indrelid = 'auction_outcomes'::regclass and not x.indisprimary
      and not exists (select 1 from pg_constraint c where c.conindid = x.indexrelid)`;
  for (const c of constraints) await sql`alter table auction_outcomes drop constraint ${sql(c.name)}`;
  for (const i of indexes) await sql`drop index ${sql(i.name)}`;
  await load();
  const started = performance.now();
  await sql`set maintenance_work_mem = '1GB'`;
  // Definitions come from the catalog of this very table: trusted text, not user input.
  for (const c of constraints) await sql.unsafe(`alter table auction_outcomes add constraint "${c.name}" ${c.definition}`);
  // A partitioned table's index is defined ON ONLY the table; built again, it must reach every partition.
  for (const i of indexes) await sql.unsafe(i.definition.replace(" ON ONLY ", " ON "));
  say(`rebuilt ${constraints.length} unique constraint(s) and ${indexes.length} index(es) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

export async function loadRows(
  admin: Sql,
  database: string,
  rows: number,
  seed: number,
  reuse: boolean,
  indexesAfter: boolean,
): Promise<{ loaded: boolean; seconds: number }> {
  const marker = `rows=${rows} seed=${seed} generator=${GENERATOR_VERSION}`;
  if (reuse && (await databaseExists(admin, database)) && (await databaseMarker(admin, database)) === marker) {
    const sql = benchSql(database, 1);
    try {
      const [{ count }] = (await sql<{ count: string }[]>`select count(*)::text as count from auction_outcomes`) as unknown as [{ count: string }];
      if (Number(count) === rows) {
        const applied = await migrate(database);
        say(`reusing ${database} (${rows.toLocaleString("en")} rows${applied.length ? `; applied ${applied.join(", ")}` : ""})`);
        await sql`vacuum (analyze)`;
        return { loaded: false, seconds: 0 };
      }
      say(`${database} holds ${count} rows, not ${rows}: loading it again`);
    } finally {
      await sql.end({ timeout: 5 });
    }
  }
  say(`loading ${rows.toLocaleString("en")} rows into ${database} with COPY`);
  await freshDatabase(admin, database);
  const sql = benchSql(database, 1);
  const started = performance.now();
  try {
    const generator = createOutcomeGenerator({ seed, spreadOver: rows });
    // Every day of the window gets its partition before the load, as maintenance ahead would.
    await preparePartitions(sql, generator.options.startMs, generator.options.days);
    let lastReport = started;
    const copy = () =>
      copyGenerated(sql, generator, 0, rows, {
        chunkRows: 100_000,
        onChunk: (done) => {
          const now = performance.now();
          if (now - lastReport > 10_000 || done === rows) {
            lastReport = now;
            const rate = done / ((now - started) / 1000);
            say(`  ${done.toLocaleString("en")} rows, ${Math.round(rate).toLocaleString("en")} rows/s, ~${Math.round((rows - done) / rate)} s to go`);
          }
        },
      });
    if (indexesAfter) await withIndexesBuiltAfter(sql, copy);
    else await copy();
    say("VACUUM (FREEZE, ANALYZE): visibility map for index-only scans, statistics for the planner");
    await sql`vacuum (freeze, analyze)`;
  } finally {
    await sql.end({ timeout: 5 });
  }
  await setDatabaseMarker(admin, database, marker);
  const seconds = (performance.now() - started) / 1000;
  say(`loaded in ${seconds.toFixed(1)} s`);
  return { loaded: true, seconds };
}

// ---------------------------------------------------------------------------------------------
// The queries.

/** The deepest page of issue 4 (5000) when the data has it, else the last full page. */
function deepPageFor(rows: number, wanted: number): number {
  return Math.max(2, Math.min(wanted, Math.floor(rows / PAGE_SIZE)));
}

/** A cursor whose next page is exactly page `page` of the default ordering, made from the row before it. */
async function cursorForPage(sql: Sql, page: number): Promise<string> {
  const keys = parseOrdering(undefined);
  const [row] = await sql<Record<string, string>[]>`
    select "timestamp", id::text as id from auction_outcomes
    order by "timestamp" desc, id desc offset ${(page - 1) * PAGE_SIZE - 1} limit 1`;
  if (!row) throw new Error(`no row before page ${page}`);
  return encodeCursor({ ordering: orderingText(keys), values: keys.map((key) => String(row[key.field])), forward: true });
}

function apiQueries(ctx: { heavyUser: string; heavySite: string; deepPage: number; cursor: string; from: string; to: string; sampleId: number }): ApiQuery[] {
  const q = (params: Record<string, string>) => `?${new URLSearchParams(params)}`;
  return [
    { name: "list", path: "/api/outcomes/" },
    { name: "list_user", path: `/api/outcomes/${q({ user_id: ctx.heavyUser })}` },
    { name: "list_site_wins_by_price", path: `/api/outcomes/${q({ site_domain: ctx.heavySite, win_status: "true", ordering: "-win_price" })}` },
    { name: "list_price_range", path: `/api/outcomes/${q({ min_price: "0.5", max_price: "1.0" })}` },
    { name: "list_page_deep", path: `/api/outcomes/${q({ page: String(ctx.deepPage) })}` },
    { name: "list_cursor_deep", path: `/api/outcomes/${q({ cursor: ctx.cursor })}` },
    { name: "detail", path: `/api/outcomes/${ctx.sampleId}/`, randomId: true },
    { name: "stats", path: "/api/outcomes/stats/", p50TargetMs: 5 },
    { name: "stats_site", path: `/api/outcomes/stats/${q({ site_domain: ctx.heavySite })}` },
    { name: "daily_stats", path: "/api/outcomes/daily_stats/", p50TargetMs: 5 },
    { name: "daily_stats_range", path: `/api/outcomes/daily_stats/${q({ from: ctx.from, to: ctx.to })}` },
    { name: "winners", path: "/api/outcomes/winners/" },
    // Issue 17: the common breakdowns over 30 days, from the daily per-site and the hourly rollups.
    { name: "breakdown_site_day", path: `/api/outcomes/breakdown/${q({ by: "site_domain,day", from: ctx.from, to: ctx.to })}`, p50TargetMs: 5 },
    { name: "breakdown_hour", path: `/api/outcomes/breakdown/${q({ by: "hour", from: ctx.from, to: ctx.to, limit: "1000" })}`, p50TargetMs: 5 },
  ];
}

// ---------------------------------------------------------------------------------------------
// The API process.

export async function startApi(database: string, port: number, logLevel: string, outDir: string) {
  const api = Bun.spawn([process.execPath, "run", "src/main.ts", "api"], {
    cwd: ROOT,
    env: { ...process.env, ...deployedRuntimeEnv("api"), DATABASE_URL: urlFor(database), PORT: String(port), LOG_LEVEL: logLevel },
    stdout: Bun.file(join(outDir, "api.stdout.log")),
    stderr: Bun.file(join(outDir, "api.stderr.log")),
  });
  const deadline = performance.now() + 30_000;
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/api/`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (api.exitCode !== null || performance.now() > deadline) {
      api.kill("SIGTERM");
      throw new Error(`the API did not answer on port ${port} (see ${outDir}/api.*.log)`);
    }
    await Bun.sleep(100);
  }
  return api;
}

interface QueryResult {
  query: ApiQuery;
  http: HttpLoadResult;
  sql: PgbenchResult;
  statements: number;
}

function targetsOf(r: QueryResult) {
  return {
    p99_ok: r.http.p99Ms <= 50,
    p50_ok: r.query.p50TargetMs === undefined || r.http.p50Ms <= r.query.p50TargetMs,
    ratio_ok: r.sql.tps === 0 || r.http.requestsPerSecond / r.sql.tps >= 0.5,
    errors_ok: r.http.errors === 0,
  };
}

export async function benchApi(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    integers: { rows: 10_000_000, duration: 10, concurrency: 32, seed: 42, "deep-page": 5000, warmup: 2 },
    strings: { "log-level": process.env.LOG_LEVEL ?? "INFO", only: "" },
    booleans: ["reuse", "drop", "load-with-indexes", "write-results"],
  });
  const rows = flags.int("rows");
  const seed = flags.int("seed");
  const duration = flags.int("duration");
  const concurrency = flags.int("concurrency");
  const database = `helios_bench_${rows}`;
  const outDir = await runDirectory("api");
  const admin = adminSql();
  const server = new URL(SERVER_URL);
  await ensureWrk();
  try {
    const busy = await checkQuiet();
    const machine = await machineFacts(admin);
    const load = await loadRows(admin, database, rows, seed, flags.bool("reuse"), !flags.bool("load-with-indexes"));

    const sql = benchSql(database, 1);
    let queries: ApiQuery[];
    let idRange: { lo: number; hi: number };
    let deepPage: number;
    try {
      const [range] = await sql<{ lo: string; hi: string }[]>`select min(id)::text as lo, max(id)::text as hi from auction_outcomes`;
      idRange = { lo: Number(range!.lo), hi: Number(range!.hi) };
      deepPage = deepPageFor(rows, flags.int("deep-page"));
      if (deepPage !== flags.int("deep-page")) say(`only ${rows} rows: the deep page is ${deepPage}, not ${flags.int("deep-page")}`);
      const start = Date.parse("2025-07-01T00:00:00Z");
      const day = (n: number) => new Date(start + n * DAY_MS).toISOString().replace(".000Z", "Z");
      queries = apiQueries({
        heavyUser: userIdOf(1),
        heavySite: siteDomainOf(1),
        deepPage,
        cursor: await cursorForPage(sql, deepPage),
        from: day(30),
        to: day(60),
        sampleId: Math.floor((idRange.lo + idRange.hi) / 2),
      });
      const [heavy] = await sql<{ user_rows: string; site_rows: string }[]>`
        select (select count(*) from auction_outcomes where user_id = ${userIdOf(1)})::text as user_rows,
               (select count(*) from auction_outcomes where site_domain = ${siteDomainOf(1)})::text as site_rows`;
      say(`heaviest user ${userIdOf(1)}: ${heavy!.user_rows} rows; busiest site ${siteDomainOf(1)}: ${heavy!.site_rows} rows`);
    } finally {
      await sql.end({ timeout: 5 });
    }
    const only = flags.str("only").split(",").filter(Boolean);
    if (only.length > 0) queries = queries.filter((query) => only.includes(query.name));

    say("capturing each query's SQL from the app");
    const config = configFor(database);
    const captured = await captureStatements(
      config,
      queries.map((query) => query.path),
    );
    const bad = queries.filter((_, i) => captured[i]!.status !== 200);
    if (bad.length > 0) {
      for (const query of bad)
        say(`${query.name} ${query.path} answers ${captured[queries.indexOf(query)]!.status}: ${captured[queries.indexOf(query)]!.body.slice(0, 300)}`);
      throw new Error("every benchmarked query must answer 200 before it is measured");
    }
    const deep = queries.findIndex((query) => query.name === "list_page_deep");
    const viaCursor = queries.findIndex((query) => query.name === "list_cursor_deep");
    const resultIds = (i: number) => (JSON.parse(captured[i]!.body).results as { id: unknown }[]).map((r) => String(r.id)).join(",");
    const cursorMatchesPage = deep < 0 || viaCursor < 0 ? "n/a" : resultIds(deep) === resultIds(viaCursor);
    if (cursorMatchesPage === false) say("warning: the cursor page does not hold the same rows as the deep page");
    const scripts = await Promise.all(
      queries.map((query, i) =>
        writePgbenchScript(
          outDir,
          query.name,
          captured[i]!.statements,
          query.randomId ? { captureId: String(query.path.split("/")[3]), ...idRange } : undefined,
        ),
      ),
    );
    say(`pgbench scripts in ${outDir}`);

    const port = freePort();
    const api = await startApi(database, port, flags.str("log-level"), outDir);
    const watch = watchProcess(api.pid, 250);
    const results: QueryResult[] = [];
    let apiPeakRssMiB = 0;
    try {
      const baseUrl = `http://127.0.0.1:${port}`;
      for (const [i, query] of queries.entries()) {
        const script = query.randomId ? await randomIdScript(outDir, "/api/outcomes/", idRange.lo, idRange.hi) : undefined;
        const load = { baseUrl, path: query.path, concurrency, script };
        if (flags.int("warmup") > 0) await runWrk({ ...load, durationS: flags.int("warmup") });
        const http = await runWrk({ ...load, durationS: duration });
        const pg = await runPgbench({
          database,
          host: server.hostname,
          port: Number(server.port || 5432),
          user: decodeURIComponent(server.username || "postgres"),
          script: scripts[i]!,
          durationS: duration,
          concurrency,
        });
        const result = { query, http, sql: pg, statements: captured[i]!.statements.length };
        results.push(result);
        const targets = targetsOf(result);
        benchLine("api", {
          query: query.name,
          rps: Math.round(http.requestsPerSecond),
          p50_ms: http.p50Ms,
          p99_ms: http.p99Ms,
          errors: http.errors,
          pgbench_tps: Math.round(pg.tps),
          ratio: pg.tps > 0 ? Math.round((http.requestsPerSecond / pg.tps) * 1000) / 1000 : "n/a",
          statements: result.statements,
          pgbench_failed: pg.failed,
          ...targets,
        });
      }
      apiPeakRssMiB = watch.stop().peakRssMiB;
    } finally {
      watch.stop();
      api.kill("SIGTERM");
      await api.exited;
    }

    const allTargets = results.map(targetsOf);
    const totalErrors = results.reduce((sum, r) => sum + r.http.errors, 0);
    const minRatio = Math.min(...results.filter((r) => r.sql.tps > 0).map((r) => r.http.requestsPerSecond / r.sql.tps));
    const met = allTargets.every((t) => t.p99_ok && t.p50_ok && t.ratio_ok && t.errors_ok) && apiPeakRssMiB <= 200;
    const byName = (name: string) => results.find((r) => r.query.name === name);
    benchLine("api-summary", {
      rows,
      concurrency,
      duration_s: duration,
      queries: results.length,
      deep_page: deepPage,
      page1_p50_ms: byName("list")?.http.p50Ms ?? "n/a",
      deep_page_p50_ms: byName("list_page_deep")?.http.p50Ms ?? "n/a",
      cursor_deep_p50_ms: byName("list_cursor_deep")?.http.p50Ms ?? "n/a",
      cursor_matches_page: cursorMatchesPage,
      api_peak_rss_mb: Math.round(apiPeakRssMiB * 10) / 10,
      total_errors: totalErrors,
      min_ratio: Number.isFinite(minRatio) ? Math.round(minRatio * 1000) / 1000 : "n/a",
      targets_met: met,
      load_seconds: Math.round(load.seconds * 10) / 10,
      log_level: flags.str("log-level"),
      machine_busy_pct: busy,
    });

    if (flags.bool("write-results")) {
      const mark = (ok: boolean) => (ok ? "✓" : "✗");
      await appendResults(
        `api, ${rows.toLocaleString("en")} rows, concurrency ${concurrency}, ${duration} s per query`,
        [
          `- command: \`${commandLine()}\``,
          machineSection(machine, busy),
          `- API LOG_LEVEL=${flags.str("log-level")}, BUN_JSC_forceRAMSize=${ramMiB("api")} MiB (its k8s memory limit); wrk 2 threads, ${flags.int("warmup")} s warm-up per query; pgbench -M prepared -c ${concurrency} -j 2 with the statements captured from the app (scripts in bench/out/)`,
          `- heaviest user ${userIdOf(1)}, busiest site ${siteDomainOf(1)}; deep page ${deepPage}; API peak RSS ${apiPeakRssMiB.toFixed(1)} MiB`,
          "",
          markdownTable(
            ["query", "req/s", "p50 ms", "p99 ms", "errors", "pgbench tps", "API / SQL", "SQL stmts", "targets"],
            results.map((r) => {
              const t = targetsOf(r);
              return [
                `\`${r.query.name}\``,
                Math.round(r.http.requestsPerSecond),
                r.http.p50Ms,
                r.http.p99Ms,
                r.http.errors,
                Math.round(r.sql.tps),
                r.sql.tps > 0 ? `${((r.http.requestsPerSecond / r.sql.tps) * 100).toFixed(0)}%` : "n/a",
                r.statements,
                `p99 ${mark(t.p99_ok)}${r.query.p50TargetMs ? ` p50 ${mark(t.p50_ok)}` : ""} ratio ${mark(t.ratio_ok)} errors ${mark(t.errors_ok)}`,
              ];
            }),
          ),
          "",
          `Deep pagination: page 1 p50 ${byName("list")?.http.p50Ms ?? "n/a"} ms, page ${deepPage} p50 ${byName("list_page_deep")?.http.p50Ms ?? "n/a"} ms, cursor at the same depth p50 ${byName("list_cursor_deep")?.http.p50Ms ?? "n/a"} ms (same rows as the page: ${cursorMatchesPage}).`,
        ].join("\n"),
      );
    }
    return met ? 0 : 1;
  } finally {
    if (flags.bool("drop")) await dropDatabase(admin, database).catch(() => {});
    await admin.end({ timeout: 5 });
  }
}
