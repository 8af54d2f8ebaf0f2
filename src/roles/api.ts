// `bun run start api`: the HTTP API, Swagger and console on PORT.
import { createApp } from "../app";
import type { Config } from "../config";
import { startChangeFeed } from "../db/change-feed";
import { createSql } from "../db/client";
import type { Logger } from "../log";
import { runtimeName, serve, terminationSignal } from "../runtime";

/** Bun refuses larger request bodies with 413 before the handler runs; a read-only API takes none. */
const MAX_REQUEST_BODY_BYTES = 64 * 1024;

export async function runApi(config: Config, log: Logger): Promise<number> {
  const sql = createSql(config.db, { applicationName: "helios-analytics-api", planCacheMode: "force_custom_plan" });
  const changes = config.aggregateCacheTtlMs > 0 ? startChangeFeed(config.db, log) : undefined;
  const app = createApp({ config, sql, log, changes });
  const server = serve({ port: config.port, fetch: app.fetch, maxRequestBodySize: MAX_REQUEST_BODY_BYTES });
  log.info("API listening", { port: server.port, runtime: runtimeName, allowed_hosts: config.allowedHosts });
  if (config.apiTokens.length === 0) {
    log.warn("API_TOKENS is not set: /api/ is open to anyone who can reach this port, as the original service was");
  }
  const signal = await terminationSignal();
  log.info("Shutting down", { signal });
  try {
    // Stop accepting, let in-flight requests finish, then close the pool.
    await server.stop();
    await changes?.close();
    await sql.end({ timeout: 5 });
  } catch (error) {
    log.error("Shutdown failed", { error });
  }
  return 0;
}
