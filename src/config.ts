// Environment → typed, validated Config. loadConfig is pure: it takes an env record and
// returns a Config or throws a ConfigError that names the variable and what it accepts.
export type LogLevel = "DEBUG" | "INFO" | "WARN" | "ERROR";

export interface DatabaseConfig {
  host: string;
  port: number;
  name: string;
  user: string;
  password: string;
  /** Set when DATABASE_URL was given; it overrides the DB_* parts. */
  url?: string;
  poolMax: number;
  statementTimeoutMs: number;
}

export interface KafkaConfig {
  brokers: string[];
  topic: string;
  group: string;
  clientId: string;
  /** Consumer group session: how long a silent member (crashed, killed) keeps its partitions. */
  sessionTimeoutMs: number;
  /** KAFKA_CREATE_TOPIC: the consumer creates the topic at start when it is missing (nothing else does on Kubernetes). */
  createTopic: boolean;
  /** How a topic this service creates is made (consumer with createTopic, produce-sample). */
  newTopic: NewTopicSettings;
}

/** KAFKA_CREATE_TOPIC_PARTITIONS / _REPLICATION_FACTOR; undefined: the broker's num.partitions / default.replication.factor. */
export interface NewTopicSettings {
  partitions?: number;
  replicationFactor?: number;
}

export type PartitionInterval = "hour" | "day" | "week" | "month";
export const PARTITION_INTERVALS: readonly PartitionInterval[] = ["hour", "day", "week", "month"];

/** The life cycle of stored outcomes (docs/operations.md, "Storage and retention"). */
export interface StorageConfig {
  /** PARTITION_INTERVAL as set; undefined: whatever the table was first partitioned with (a day by default). */
  partitionInterval?: PartitionInterval;
  /** Partitions made ahead of the current one. */
  partitionsAhead: number;
  /** Individual outcomes are kept this many days; undefined: forever. */
  retentionDays?: number;
  /** Rollup rows are kept this many days; undefined: forever. */
  rollupRetentionDays?: number;
  /** How often the consumer runs a maintenance pass (create ahead, drop expired); 0: never. */
  maintenanceIntervalMs: number;
}

export interface Config {
  port: number;
  debug: boolean;
  logLevel: LogLevel;
  allowedHosts: string[];
  db: DatabaseConfig;
  kafka: KafkaConfig;
  corsAllowedOrigins: string[];
  corsAllowAllOrigins: boolean;
  /** Bearer tokens accepted on /api/ (API_TOKENS); empty: the API is open, as the original was. */
  apiTokens: string[];
  /** Require a token on /metrics and /swagger too (when apiTokens is set). */
  protectDocsAndMetrics: boolean;
  /** Requests allowed in database-bound handlers at once; one more gets a fast 503. */
  apiMaxInflight: number;
  /** Longest request target (path and query) accepted; a longer one gets 414. */
  maxUrlLength: number;
  /** Longest a request may take before it is answered 503, whatever it waits on (a pool queue, a dead socket). */
  apiRequestTimeoutMs: number;
  /** After this long a kept aggregate answer is queried again (0: nothing kept); a notified change drops it at once. */
  aggregateCacheTtlMs: number;
  consumerHealthPort: number;
  storage: StorageConfig;
  /** Values that must never appear in a log line or an error body. */
  secrets: string[];
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    accepted: string,
    value: string,
  ) {
    super(`Invalid configuration: ${variable}=${JSON.stringify(value)} is not valid; ${accepted}.`);
  }
}

type Env = Record<string, string | undefined>;

function read(env: Env, name: string, fallback: string): string {
  const value = env[name];
  return value === undefined || value.trim() === "" ? fallback : value.trim();
}

function readPort(env: Env, name: string, fallback: number): number {
  const raw = read(env, name, String(fallback));
  if (!/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 65535) {
    throw new ConfigError(name, "expected a TCP port, an integer from 1 to 65535", raw);
  }
  return Number(raw);
}

function readInt(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name, String(fallback));
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(name, `expected an integer from ${min} to ${max}`, raw);
  }
  return Number(raw);
}

/** An optional whole number: unset or empty means "not set". */
function readOptionalInt(env: Env, name: string, min: number, max: number): number | undefined {
  const raw = read(env, name, "");
  if (raw === "") return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(name, `expected an integer from ${min} to ${max}, or nothing (unset)`, raw);
  }
  return Number(raw);
}

