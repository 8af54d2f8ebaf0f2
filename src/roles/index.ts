// The role table: one program, several roles (`bun run start api | migrate | consumer | …`).
// Both runtime entry points (src/main.ts for Bun, src/deno.ts for Deno) hand argv to runRole.
// Each role is loaded only when it runs: the consumer and migrate roles never load Elysia
// (about 20 MiB of the consumer's resident memory), and only the demo loads PGlite.
import { UsageError, usage } from "../cli/options";
import { type Config, ConfigError, loadConfig } from "../config";
import { createLogger, type Logger } from "../log";
import { type RuntimeName, runtimeName } from "../runtime";

export type Role = (config: Config, log: Logger, args: string[]) => Promise<number>;

interface RoleEntry {
  load(): Promise<Role>;
  /** Runtimes the role runs under: the demo and produce-sample use Bun's own APIs. */
  runtimes: readonly RuntimeName[];
}

const BOTH: readonly RuntimeName[] = ["bun", "deno"];

export const ROLES: Record<string, RoleEntry> = {
  api: { load: async () => (await import("./api")).runApi, runtimes: BOTH },
  migrate: { load: async () => (await import("./migrate")).runMigrate, runtimes: BOTH },
  consumer: { load: async () => (await import("./consumer")).runConsumerRole, runtimes: BOTH },
  maintain: { load: async () => (await import("./maintain")).runMaintain, runtimes: BOTH },
  "import-original": { load: async () => (await import("./import-original")).runImportOriginal, runtimes: BOTH },
  "ingest-file": { load: async () => (await import("./ingest-file")).runIngestFile, runtimes: BOTH },
  "replay-dead-letters": { load: async () => (await import("./replay-dead-letters")).runReplayDeadLetters, runtimes: BOTH },
  "produce-sample": { load: async () => (await import("../ingest/kafka/produce-sample")).runProduceSample, runtimes: ["bun"] },
  demo: { load: async () => (await import("./demo")).runDemoRole, runtimes: ["bun"] },
};

/** Exit codes: 0 done, 1 failed, 2 usage error, 78 (EX_CONFIG) configuration error. */
export async function runRole(argv: string[], runtime: RuntimeName = runtimeName): Promise<number> {
  const [roleName = "api", ...args] = argv;
  const entry = Object.hasOwn(ROLES, roleName) ? ROLES[roleName] : undefined;
  if (!entry?.runtimes.includes(runtime)) {
    const available = Object.keys(ROLES).filter((name) => ROLES[name]!.runtimes.includes(runtime));
    const where = runtime === "deno" ? " under Deno" : "";
    console.error(`Unknown role "${roleName}"${where}: expected one of ${available.join(", ")}.`);
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
    const role = await entry.load();
    return await role(config, log, args);
  } catch (error) {
    if (error instanceof UsageError) return usage(error);
    log.error("Fatal error", { role: roleName, runtime, error });
    return 1;
  }
}
