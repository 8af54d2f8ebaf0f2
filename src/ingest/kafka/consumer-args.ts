// `bun run start consumer [--max-messages N] [--timeout MS] [--lag-interval MS]`.
import { parseOptions } from "../../cli/options";

export interface ConsumerArgs {
  maxMessages?: number;
  timeoutMs?: number;
  lagIntervalMs?: number;
}

const OPTIONS = {
  "--max-messages": { kind: "integer", min: 1, accepts: "a number of messages ≥ 1" },
  "--timeout": { kind: "integer", min: 1, accepts: "milliseconds ≥ 1" },
  "--lag-interval": { kind: "integer", min: 100, accepts: "milliseconds ≥ 100" },
} as const;

export function parseConsumerArgs(args: string[]): ConsumerArgs {
  const options = parseOptions(args, OPTIONS);
  return { maxMessages: options["--max-messages"], timeoutMs: options["--timeout"], lagIntervalMs: options["--lag-interval"] };
}
