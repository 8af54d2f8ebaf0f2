// `bun run bench generator [--messages 1000000]`: how fast the generator makes Kafka values
// and COPY rows (it must stay well ahead of what it feeds: ≥ 200k messages/s).
import { createOutcomeGenerator, messageValue, toCopyRow } from "../src/simulate/generator";
import { parseFlags } from "./args";
import { cpuBusyPercent } from "./environment";
import { appendResults, benchLine, commandLine } from "./results";

function rate(count: number, work: (i: number) => number): number {
  const started = performance.now();
  let bytes = 0;
  for (let i = 0; i < count; i++) bytes += work(i);
  if (bytes === 0) throw new Error("generated nothing");
  return Math.round(count / ((performance.now() - started) / 1000));
}

export async function benchGenerator(args: string[]): Promise<number> {
  const flags = parseFlags(args, { integers: { messages: 1_000_000, seed: 42 }, booleans: ["write-results"] });
  const count = flags.int("messages");
  const generator = createOutcomeGenerator({ seed: flags.int("seed"), spreadOver: count });
  const busy = await cpuBusyPercent(1000);
  rate(Math.min(count, 50_000), (i) => (generator.messageAt(i).kind === "outcome" ? 1 : 0)); // warm-up: JIT tiers
  const figures = {
    messages: count,
    objects_per_s: rate(count, (i) => (generator.messageAt(i).kind === "outcome" ? 1 : 0)),
    kafka_values_per_s: rate(count, (i) => (messageValue(generator.messageAt(i)) as string).length),
    copy_rows_per_s: rate(count, (i) => toCopyRow(generator.outcomeAt(i)).length),
    machine_busy_pct: busy,
  };
  benchLine("generator", figures);
  if (flags.bool("write-results")) {
    await appendResults(
      `generator, ${count.toLocaleString("en")} messages`,
      `- command: \`${commandLine()}\`; CPU ${busy}% busy just before the run\n- one thread: ${figures.objects_per_s.toLocaleString("en")} outcome objects/s, ${figures.kafka_values_per_s.toLocaleString("en")} Kafka values (JSON)/s, ${figures.copy_rows_per_s.toLocaleString("en")} COPY rows/s`,
    );
  }
  return 0;
}
