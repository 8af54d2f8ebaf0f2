import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../../src/config";
import { databaseName } from "../../src/db/client";

const PASSWORD = "s3cr3t-hunter2";

function configErrorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe("loadConfig defaults", () => {
  const config = loadConfig({});

  test("uses the original service's database defaults", () => {
    expect(config.db).toEqual({
      host: "localhost",
      port: 5432,
      name: "helios_analytics",
      user: "postgres",
      password: "",
      url: undefined,
      poolMax: 10,
      statementTimeoutMs: 5000,
    });
  });

  test("uses the original service's Kafka defaults", () => {
    expect(config.kafka.brokers).toEqual(["localhost:9092"]);
    expect(config.kafka.topic).toBe("auction_outcomes");
    expect(config.kafka.group).toBe("analytics-service-group");
  });

  test("listens on 8000 at INFO with DEBUG off and every host allowed", () => {
    expect(config.port).toBe(8000);
    expect(config.logLevel).toBe("INFO");
    expect(config.debug).toBe(false);
    expect(config.allowedHosts).toEqual(["*"]);
  });

  test("allows the original's CORS origins", () => {
    expect(config.corsAllowedOrigins).toEqual(["http://localhost:3000", "http://127.0.0.1:3000"]);
  });

  test("has no secrets to redact when no password is set", () => {
    expect(config.secrets).toEqual([]);
  });

  test("treats empty and blank variables as unset", () => {
    expect(loadConfig({ DB_PORT: "", PORT: "  ", LOG_LEVEL: "" })).toMatchObject({ port: 8000, logLevel: "INFO", db: { port: 5432 } });
  });
});

describe("loadConfig with values", () => {
  test("reads every DB_* part", () => {
    const config = loadConfig({ DB_HOST: "db.internal", DB_PORT: " 6432 ", DB_NAME: "analytics", DB_USER: "helios", DB_PASSWORD: PASSWORD });
    expect(config.db).toMatchObject({ host: "db.internal", port: 6432, name: "analytics", user: "helios", password: PASSWORD, url: undefined });
    expect(config.secrets).toContain(PASSWORD);
  });

  test("lets DATABASE_URL override the DB_* parts, password and database name included", () => {
    const url = "postgres://helios:p%40ss-word@db.example:6543/from_url";
    const config = loadConfig({ DATABASE_URL: url, DB_PASSWORD: "ignored-password", DB_NAME: "ignored" });
    expect(config.db.url).toBe(url);
    expect(config.db.password).toBe("p@ss-word");
    expect(databaseName(config.db)).toBe("from_url");
    expect(config.secrets).toEqual(["p@ss-word"]);
  });

  test("accepts postgresql:// as well as postgres://", () => {
    expect(loadConfig({ DATABASE_URL: "postgresql://u@h/db" }).db.url).toBe("postgresql://u@h/db");
  });

  test("accepts Django's DEBUG spellings True and False", () => {
    expect(loadConfig({ DEBUG: "True" }).debug).toBe(true);
    expect(loadConfig({ DEBUG: "False" }).debug).toBe(false);
    expect(loadConfig({ DEBUG: "1" }).debug).toBe(true);
    expect(loadConfig({ DEBUG: "no" }).debug).toBe(false);
  });

  test("accepts log levels in any case and Python's WARNING", () => {
    expect(loadConfig({ LOG_LEVEL: "debug" }).logLevel).toBe("DEBUG");
    expect(loadConfig({ LOG_LEVEL: "WARNING" }).logLevel).toBe("WARN");
    expect(loadConfig({ LOG_LEVEL: "error" }).logLevel).toBe("ERROR");
  });

  test("reads comma-separated lists, trimming items and lower-casing hosts", () => {
    const config = loadConfig({ ALLOWED_HOSTS: "API.Example.com, .example.org,", KAFKA_BROKERS: "k1:9092, k2:9093" });
    expect(config.allowedHosts).toEqual(["api.example.com", ".example.org"]);
    expect(config.kafka.brokers).toEqual(["k1:9092", "k2:9093"]);
  });

  test("reads PORT", () => {
    expect(loadConfig({ PORT: "9000" }).port).toBe(9000);
  });
});

