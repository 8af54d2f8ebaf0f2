// Command-line options of every role, declared once per role as a table: `--name value` or
// `--name=value`, flags without a value, positional arguments where a role takes them. Anything
// else is a UsageError that names the option and what it accepts (the dispatcher exits 2 with it).
export class UsageError extends Error {}

/** What the role dispatcher does with a UsageError from any role: the message on stderr, exit code 2. */
export function usage(error: UsageError): number {
  console.error(error.message);
  return 2;
}

export type OptionSpec =
  /** A whole number; `accepts` defaults to "an integer from min to max". */
  | { kind: "integer"; min: number; max?: number; accepts?: string }
  /** Any non-empty text. */
  | { kind: "text"; accepts: string }
  /** Present or not; takes no value. */
  | { kind: "flag" }
  /** May be given several times; every value is a whole number ≥ min. */
  | { kind: "integers"; min: number; accepts: string };

type ValueOf<S extends OptionSpec> = S extends { kind: "integer" }
  ? number
  : S extends { kind: "flag" }
    ? boolean
    : S extends { kind: "integers" }
      ? number[]
      : string;

export type ParsedOptions<S extends Record<string, OptionSpec>> = { [K in keyof S]?: ValueOf<S[K]> } & {
  /** Arguments that are not options, in order (only where the role allows them). */
  positional: string[];
};

function splitOption(option: string): [string, string | undefined] {
  const eq = option.indexOf("=");
  return eq < 0 ? [option, undefined] : [option.slice(0, eq), option.slice(eq + 1)];
}

function integerOf(name: string, text: string | undefined, spec: { min: number; max?: number; accepts?: string }): number {
  const max = spec.max ?? Number.MAX_SAFE_INTEGER;
  if (text === undefined || !/^\d{1,15}$/.test(text) || Number(text) < spec.min || Number(text) > max) {
    const accepts = spec.accepts ?? `an integer from ${spec.min} to ${max}`;
    throw new UsageError(`Invalid ${name} ${JSON.stringify(text ?? "")}: expected ${accepts}.`);
  }
  return Number(text);
}

/**
 * Parses `args` against `specs` (keys are the options as typed, e.g. "--max-messages").
 * `positional` says how many non-option arguments the role takes and what they are, for the message.
 */
export function parseOptions<const S extends Record<string, OptionSpec>>(
  args: readonly string[],
  specs: S,
  positional: { max: number; accepts: string } = { max: 0, accepts: "" },
): ParsedOptions<S> {
  const parsed: Record<string, unknown> = {};
  const rest: string[] = [];
  const names = Object.keys(specs);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    // "-" alone is a positional argument (standard input), as in most tools.
    if (!arg.startsWith("--") || arg === "-") {
      if (rest.length >= positional.max) {
        const expected = positional.max > 0 ? `at most ${positional.max} ${positional.accepts} and the options ${names.join(", ")}` : names.join(", ");
        throw new UsageError(`Unexpected argument "${arg}": expected ${expected}.`);
      }
      rest.push(arg);
      continue;
    }
    const [name, inline] = splitOption(arg);
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (!spec) throw new UsageError(`Unknown option "${arg}": expected ${names.join(", ")}.`);
    if (spec.kind === "flag") {
      if (inline !== undefined) throw new UsageError(`${name} takes no value (got "${arg}").`);
      parsed[name] = true;
      continue;
    }
    const value = inline ?? args[++i];
    if (spec.kind === "integer") parsed[name] = integerOf(name, value, spec);
    else if (spec.kind === "integers") parsed[name] = [...((parsed[name] as number[] | undefined) ?? []), integerOf(name, value, spec)];
    else {
      if (value === undefined || value.trim() === "") throw new UsageError(`Missing value for ${name}: expected ${spec.accepts}.`);
      parsed[name] = value;
    }
  }
  return { ...parsed, positional: rest } as ParsedOptions<S>;
}
