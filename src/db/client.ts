// The postgres.js client. Timestamps come back as PostgreSQL's own text (UTC, microseconds
// intact) because a JS Date would drop the microseconds the upstream sends.
import postgres from "postgres";
import type { DatabaseConfig } from "../config";

export type Sql = postgres.Sql<Record<string, never>>;

const TIMESTAMPTZ_OID = 1184;
const TIMESTAMP_OID = 1114;

export interface ClientOptions {
  /** Overrides the database name, e.g. to connect to `postgres` while creating the target. */
  database?: string;
  max?: number;
  applicationName?: string;
  /** Statement timeout for this pool in ms; 0 disables it. */
  statementTimeoutMs?: number;
  /**
   * force_custom_plan: plan every statement with its values. A generic plan of a query over the
   * partitioned outcomes locks every partition and all of its indexes before pruning (PostgreSQL
   * 15), which costs more than planning again and fills the lock table under concurrency.
   */
  planCacheMode?: "auto" | "force_custom_plan";
  /** A connection that holds a LISTEN: never closed for idleness or age, told of NOTIFYs and of its own end. */
  listener?: { onnotify: (channel: string, payload: string) => void; onclose: () => void };
}

export function createSql(db: DatabaseConfig, options: ClientOptions = {}): Sql {
  const timestampAsText = { to: TIMESTAMPTZ_OID, from: [TIMESTAMPTZ_OID, TIMESTAMP_OID], serialize: (v: unknown) => String(v), parse: (v: string) => v };
  const common = {
    max: options.max ?? db.poolMax,
    idle_timeout: 30,
    connect_timeout: 5,
    // After a failed connection attempt postgres.js waits backoff(retries) seconds before the next
    // one, up to 20 s by default (3.4.9), and every query queued behind that attempt waits with it:
    // with the database down, API requests hung for 8 s and more instead of failing with a 503.
    // Capped at 0.5 s: an attempt that is refused costs the database nothing.
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 0.5),
    onnotice: () => {},
    types: { timestampText: timestampAsText },
    connection: {
      TimeZone: "UTC",
      application_name: options.applicationName ?? "helios-analytics",
      statement_timeout: options.statementTimeoutMs ?? db.statementTimeoutMs,
      ...(options.planCacheMode ? { plan_cache_mode: options.planCacheMode } : {}),
    },
    // 0: no idle or age limit (postgres.js skips a timer of 0 s).
    ...(options.listener ? { idle_timeout: 0, max_lifetime: 0, ...options.listener } : {}),
  } as const;
  const sql = db.url
    ? postgres(db.url, { ...common, ...(options.database ? { database: options.database } : {}) })
    : postgres({ ...common, host: db.host, port: db.port, user: db.user, password: db.password, database: options.database ?? db.name });
  return sql as unknown as Sql;
}

/** Quotes an identifier for the rare statements that cannot take a bind parameter (CREATE DATABASE). */
export function databaseName(db: DatabaseConfig): string {
  if (!db.url) return db.name;
  const path = new URL(db.url).pathname.replace(/^\//, "");
  return decodeURIComponent(path) || db.user;
}

/**
 * Where the pool connects, for people to read: `host:port` and the database, never the user or
 * the password. A DATABASE_URL overrides the DB_* parts, so its own host, port and path win.
 */
export function databaseAddress(db: DatabaseConfig): { server: string; database: string } {
  if (!db.url) return { server: `${db.host}:${db.port}`, database: db.name };
  const url = new URL(db.url);
  // postgres://…/db?host=/run/postgresql: a Unix socket directory in place of a host name.
  const host = url.hostname || url.searchParams.get("host") || "localhost";
  return { server: `${host}:${url.port || "5432"}`, database: databaseName(db) };
}