describe("loadConfig refuses bad values with a ConfigError naming the variable and what is accepted", () => {
  test("DB_PORT=abc", () => {
    const error = configErrorOf({ DB_PORT: "abc" });
    expect(error.variable).toBe("DB_PORT");
    expect(error.message).toBe('Invalid configuration: DB_PORT="abc" is not valid; expected a TCP port, an integer from 1 to 65535.');
  });

  test.each(["0", "65536", "-1", "5432.0", "54 32", "0x10"])("DB_PORT=%s", (value) => {
    expect(configErrorOf({ DB_PORT: value }).message).toBe(
      `Invalid configuration: DB_PORT=${JSON.stringify(value)} is not valid; expected a TCP port, an integer from 1 to 65535.`,
    );
  });

  test("PORT=http", () => {
    const error = configErrorOf({ PORT: "http" });
    expect(error.variable).toBe("PORT");
    expect(error.message).toBe('Invalid configuration: PORT="http" is not valid; expected a TCP port, an integer from 1 to 65535.');
  });

  test("LOG_LEVEL=LOUD", () => {
    const error = configErrorOf({ LOG_LEVEL: "LOUD" });
    expect(error.variable).toBe("LOG_LEVEL");
    expect(error.message).toBe('Invalid configuration: LOG_LEVEL="LOUD" is not valid; expected one of DEBUG, INFO, WARN (or WARNING), ERROR.');
  });

  test("DEBUG=maybe", () => {
    const error = configErrorOf({ DEBUG: "maybe" });
    expect(error.variable).toBe("DEBUG");
    expect(error.message).toBe('Invalid configuration: DEBUG="maybe" is not valid; expected true or false (also 1/0, yes/no, on/off).');
  });

  test("KAFKA_BROKERS without a port", () => {
    const error = configErrorOf({ KAFKA_BROKERS: "kafka" });
    expect(error.variable).toBe("KAFKA_BROKERS");
    expect(error.message).toBe('Invalid configuration: KAFKA_BROKERS="kafka" is not valid; expected comma-separated host:port pairs.');
  });

  test("DATABASE_URL that does not parse", () => {
    const error = configErrorOf({ DATABASE_URL: "not a url" });
    expect(error.variable).toBe("DATABASE_URL");
    expect(error.message).toBe('Invalid configuration: DATABASE_URL="<unparsable>" is not valid; expected postgres://user:password@host:port/database.');
  });
});

describe("configuration errors never show the password", () => {
  test.each([
    ["an unparsable DATABASE_URL", { DATABASE_URL: `postgres://helios:${PASSWORD}@db:notaport/x` }],
    ["a DATABASE_URL of another scheme", { DATABASE_URL: `mysql://helios:${PASSWORD}@db/x` }],
    ["a bad DB_PORT beside DB_PASSWORD", { DB_PASSWORD: PASSWORD, DB_PORT: "abc" }],
    ["a bad LOG_LEVEL beside a DATABASE_URL", { DATABASE_URL: `postgres://helios:${PASSWORD}@db/x`, LOG_LEVEL: "LOUD" }],
  ])("for %s", (_label, env) => {
    const error = configErrorOf(env as Record<string, string>);
    expect(error.message).not.toContain(PASSWORD);
    expect(error.message).not.toContain("hunter2");
  });

  test("for a DATABASE_URL of another scheme, naming the scheme only", () => {
    expect(configErrorOf({ DATABASE_URL: `mysql://helios:${PASSWORD}@db/x` }).message).toBe(
      'Invalid configuration: DATABASE_URL="mysql://…" is not valid; expected a postgres:// or postgresql:// URL.',
    );
  });
});

