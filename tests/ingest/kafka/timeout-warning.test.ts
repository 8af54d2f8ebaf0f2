// The one upstream warning the Kafka roles drop (kafkajs issue #1751), and only that one, under
// Bun and Deno: a process that installs the filter, arms a negative timer and emits another warning.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { denoExecutable } from "../../support/processes";
import { ROOT } from "../../support/project";

const SCRIPT = `
import { dropTimeoutNegativeWarning } from ${JSON.stringify(join(ROOT, "src/ingest/kafka/timeout-warning.ts"))};
dropTimeoutNegativeWarning();
setTimeout(() => console.log("negative timer fired"), -5);
setTimeout(() => process.emitWarning("something else", "CustomWarning"), 20);
`;

test.each([
  ["Bun", ["bun", "--eval", SCRIPT]],
  ["Deno", [denoExecutable(), "eval", "--ext=ts", SCRIPT]],
])("under %s drops TimeoutNegativeWarning and prints every other warning", async (_runtime, command) => {
  const proc = Bun.spawn(command, { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(code).toBe(0);
  expect(out).toContain("negative timer fired");
  expect(err).not.toContain("TimeoutNegativeWarning");
  expect(err).toContain("CustomWarning: something else");
});
