// GET /api/storage/: how outcomes are kept and from when, so a client (and the console) can say
// that stats for an old period come from rollups while its individual outcomes are gone.
import { Elysia } from "elysia";
import type { StorageConfig } from "../config";
import type { Sql } from "../db/client";
import { jsonResponse } from "../http/openapi";
import { isoUtc } from "../values/timestamps";
import { readStorageState, type StorageStateRow } from "./storage.repository";
import { StorageState } from "./storage.schema";

export function renderStorageState(row: StorageStateRow, storage: StorageConfig): StorageState {
  return {
    partition_interval: row.partition_interval as StorageState["partition_interval"],
    retention_days: storage.retentionDays ?? null,
    rollup_retention_days: storage.rollupRetentionDays ?? null,
    outcomes_available_from: isoUtc(row.outcomes_available_from),
    rollups_available_from: isoUtc(row.rollups_available_from),
    partitions: {
      count: Number(row.partitions),
      oldest_lower: row.reaches_back ? null : isoUtc(row.oldest_lower),
      newest_upper: isoUtc(row.newest_upper),
      default_rows_estimate: Number(row.default_rows_estimate ?? 0),
      dropped: Number(row.partitions_dropped),
    },
    last_maintenance_at: isoUtc(row.last_event_at),
  };
}

export function storageRoutes(sql: Sql, storage: StorageConfig) {
  return new Elysia({ name: "storage-routes" }).get("/api/storage/", async () => renderStorageState(await readStorageState(sql), storage), {
    detail: {
      tags: ["storage"],
      summary: "How outcomes are kept: partitions, retention, from when individual outcomes and rollups exist",
      responses: { 200: jsonResponse(StorageState, "The storage as it is now.") },
    },
  });
}
