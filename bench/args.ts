// Command-line flags of the benchmarks: `--name value`, `--name=value`, or a bare `--flag`.
export class BenchUsageError extends Error {}

export interface FlagSpec {
  /** Integer flags with their default; non-integers are refused with the flag's name. */
  integers?: Record<string, number>;
  strings?: Record<string, string>;
  booleans?: string[];
}

export interface ParsedFlags {
  int(name: string): number;
  str(name: string): string;
  bool(name: string): boolean;
}

export function parseFlags(args: string[], spec: FlagSpec): ParsedFlags {
  const integers = { ...spec.integers };
  const strings = { ...spec.strings };
  const booleans = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("--")) throw new BenchUsageError(`Unexpected argument "${arg}": flags look like --name value.`);
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (spec.booleans?.includes(name)) {
      if (eq >= 0) throw new BenchUsageError(`--${name} takes no value.`);
      booleans.add(name);
      continue;
    }
    const known = name in integers || name in strings;
    if (!known) {
      const all = [...Object.keys(integers), ...Object.keys(strings), ...(spec.booleans ?? [])].map((n) => `--${n}`);
      throw new BenchUsageError(`Unknown flag --${name}: expected one of ${all.join(", ")}.`);
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined) throw new BenchUsageError(`--${name} needs a value.`);
    if (name in integers) {
      const digits = value.replace(/_/g, "");
      if (!/^\d+$/.test(digits)) throw new BenchUsageError(`--${name} ${JSON.stringify(value)}: expected a whole number (1000000 or 1_000_000).`);
      integers[name] = Number(digits);
    } else {
      strings[name] = value;
    }
  }
  return {
    int: (name) => integers[name]!,
    str: (name) => strings[name]!,
    bool: (name) => booleans.has(name),
  };
}
