// `bun run start migrate [--status]`: applies the pending migrations (creating the database
// first when it does not exist), or lists applied and pending ones.
import { parseOptions } from "../cli/options";
import type { Config } from "../config";
import { createSql, databaseName } from "../db/client";
import { applyMigrations, ensureDatabase, MigrationError, migrationStatus } from "../db/migrate";
import type { Logger } from "../log";
import { checkPartitionInterval, StorageSettingError } from "../storage/partitions";

const OPTIONS = { "--status": { kind: "flag" } } as const;

/** invalid_catalog_name: the database named in the configuration does not exist. */
const isMissingDatabase = (error: unknown) => (error as { code?: unknown } | null)?.code === "3D000";

/** What `--status` says when there is no database yet: not an error in it, a step not taken. */
export function missingDatabaseMessage(name: string): string {
  return `Database "${name}" does not exist, so no migration is applied: run \`migrate\` to create it and apply them all (or create it yourself, e.g. createdb ${name}).`;
}

export async function runMigrate(config: Config, log: Logger, args: string[]): Promise<number> {
  const statusOnly = parseOptions(args, OPTIONS)["--status"] === true;
  if (!statusOnly) await ensureDatabase(config.db, log);
  const sql = createSql(config.db, { max: 1, applicationName: "helios-analytics-migrate", statementTimeoutMs: 0 });
  try {
    if (statusOnly) {
      const status = await migrationStatus(sql);
      for (const m of status.applied) console.log(`applied  ${m.name}  ${m.appliedAt}`);
      for (const name of status.pending) console.log(`pending  ${name}`);
      return 0;
    }
    await checkPartitionInterval(sql, config.storage.partitionInterval);
    const interval = config.storage.partitionInterval;
    const applied = await applyMigrations(sql, log, { settings: interval ? { "helios.partition_interval": interval } : {} });
    log.info("Migrations complete", { applied: applied.length, migrations: applied });
    return 0;
  } catch (error) {
    if (statusOnly && isMissingDatabase(error)) {
      log.error(missingDatabaseMessage(databaseName(config.db)));
      return 1;
    }
    if (!(error instanceof MigrationError) && !(error instanceof StorageSettingError)) throw error;
    log.error(error.message);
    return error instanceof StorageSettingError ? 78 : 1;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
