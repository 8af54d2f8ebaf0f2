// `bun run bench <ingest|api|generator|soak|storage|backfill|writer|citus|export> [flags]`: the performance harness of issue 4. Not part
// of `bun run test`; see bench/RESULTS.md for what each benchmark does and how to run it.
import { BenchUsageError } from "./args";

const BENCHMARKS: Record<string, () => Promise<(args: string[]) => Promise<number>>> = {
  ingest: async () => (await import("./ingest")).benchIngest,
  api: async () => (await import("./api")).benchApi,
  generator: async () => (await import("./generator-speed")).benchGenerator,
  soak: async () => (await import("./soak")).benchSoak,
  storage: async () => (await import("./storage")).benchStorage,
  backfill: async () => (await import("./backfill")).benchBackfill,
  writer: async () => (await import("./writer")).benchWriter,
  citus: async () => (await import("./citus")).benchCitus,
  export: async () => (await import("./export")).benchExport,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const load = name ? BENCHMARKS[name] : undefined;
  if (!load) {
    console.error(`usage: bun run bench <${Object.keys(BENCHMARKS).join("|")}> [flags]  (see bench/RESULTS.md)`);
    return 2;
  }
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = "1";
  try {
    return await (await load())(args);
  } catch (error) {
    if (error instanceof BenchUsageError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
}

if (import.meta.main) {
  process.exit(await main(process.argv.slice(2)));
}