function readStorage(env: Env): StorageConfig {
  const interval = read(env, "PARTITION_INTERVAL", "").toLowerCase();
  if (interval !== "" && !PARTITION_INTERVALS.includes(interval as PartitionInterval)) {
    throw new ConfigError("PARTITION_INTERVAL", `expected one of ${PARTITION_INTERVALS.join(", ")}`, env.PARTITION_INTERVAL ?? "");
  }
  const retentionDays = readOptionalInt(env, "RETENTION_DAYS", 1, 36_500);
  const rollupRetentionDays = readOptionalInt(env, "ROLLUP_RETENTION_DAYS", 1, 36_500);
  // Rollups answer for periods whose outcomes expired; dropping them first would leave a period
  // with rows but no figures.
  if (rollupRetentionDays !== undefined && (retentionDays === undefined || rollupRetentionDays < retentionDays)) {
    throw new ConfigError(
      "ROLLUP_RETENTION_DAYS",
      `expected at least RETENTION_DAYS (${retentionDays ?? "unset: outcomes are kept forever, so rollups must be too"}); rollups outlive individual outcomes`,
      env.ROLLUP_RETENTION_DAYS ?? "",
    );
  }
  return {
    partitionInterval: interval === "" ? undefined : (interval as PartitionInterval),
    partitionsAhead: readInt(env, "PARTITIONS_AHEAD", 3, 0, 366),
    retentionDays,
    rollupRetentionDays,
    maintenanceIntervalMs: readInt(env, "MAINTENANCE_INTERVAL_MS", 3_600_000, 0, 86_400_000),
  };
}

// Django's settings accepted True/False; keep those spellings working.
function readBool(env: Env, name: string, fallback: boolean): boolean {
  const raw = read(env, name, String(fallback)).toLowerCase();
  if (["true", "1", "yes", "on"].includes(raw)) return true;
  if (["false", "0", "no", "off"].includes(raw)) return false;
  throw new ConfigError(name, "expected true or false (also 1/0, yes/no, on/off)", env[name] ?? "");
}

function readList(env: Env, name: string, fallback: string): string[] {
  return read(env, name, fallback)
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function readLogLevel(env: Env): LogLevel {
  const raw = read(env, "LOG_LEVEL", "INFO").toUpperCase();
  const level = raw === "WARNING" ? "WARN" : raw;
  if (level === "DEBUG" || level === "INFO" || level === "WARN" || level === "ERROR") return level;
  throw new ConfigError("LOG_LEVEL", "expected one of DEBUG, INFO, WARN (or WARNING), ERROR", env.LOG_LEVEL ?? "");
}

function readDatabaseUrl(env: Env): { url: string; password: string } | undefined {
  const raw = read(env, "DATABASE_URL", "");
  if (raw === "") return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError("DATABASE_URL", "expected postgres://user:password@host:port/database", "<unparsable>");
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new ConfigError("DATABASE_URL", "expected a postgres:// or postgresql:// URL", `${parsed.protocol}//…`);
  }
  let password: string;
  try {
    password = decodeURIComponent(parsed.password);
  } catch {
    throw new ConfigError("DATABASE_URL", "expected a percent-encoded password (%XX escapes only)", "<unparsable password>");
  }
  return { url: raw, password };
}

/**
 * The topic the consumer may create. Its shape settings only mean something with KAFKA_CREATE_TOPIC=true:
 * alone they would be ignored without a word, so they are refused.
 */
function readTopicCreation(env: Env): Pick<KafkaConfig, "createTopic" | "newTopic"> {
  const createTopic = readBool(env, "KAFKA_CREATE_TOPIC", false);
  // 10,000: far above any sane partition count, still under what one controller handles comfortably.
  const partitions = readOptionalInt(env, "KAFKA_CREATE_TOPIC_PARTITIONS", 1, 10_000);
  // Kafka's replication factor is an int16; the broker refuses more replicas than it has brokers.
  const replicationFactor = readOptionalInt(env, "KAFKA_CREATE_TOPIC_REPLICATION_FACTOR", 1, 32_767);
  if (!createTopic) {
    for (const name of ["KAFKA_CREATE_TOPIC_PARTITIONS", "KAFKA_CREATE_TOPIC_REPLICATION_FACTOR"]) {
      if (read(env, name, "") !== "") {
        throw new ConfigError(name, "it only applies with KAFKA_CREATE_TOPIC=true; set that too, or unset it", env[name] ?? "");
      }
    }
  }
  return { createTopic, newTopic: { partitions, replicationFactor } };
}

