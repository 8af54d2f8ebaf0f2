// Command-line options of the ingest roles: `--name value` or `--name=value`; anything else
// is a UsageError that names the option and what it accepts (the role exits 2 with it).
export class UsageError extends Error {}

/** What the role dispatcher does with a UsageError from any role: the message on stderr, exit code 2. */
export function usage(error: UsageError): number {
  console.error(error.message);
  return 2;
}

function splitOption(option: string): [string, string | undefined] {
  const eq = option.indexOf("=");
  return eq < 0 ? [option, undefined] : [option.slice(0, eq), option.slice(eq + 1)];
}

export interface ConsumerArgs {
  maxMessages?: number;
  timeoutMs?: number;
  lagIntervalMs?: number;
}

const FLAGS: Record<string, { key: keyof ConsumerArgs; min: number; accepts: string }> = {
  "--max-messages": { key: "maxMessages", min: 1, accepts: "a number of messages ≥ 1" },
  "--timeout": { key: "timeoutMs", min: 1, accepts: "milliseconds ≥ 1" },
  "--lag-interval": { key: "lagIntervalMs", min: 100, accepts: "milliseconds ≥ 100" },
};

/** `--flag N` or `--flag=N`; anything else is a usage error naming the flag and what it accepts. */
export function parseConsumerArgs(args: string[]): ConsumerArgs {
  const parsed: ConsumerArgs = {};
  for (let i = 0; i < args.length; i++) {
    const [name, inline] = splitOption(args[i]!);
    const flag = FLAGS[name];
    if (!flag) throw new UsageError(`Unknown option "${args[i]}": expected ${Object.keys(FLAGS).join(", ")}.`);
    const text = inline ?? args[++i];
    if (text === undefined || !/^\d{1,15}$/.test(text) || Number(text) < flag.min) {
      throw new UsageError(`Invalid ${name} ${JSON.stringify(text ?? "")}: expected ${flag.accepts}.`);
    }
    parsed[flag.key] = Number(text);
  }
  return parsed;
}

export interface ProduceArgs {
  count: number;
  file?: string;
  topic?: string;
}

export function parseProduceArgs(args: string[]): ProduceArgs {
  const parsed: ProduceArgs = { count: 10 };
  for (let i = 0; i < args.length; i++) {
    const option = args[i]!;
    const [name, inline] = splitOption(option);
    if (!["--count", "--file", "--topic"].includes(name)) {
      throw new UsageError(`Unknown option "${option}": expected --count, --file or --topic.`);
    }
    const value = inline ?? args[++i];
    if (value === undefined || value === "") throw new UsageError(`Missing value for ${name}.`);
    if (name === "--count") {
      if (!/^\d{1,9}$/.test(value) || Number(value) < 1) throw new UsageError(`Invalid --count ${JSON.stringify(value)}: expected a number ≥ 1.`);
      parsed.count = Number(value);
    } else if (name === "--file") parsed.file = value;
    else parsed.topic = value;
  }
  return parsed;
}

