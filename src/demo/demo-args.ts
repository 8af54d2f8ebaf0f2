// Command-line options of `bun run start demo`.
import { parseOptions } from "../cli/options";
import { DEFAULT_PROGRESS_INTERVAL_S } from "./demo-report";

export interface DemoArgs {
  /** Simulated outcomes per second. */
  rate: number;
  /** Where the embedded database keeps its files; none: in memory, gone at exit. */
  dataDir?: string;
  /** Overrides PORT. */
  port?: number;
  /** Produce the stream to Kafka and run the real consumer, when KAFKA_BROKERS answers. */
  kafka: boolean;
  /** Generator seed; the same seed gives the same outcomes. */
  seed: number;
  /** One log line per HTTP request, as the api role writes; off: a count in each progress line. */
  logRequests: boolean;
  /** Seconds between progress lines. */
  progressIntervalS: number;
}

export const DEFAULT_RATE = 300;
export const MAX_RATE = 20_000;
/** Any fixed seed works: the feed resumes where the stored data ends (see feed-position.ts). */
export const DEFAULT_SEED = 8;

const OPTIONS = {
  "--rate": { kind: "integer", min: 1, max: MAX_RATE },
  "--data-dir": { kind: "text", accepts: "a directory" },
  "--port": { kind: "integer", min: 1, max: 65_535 },
  "--kafka": { kind: "flag" },
  "--seed": { kind: "integer", min: 0, max: 2_147_483_647 },
  "--log-requests": { kind: "flag" },
  "--progress-interval": { kind: "integer", min: 1, max: 3_600, accepts: "seconds, an integer from 1 to 3600" },
} as const;

/** Every option the demo takes, as typed: the README and docs/development.md list exactly these. */
export const DEMO_OPTIONS: readonly string[] = Object.keys(OPTIONS);

export function parseDemoArgs(args: string[]): DemoArgs {
  const options = parseOptions(args, OPTIONS);
  return {
    rate: options["--rate"] ?? DEFAULT_RATE,
    dataDir: options["--data-dir"],
    port: options["--port"],
    kafka: options["--kafka"] ?? false,
    seed: options["--seed"] ?? DEFAULT_SEED,
    logRequests: options["--log-requests"] ?? false,
    progressIntervalS: options["--progress-interval"] ?? DEFAULT_PROGRESS_INTERVAL_S,
  };
}
