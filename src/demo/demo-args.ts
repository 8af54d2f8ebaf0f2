// Command-line options of `bun run start demo`.
import { parseOptions } from "../cli/options";

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
} as const;

export function parseDemoArgs(args: string[]): DemoArgs {
  const options = parseOptions(args, OPTIONS);
  return {
    rate: options["--rate"] ?? DEFAULT_RATE,
    dataDir: options["--data-dir"],
    port: options["--port"],
    kafka: options["--kafka"] ?? false,
    seed: options["--seed"] ?? DEFAULT_SEED,
  };
}