function readBrokers(env: Env): string[] {
  const brokers = readList(env, "KAFKA_BROKERS", "localhost:9092");
  for (const broker of brokers) {
    if (!/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(broker)) {
      throw new ConfigError("KAFKA_BROKERS", "expected comma-separated host:port pairs", env.KAFKA_BROKERS ?? "");
    }
  }
  return brokers;
}

// A token travels in an Authorization header: visible ASCII only, and no comma (the list separator).
// The error never shows a token, only which one and how long it is.
function readTokens(env: Env): string[] {
  const tokens = readList(env, "API_TOKENS", "");
  tokens.forEach((token, i) => {
    if (!/^[\x21-\x7e]{16,}$/.test(token)) {
      throw new ConfigError(
        "API_TOKENS",
        "expected comma-separated tokens of at least 16 visible ASCII characters each",
        `<token ${i + 1} of ${tokens.length}, ${token.length} characters>`,
      );
    }
  });
  return tokens;
}

export function loadConfig(env: Env): Config {
  const fromUrl = readDatabaseUrl(env);
  const db: DatabaseConfig = {
    host: read(env, "DB_HOST", "localhost"),
    port: readPort(env, "DB_PORT", 5432),
    name: read(env, "DB_NAME", "helios_analytics"),
    user: read(env, "DB_USER", "postgres"),
    password: fromUrl?.password ?? env.DB_PASSWORD ?? "",
    url: fromUrl?.url,
    poolMax: readInt(env, "DB_POOL_MAX", 10, 1, 500),
    statementTimeoutMs: readInt(env, "DB_STATEMENT_TIMEOUT_MS", 5000, 0, 3_600_000),
  };
  const secretKey = env.DJANGO_SECRET_KEY ?? "";
  const apiTokens = readTokens(env);
  return {
    port: readPort(env, "PORT", 8000),
    debug: readBool(env, "DEBUG", false),
    logLevel: readLogLevel(env),
    allowedHosts: readList(env, "ALLOWED_HOSTS", "*").map((host) => host.toLowerCase()),
    db,
    kafka: {
      brokers: readBrokers(env),
      topic: read(env, "KAFKA_TOPIC_AUCTION_OUTCOMES", "auction_outcomes"),
      group: read(env, "KAFKA_CONSUMER_GROUP", "analytics-service-group"),
      clientId: read(env, "KAFKA_CLIENT_ID", "helios-analytics"),
      // 6 s is the broker's default group.min.session.timeout.ms; 30 s is kafkajs's default.
      sessionTimeoutMs: readInt(env, "KAFKA_SESSION_TIMEOUT_MS", 30_000, 6_000, 300_000),
      ...readTopicCreation(env),
    },
    corsAllowedOrigins: readList(env, "CORS_ALLOWED_ORIGINS", "http://localhost:3000,http://127.0.0.1:3000"),
    corsAllowAllOrigins: readBool(env, "CORS_ALLOW_ALL_ORIGINS", false),
    apiTokens,
    protectDocsAndMetrics: readBool(env, "PROTECT_DOCS_AND_METRICS", false),
    // 64: twice the benchmark's concurrency, so only a real pile-up is refused.
    apiMaxInflight: readInt(env, "API_MAX_INFLIGHT", 64, 1, 100_000),
    maxUrlLength: readInt(env, "MAX_URL_LENGTH", 4096, 256, 65_536),
    apiRequestTimeoutMs: readInt(env, "API_REQUEST_TIMEOUT_MS", 10_000, 100, 600_000),
    aggregateCacheTtlMs: readInt(env, "AGGREGATE_CACHE_TTL_MS", 2000, 0, 3_600_000),
    consumerHealthPort: readPort(env, "CONSUMER_HEALTH_PORT", 9464),
    storage: readStorage(env),
    secrets: [db.password, secretKey, ...apiTokens].filter((secret) => secret.length >= 4),
  };
}