describe("the program with a bad variable", () => {
  test("exits non-zero with one stderr line naming DB_PORT and what it accepts", async () => {
    const child = Bun.spawn(["bun", "run", "src/main.ts", "api"], {
      cwd: `${import.meta.dir}/../..`,
      env: { ...process.env, DB_PORT: "abc", DB_PASSWORD: PASSWORD, DATABASE_URL: "" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [code, stdout, stderr] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()]);
    expect(code).not.toBe(0);
    expect(stdout).toBe("");
    const lines = stderr.split("\n").filter((line) => line !== "");
    expect(lines).toEqual(['Invalid configuration: DB_PORT="abc" is not valid; expected a TCP port, an integer from 1 to 65535.']);
    expect(stderr).not.toContain(PASSWORD);
  });
});

describe("storage settings", () => {
  test("keep every outcome forever by default, with day partitions unless the table says otherwise, 3 ahead, hourly maintenance", () => {
    expect(loadConfig({}).storage).toEqual({
      partitionInterval: undefined,
      partitionsAhead: 3,
      retentionDays: undefined,
      rollupRetentionDays: undefined,
      maintenanceIntervalMs: 3_600_000,
    });
  });

  test("read PARTITION_INTERVAL in any case, retention in days and the maintenance period", () => {
    expect(
      loadConfig({ PARTITION_INTERVAL: "Hour", RETENTION_DAYS: "30", ROLLUP_RETENTION_DAYS: "400", PARTITIONS_AHEAD: "0", MAINTENANCE_INTERVAL_MS: "0" })
        .storage,
    ).toEqual({
      partitionInterval: "hour",
      partitionsAhead: 0,
      retentionDays: 30,
      rollupRetentionDays: 400,
      maintenanceIntervalMs: 0,
    });
  });

  test.each([
    [{ PARTITION_INTERVAL: "fortnight" }, 'Invalid configuration: PARTITION_INTERVAL="fortnight" is not valid; expected one of hour, day, week, month.'],
    [{ RETENTION_DAYS: "0" }, 'Invalid configuration: RETENTION_DAYS="0" is not valid; expected an integer from 1 to 36500, or nothing (unset).'],
    [{ RETENTION_DAYS: "7d" }, 'Invalid configuration: RETENTION_DAYS="7d" is not valid; expected an integer from 1 to 36500, or nothing (unset).'],
    [
      { RETENTION_DAYS: "30", ROLLUP_RETENTION_DAYS: "7" },
      'Invalid configuration: ROLLUP_RETENTION_DAYS="7" is not valid; expected at least RETENTION_DAYS (30); rollups outlive individual outcomes.',
    ],
    [
      { ROLLUP_RETENTION_DAYS: "7" },
      'Invalid configuration: ROLLUP_RETENTION_DAYS="7" is not valid; expected at least RETENTION_DAYS (unset: outcomes are kept forever, so rollups must be too); rollups outlive individual outcomes.',
    ],
  ])("refuse %p", (env, message) => {
    expect(configErrorOf(env).message).toBe(message);
  });
});

describe("creating the topic (KAFKA_CREATE_TOPIC)", () => {
  test("is off by default, and a topic this service creates takes the broker's defaults", () => {
    expect(loadConfig({}).kafka).toMatchObject({ createTopic: false, newTopic: { partitions: undefined, replicationFactor: undefined } });
  });

  test("reads KAFKA_CREATE_TOPIC with its partitions and replication factor", () => {
    const env = { KAFKA_CREATE_TOPIC: "yes", KAFKA_CREATE_TOPIC_PARTITIONS: "6", KAFKA_CREATE_TOPIC_REPLICATION_FACTOR: "3" };
    expect(loadConfig(env).kafka).toMatchObject({ createTopic: true, newTopic: { partitions: 6, replicationFactor: 3 } });
  });

  test.each([
    [{ KAFKA_CREATE_TOPIC: "maybe" }, 'Invalid configuration: KAFKA_CREATE_TOPIC="maybe" is not valid; expected true or false (also 1/0, yes/no, on/off).'],
    [
      { KAFKA_CREATE_TOPIC: "true", KAFKA_CREATE_TOPIC_PARTITIONS: "0" },
      'Invalid configuration: KAFKA_CREATE_TOPIC_PARTITIONS="0" is not valid; expected an integer from 1 to 10000, or nothing (unset).',
    ],
    [
      { KAFKA_CREATE_TOPIC: "true", KAFKA_CREATE_TOPIC_PARTITIONS: "three" },
      'Invalid configuration: KAFKA_CREATE_TOPIC_PARTITIONS="three" is not valid; expected an integer from 1 to 10000, or nothing (unset).',
    ],
    [
      { KAFKA_CREATE_TOPIC: "true", KAFKA_CREATE_TOPIC_PARTITIONS: "10001" },
      'Invalid configuration: KAFKA_CREATE_TOPIC_PARTITIONS="10001" is not valid; expected an integer from 1 to 10000, or nothing (unset).',
    ],
    [
      { KAFKA_CREATE_TOPIC: "true", KAFKA_CREATE_TOPIC_REPLICATION_FACTOR: "-1" },
      'Invalid configuration: KAFKA_CREATE_TOPIC_REPLICATION_FACTOR="-1" is not valid; expected an integer from 1 to 32767, or nothing (unset).',
    ],
    [
      { KAFKA_CREATE_TOPIC: "true", KAFKA_CREATE_TOPIC_REPLICATION_FACTOR: "40000" },
      'Invalid configuration: KAFKA_CREATE_TOPIC_REPLICATION_FACTOR="40000" is not valid; expected an integer from 1 to 32767, or nothing (unset).',
    ],
    // Ignored without a word, they would let an operator believe the consumer makes 6 partitions.
    [
      { KAFKA_CREATE_TOPIC_PARTITIONS: "6" },
      'Invalid configuration: KAFKA_CREATE_TOPIC_PARTITIONS="6" is not valid; it only applies with KAFKA_CREATE_TOPIC=true; set that too, or unset it.',
    ],
    [
      { KAFKA_CREATE_TOPIC: "false", KAFKA_CREATE_TOPIC_REPLICATION_FACTOR: "3" },
      'Invalid configuration: KAFKA_CREATE_TOPIC_REPLICATION_FACTOR="3" is not valid; it only applies with KAFKA_CREATE_TOPIC=true; set that too, or unset it.',
    ],
  ])("refuses %p", (env, message) => {
    expect(configErrorOf(env).message).toBe(message);
  });
});
