// The demo's database: the configured PostgreSQL when DATABASE_URL or DB_HOST names one, else an
// embedded one (PGlite), in memory or in --data-dir.
import type { Config, DatabaseConfig } from "../config";
import { ensureDatabase } from "../db/migrate";
import type { Logger } from "../log";
import { embeddedWhere, externalWhere } from "./banner";
import type { DemoArgs } from "./demo-args";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded-postgres";

export type Env = Record<string, string | undefined>;

/** The demo brings its own database only when none is configured. */
export function usesExternalDatabase(env: Env): boolean {
  return [env.DATABASE_URL, env.DB_HOST].some((value) => value !== undefined && value.trim() !== "");
}

/** Things to undo at shutdown, last started first. */
export type Closer = () => Promise<unknown>;

export async function closeAll(closers: Closer[], log: Logger): Promise<void> {
  for (const close of closers.reverse()) {
    try {
      await close();
    } catch (error) {
      log.warn("Demo shutdown step failed", { error: (error as Error).message });
    }
  }
}

export async function openDatabase(config: Config, args: DemoArgs, env: Env, log: Logger, closers: Closer[]) {
  if (usesExternalDatabase(env)) {
    if (args.dataDir) log.warn("--data-dir is ignored: DATABASE_URL or DB_HOST names the database to use");
    await ensureDatabase(config.db, log);
    return { db: config.db, maxConnections: config.db.poolMax, where: externalWhere(config.db) };
  }
  const began = performance.now();
  const embedded: EmbeddedPostgres = await startEmbeddedPostgres({ dataDir: args.dataDir, log });
  closers.push(() => embedded.close());
  log.info("Embedded PostgreSQL started", {
    version: embedded.version,
    data_dir: embedded.dataDir ?? "in memory",
    duration_ms: Math.round(performance.now() - began),
  });
  const db: DatabaseConfig = { ...config.db, url: embedded.url, poolMax: 1 };
  return { db, maxConnections: 1, where: embeddedWhere(embedded.version, embedded.dataDir) };
}
