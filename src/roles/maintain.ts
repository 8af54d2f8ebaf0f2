// `bun run start maintain`: one maintenance pass over the storage (partitions made ahead, rows in
// the default partition moved, expired partitions and rollups dropped), then exit. What a
// Kubernetes CronJob runs (k8s/maintain-cronjob.yaml); safe to start while another runs.

import { parseOptions } from "../cli/options";
import type { Config } from "../config";
import { createSql } from "../db/client";
import type { Logger } from "../log";
import { runMaintenancePass } from "../storage/maintain";
import { checkPartitionInterval, StorageSettingError } from "../storage/partitions";

export async function runMaintain(config: Config, log: Logger, args: string[]): Promise<number> {
  parseOptions(args, {});
  const sql = createSql(config.db, { max: 1, applicationName: "helios-analytics-maintain", statementTimeoutMs: 0 });
  try {
    await checkPartitionInterval(sql, config.storage.partitionInterval);
    await runMaintenancePass(sql, config.storage, log);
    return 0;
  } catch (error) {
    if (!(error instanceof StorageSettingError)) throw error;
    log.error(error.message);
    return 78;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
