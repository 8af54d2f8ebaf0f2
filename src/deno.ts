// The service under Deno: `deno run -A src/deno.ts api | consumer [flags] | migrate`, with the
// project's deno.json (node_modules from `bun install`, extensionless imports as Bun allows).
// The same modules as under Bun; the HTTP server comes from src/runtime.ts (Deno.serve here).
// The demo and produce-sample roles stay Bun-only (`bun run start …`).
import { ConfigError, loadConfig, type Config } from "./config.ts";
import { createSql } from "./db/client.ts";
import { startChangeFeed } from "./db/change-feed.ts";
import { applyMigrations, ensureDatabase, MigrationError } from "./db/migrate.ts";
import { createApp } from "./api/app.ts";
import { runConsumerRole } from "./ingest/consumer-role.ts";
import { usage, UsageError } from "./ingest/cli-args.ts";
import { createLogger, type Logger } from "./log.ts";
import { onTerminationSignals, serve } from "./runtime.ts";

type Role = (config: Config, log: Logger, args: string[]) => Promise<number>;

async function runApi(config: Config, log: Logger): Promise<number> {
  const sql = createSql(config.db, { applicationName: "helios-analytics-api" });
  const changes = config.aggregateCacheTtlMs > 0 ? startChangeFeed(config.db, log) : undefined;
  const app = createApp({ config, sql, log, changes });
  const server = serve({ port: config.port, fetch: app.fetch });
  log.info("API listening", { port: server.port, runtime: "deno", allowed_hosts: config.allowedHosts });
  const signal = await new Promise<string>((resolve) => {
    const stopListening = onTerminationSignals((received) => {
      stopListening();
      resolve(received);
    });
  });
  log.info("Shutting down", { signal });
  // Stop accepting, let in-flight requests finish, then close the pool.
  await server.stop();
  await changes?.close();
  await sql.end({ timeout: 5 });
  return 0;
}

async function runMigrate(config: Config, log: Logger): Promise<number> {
  await ensureDatabase(config.db, log);
  const sql = createSql(config.db, { max: 1, applicationName: "helios-analytics-migrate", statementTimeoutMs: 0 });
  try {
    const applied = await applyMigrations(sql, log);
    log.info("Migrations complete", { applied: applied.length, migrations: applied });
    return 0;
  } catch (error) {
    if (!(error instanceof MigrationError)) throw error;
    log.error(error.message);
    return 1;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

const ROLES: Record<string, Role> = {
  api: runApi,
  consumer: runConsumerRole,
  migrate: runMigrate,
};

async function main(argv: string[]): Promise<number> {
  const [roleName = "api", ...args] = argv;
  const role = ROLES[roleName];
  if (!role) {
    console.error(`Unknown role "${roleName}" under Deno: expected one of ${Object.keys(ROLES).join(", ")}.`);
    return 2;
  }
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    return 78; // EX_CONFIG
  }
  const log = createLogger(config.logLevel, config.secrets);
  try {
    return await role(config, log, args);
  } catch (error) {
    if (error instanceof UsageError) return usage(error);
    log.error("Fatal error", { role: roleName, runtime: "deno", error });
    return 1;
  }
}

if (import.meta.main) {
  process.exit(await main(process.argv.slice(2)));
}
