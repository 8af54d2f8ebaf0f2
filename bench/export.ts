// `bun run bench export [--rows 10000000] [--reuse] [--keep] [--write-results]`: the export
// endpoint (issue 15) against PostgreSQL's own `COPY (select …) TO STDOUT` of the same rows in the
// same order, in one run, with the API role's resident memory sampled while it exports.
//
// 1. N generated rows are COPYed into `helios_bench_export_<N>` (bench api's loader), unless
//    --reuse finds that database holding them.
// 2. The API role starts as a subprocess, as k8s/ deploys it (BUN_JSC_forceRAMSize).
// 3. After an untimed COPY and an untimed export (both plans' pages cached), in turn: COPY … TO
//    STDOUT (CSV) of every row ordered as the export orders them, read by postgres.js in this
//    process; then GET /api/outcomes/export/?format=csv and ?format=ndjson, read by fetch here. Each body is counted (bytes, lines) and thrown away.
// 4. The database is dropped at the end unless --keep.
import type { Sql } from "../src/db/client";
import { loadRows, startApi } from "./api";
import { parseFlags } from "./args";
import { adminSql, benchSql, checkQuiet, dropDatabase, freePort, machineFacts, ramMiB, runDirectory, say } from "./environment";
import { sampleProcess } from "./process-sampler";
import { appendResults, benchLine, commandLine, machineSection, markdownTable } from "./results";

interface Pass {
  name: string;
  rows: number;
  bytes: number;
  seconds: number;
  /** Highest VmRSS of the API process seen while this pass ran, MiB (n/a for COPY: the API is idle). */
  apiRssMiB: number | null;
}

/** Counts bytes and line feeds of a body as it arrives; nothing is kept. */
async function drain(chunks: AsyncIterable<Uint8Array>): Promise<{ bytes: number; lines: number }> {
  let bytes = 0;
  let lines = 0;
  for await (const chunk of chunks) {
    bytes += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
  }
  return { bytes, lines };
}

/**
 * The same rows in the export's default order (newest first, id breaking ties), as CSV with a
 * header, rendered by PostgreSQL itself: the floor for getting these rows out of the server.
 */
async function copyOut(sql: Sql): Promise<{ bytes: number; lines: number }> {
  const stream = await sql`
    copy (
      select id, bid_id, user_id, site_domain, win_status, win_price, bid_price, currency, enriched,
             "timestamp", auction_timestamp, user_interests, win_status as is_winner,
             case when win_status then bid_price - win_price else 0 end as profit_margin, created_at, updated_at
      from auction_outcomes order by "timestamp" desc, id desc
    ) to stdout with (format csv, header)`.readable();
  return drain(stream as AsyncIterable<Uint8Array>);
}

async function exportOut(base: string, format: "csv" | "ndjson"): Promise<{ bytes: number; lines: number }> {
  const response = await fetch(`${base}/api/outcomes/export/?format=${format}`);
  if (response.status !== 200) throw new Error(`export ${format} answered ${response.status}: ${await response.text()}`);
  return drain(response.body as unknown as AsyncIterable<Uint8Array>);
}

