// How a benchmark reports: one `BENCH …` line per figure set that a script can read (key=value,
// no spaces in values), and with --write-results a dated Markdown section in bench/RESULTS.md.
import { appendFile } from "node:fs/promises";
import { join } from "node:path";
import { type MachineFacts, ROOT } from "./environment";

export type Figures = Record<string, string | number | boolean>;

function formatValue(value: string | number | boolean): string {
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : String(Math.round(value * 1000) / 1000);
  return String(value).replace(/\s+/g, "_");
}

/** `BENCH <kind> k=v k=v …` on stdout. */
export function benchLine(kind: string, figures: Figures): string {
  const line = `BENCH ${kind} ${Object.entries(figures)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(" ")}`;
  console.log(line);
  return line;
}

export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const cell = (v: string | number) => (typeof v === "number" ? formatValue(v) : v);
  return [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`, ...rows.map((row) => `| ${row.map(cell).join(" | ")} |`)].join("\n");
}

export function machineSection(machine: MachineFacts, busyPercent: number): string {
  return [
    `- machine: ${machine.nproc} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB memory; CPU ${busyPercent}% busy just before the run`,
    `- versions: Bun ${machine.bun}, PostgreSQL ${machine.postgres}, Kafka ${machine.kafka}, ${machine.wrk ?? "wrk n/a"}, ${machine.pgbench ?? "pgbench n/a"}`,
  ].join("\n");
}

/** The command exactly as typed, with the environment that points it at its services, for the record. */
export function commandLine(): string {
  const env = ["KAFKA_BROKERS", "BENCH_DATABASE_URL"].filter((name) => process.env[name]).map((name) => `${name}=${process.env[name]}`);
  return [...env, "bun run bench", ...process.argv.slice(2)].join(" ");
}

export async function appendResults(title: string, body: string): Promise<void> {
  const section = `\n### ${title} — ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC\n\n${body.trim()}\n`;
  await appendFile(join(ROOT, "bench/RESULTS.md"), section);
}
