// Command-line options of `bun run start demo`: `--name value` or `--name=value`; anything else is
// a UsageError naming the option and what it accepts (the role exits 2 with it).
import { UsageError } from "../ingest/cli-args";

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

const OPTIONS = ["--rate", "--data-dir", "--port", "--kafka", "--seed"];

function integerIn(name: string, text: string | undefined, min: number, max: number): number {
  if (text === undefined || !/^\d{1,9}$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`Invalid ${name} ${JSON.stringify(text ?? "")}: expected an integer from ${min} to ${max}.`);
  }
  return Number(text);
}

export function parseDemoArgs(args: string[]): DemoArgs {
  const parsed: DemoArgs = { rate: DEFAULT_RATE, kafka: false, seed: DEFAULT_SEED };
  for (let i = 0; i < args.length; i++) {
    const option = args[i]!;
    const eq = option.indexOf("=");
    const name = eq < 0 ? option : option.slice(0, eq);
    if (!OPTIONS.includes(name)) throw new UsageError(`Unknown option "${option}": expected ${OPTIONS.join(", ")}.`);
    if (name === "--kafka") {
      if (eq >= 0) throw new UsageError(`--kafka takes no value (got "${option}").`);
      parsed.kafka = true;
      continue;
    }
    const value = eq < 0 ? args[++i] : option.slice(eq + 1);
    if (name === "--rate") parsed.rate = integerIn(name, value, 1, MAX_RATE);
    else if (name === "--port") parsed.port = integerIn(name, value, 1, 65_535);
    else if (name === "--seed") parsed.seed = integerIn(name, value, 0, 2_147_483_647);
    else {
      if (value === undefined || value.trim() === "") throw new UsageError(`Missing value for --data-dir: expected a directory.`);
      parsed.dataDir = value;
    }
  }
  return parsed;
}
