// One program, several roles: `bun run start api | migrate [--status] | consumer | demo`.
import { ConfigError, loadConfig, type Config } from "./config";
import { createLogger, type Logger } from "./log";
import { createSql } from "./db/client";
import { startChangeFeed } from "./db/change-feed";
import { applyMigrations, ensureDatabase, migrationStatus, MigrationError } from "./db/migrate";
import { runConsumerRole } from "./ingest/consumer-role";
import { usage, UsageError } from "./ingest/cli-args";
import { runProduceSample } from "./ingest/produce-sample";
import { serve } from "./runtime";

type Role = (config: Config, log: Logger, args: string[]) => Promise<number | void>;

async function runApi(config: Config, log: Logger): Promise<void> {
  // Loaded here, not at the top: the consumer and migrate roles never load Elysia and the API
  // (about 20 MiB of the consumer's resident memory).
  const { createApp } = await import("./api/app");
  const sql = createSql(config.db, { applicationName: "helios-analytics-api" });
  const changes = config.aggregateCacheTtlMs > 0 ? startChangeFeed(config.db, log) : undefined;
  const app = createApp({ config, sql, log, changes });
  const server = serve({ port: config.port, fetch: app.fetch, maxRequestBodySize: 64 * 1024 });
  log.info("API listening", { port: server.port, allowed_hosts: config.allowedHosts });
  if (config.apiTokens.length === 0) {
    log.warn("API_TOKENS is not set: /api/ is open to anyone who can reach this port, as the original service was");
  }
  await onTermination(log, async () => {
    // Stop accepting, let in-flight requests finish, then close the pool.
    await server.stop();
    await changes?.close();
    await sql.end({ timeout: 5 });
  });
}

async function runMigrate(config: Config, log: Logger, args: string[]): Promise<number> {
  if (!args.includes("--status")) await ensureDatabase(config.db, log);
  const sql = createSql(config.db, { max: 1, applicationName: "helios-analytics-migrate", statementTimeoutMs: 0 });
  try {
    if (args.includes("--status")) {
      const status = await migrationStatus(sql);
      for (const m of status.applied) console.log(`applied  ${m.name}  ${m.appliedAt}`);
      for (const name of status.pending) console.log(`pending  ${name}`);
      return 0;
    }
    const applied = await applyMigrations(sql, log);
    log.info("Migrations complete", { applied: applied.length, migrations: applied });
    return 0;
  } catch (error) {
    if (error instanceof MigrationError) {
      log.error(error.message);
      return 1;
    }
    throw error;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Resolves after `stop` ran once for the first SIGTERM or SIGINT. */
export function onTermination(log: Logger, stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const handler = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info("Shutting down", { signal });
      stop().then(resolve, (error) => {
        log.error("Shutdown failed", { error });
        resolve();
      });
    };
    process.on("SIGTERM", () => handler("SIGTERM"));
    process.on("SIGINT", () => handler("SIGINT"));
  });
}

const ROLES: Record<string, Role> = {
  api: runApi,
  migrate: runMigrate,
  consumer: runConsumerRole,
  "produce-sample": runProduceSample,
  // Loaded on demand: the other roles never load PGlite (tens of MB of WebAssembly).
  demo: async (config, log, args) => (await import("./demo/demo-role")).runDemoRole(config, log, args),
};

async function main(argv: string[]): Promise<number> {
  const [roleName = "api", ...args] = argv;
  const role = ROLES[roleName];
  if (!role) {
    console.error(`Unknown role "${roleName}": expected one of ${Object.keys(ROLES).join(", ")}.`);
    return 2;
  }
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 78; // EX_CONFIG
    }
    throw error;
  }
  const log = createLogger(config.logLevel, config.secrets);
  try {
    return (await role(config, log, args)) ?? 0;
  } catch (error) {
    if (error instanceof UsageError) return usage(error);
    log.error("Fatal error", { role: roleName, error });
    return 1;
  }
}

if (import.meta.main) {
  process.exit(await main(process.argv.slice(2)));
}