export async function benchExport(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    integers: { rows: 10_000_000, seed: 42 },
    booleans: ["reuse", "keep", "write-results"],
  });
  const rows = flags.int("rows");
  const database = `helios_bench_export_${rows}`;
  const outDir = await runDirectory("export");
  const admin = adminSql();
  try {
    const busy = await checkQuiet();
    const machine = await machineFacts(admin);
    const load = await loadRows(admin, database, rows, flags.int("seed"), flags.bool("reuse"), true);
    const port = freePort();
    const api = await startApi(database, port, "WARN", outDir);
    const base = `http://127.0.0.1:${port}`;
    const passes: Pass[] = [];
    const sql = benchSql(database, 1);
    try {
      const idle = sampleProcess(api.pid)!;
      say(`API idle: RSS ${idle.rssMiB.toFixed(1)} MiB`);
      const run = async (name: string, work: () => Promise<{ bytes: number; lines: number }>, sampleApi: boolean) => {
        // VmRSS every 100 ms: VmHWM would be the process's lifetime peak, not this pass's.
        let peak = 0;
        const sample = () => (peak = Math.max(peak, sampleProcess(api.pid)?.rssMiB ?? 0));
        const timer = sampleApi ? setInterval(sample, 100) : null;
        const started = performance.now();
        const { bytes, lines } = await work();
        const seconds = (performance.now() - started) / 1000;
        if (timer) clearInterval(timer);
        if (sampleApi) sample();
        // CSV bodies carry a header line; NDJSON does not.
        const counted = name === "export ndjson" ? lines : lines - 1;
        if (counted !== rows) throw new Error(`${name} gave ${counted} rows, expected ${rows}`);
        const pass = { name, rows: counted, bytes, seconds, apiRssMiB: sampleApi ? peak : null };
        passes.push(pass);
        benchLine("export", {
          pass: name.replace(" ", "_"),
          rows: counted,
          seconds: Math.round(seconds * 100) / 100,
          rows_per_s: Math.round(counted / seconds),
          mib: Math.round(bytes / 2 ** 20),
          ...(sampleApi ? { api_rss_peak_mib: Math.round(peak * 10) / 10 } : {}),
        });
      };
      // COPY's plan reads the table; the export's declared cursor walks the (timestamp, id) indexes
      // too. Both warm up first, so no pass pays for reading what a later one finds cached (the
      // first runs had the first export pass 40% slower than the second for that alone).
      say("warm-up: one COPY and one export, not counted");
      await copyOut(sql);
      await exportOut(base, "ndjson");
      await run("COPY TO STDOUT", () => copyOut(sql), false);
      await run("export csv", () => exportOut(base, "csv"), true);
      await run("export ndjson", () => exportOut(base, "ndjson"), true);
      const after = sampleProcess(api.pid)!;
      say(`API after the exports: RSS ${after.rssMiB.toFixed(1)} MiB, peak (VmHWM) ${after.peakRssMiB.toFixed(1)} MiB`);

      if (flags.bool("write-results")) {
        const copy = passes[0]!;
        await appendResults(
          `export, ${rows.toLocaleString("en")} rows, CSV and NDJSON against COPY TO STDOUT`,
          [
            `- command: \`${commandLine()}\``,
            machineSection(machine, busy),
            `- API role as a subprocess, LOG_LEVEL=WARN, BUN_JSC_forceRAMSize=${ramMiB("api")} MiB (its k8s memory limit); bodies read by fetch (exports) and postgres.js (COPY) in the harness process, counted and dropped`,
            `- COPY: \`copy (select <the record's columns> from auction_outcomes order by "timestamp" desc, id desc) to stdout with (format csv, header)\`, the export's default order; one warm-up COPY and one warm-up export (NDJSON) first, not counted`,
            `- API RSS: idle ${idle.rssMiB.toFixed(1)} MiB before the exports; after them ${after.rssMiB.toFixed(1)} MiB, lifetime peak (VmHWM) ${after.peakRssMiB.toFixed(1)} MiB; load ${load.loaded ? `${Math.round(load.seconds)} s` : "reused"}`,
            "",
            markdownTable(
              ["pass", "rows", "seconds", "rows/s", "MiB out", "of COPY's rows/s", "API RSS peak MiB (sampled every 100 ms)"],
              passes.map((p) => [
                p.name,
                p.rows.toLocaleString("en"),
                Math.round(p.seconds * 10) / 10,
                Math.round(p.rows / p.seconds).toLocaleString("en"),
                Math.round(p.bytes / 2 ** 20),
                `${Math.round((p.rows / p.seconds / (copy.rows / copy.seconds)) * 100)}%`,
                p.apiRssMiB === null ? "n/a" : Math.round(p.apiRssMiB * 10) / 10,
              ]),
            ),
          ].join("\n"),
        );
      }
      return 0;
    } finally {
      await sql.end({ timeout: 5 });
      api.kill("SIGTERM");
      await api.exited;
    }
  } finally {
    if (!flags.bool("keep")) {
      await dropDatabase(admin, database).catch(() => {});
      say(`dropped ${database}`);
    }
    await admin.end({ timeout: 5 });
  }
}
