// The storage's gauges on the API's /metrics, read from the database at scrape time (one small
// query): partitions present, their oldest and newest bound, rows waiting in the default
// partition, partitions dropped by retention. Maintenance itself runs in short-lived processes
// (the maintain CronJob) whose counters nobody would scrape, so its results are read back here.
import { Gauge, type Registry } from "prom-client";
import type { StorageStateRow } from "./storage.repository";

const seconds = (text: string | null) => (text === null ? 0 : Date.parse(text.replace(" ", "T").replace(/\+00$/, "Z")) / 1000);

export function registerStorageMetrics(registry: Registry, read: () => Promise<StorageStateRow>): void {
  // The gauges of one scrape share one read (kept a second); a database that does not answer
  // leaves them as they were.
  let last: { at: number; row: Promise<StorageStateRow | null> } | undefined;
  const state = () => {
    if (!last || Date.now() - last.at > 1_000) last = { at: Date.now(), row: read().catch(() => null) };
    return last.row;
  };
  const gauge = (name: string, help: string, value: (row: StorageStateRow) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const row = await state();
        if (row) this.set(value(row));
      },
    });
  gauge("storage_partitions", "Partitions of auction_outcomes made by the service (the default partition not counted).", (row) => Number(row.partitions));
  gauge(
    "storage_oldest_partition_lower_timestamp_seconds",
    "Lower bound of the oldest partition (Unix seconds; 0 when it reaches back to the beginning).",
    (row) => (row.reaches_back ? 0 : seconds(row.oldest_lower)),
  );
  gauge("storage_newest_partition_upper_timestamp_seconds", "Upper bound of the newest partition (Unix seconds).", (row) => seconds(row.newest_upper));
  gauge("storage_default_partition_rows", "Rows in the default partition, estimated: written for a period without a partition, moved by maintenance.", (row) =>
    Number(row.default_rows_estimate ?? 0),
  );
  gauge("storage_partitions_dropped", "Partitions dropped by retention so far.", (row) => Number(row.partitions_dropped));
}
