// Services under test as real processes (the demo, the API under Bun and under Deno): ports,
// their JSON log lines, bounded waits for a line or an exit.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./project";

export type LogLine = Record<string, unknown> & { level: string; message: string };

export interface ServiceProcess {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  lines: LogLine[];
  /** Output that was not a JSON line (a banner, a usage error, a crash). */
  other: string[];
  /** Resolves with the first matching line; throws when the process exits or `timeoutMs` (20 s) passes first. */
  waitForLine(what: string, match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** The exit code, once all of its output is read. */
  exited: Promise<number>;
  /** The exit code, or a thrown timeout when the process is still running after `timeoutMs`. */
  exitedWithin(timeoutMs: number): Promise<number>;
}

async function collect(stream: ReadableStream<Uint8Array>, lines: LogLine[], other: string[]): Promise<void> {
  const decoder = new TextDecoder();
  let buffered = "";
  const take = (text: string) => {
    try {
      const parsed = JSON.parse(text);
      if (parsed && typeof parsed === "object" && typeof parsed.message === "string") return void lines.push(parsed);
    } catch {
      // not JSON: kept as other output
    }
    if (text.trim()) other.push(text);
  };
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    for (let newline = buffered.indexOf("\n"); newline >= 0; newline = buffered.indexOf("\n")) {
      take(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
    }
  }
  if (buffered) take(buffered);
}

export function spawnService(command: string[], options: { env?: Record<string, string>; unset?: string[] } = {}): ServiceProcess {
  const env: Record<string, string | undefined> = { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: "1", ...options.env };
  for (const name of options.unset ?? []) delete env[name];
  const proc = Bun.spawn(command, { cwd: ROOT, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const lines: LogLine[] = [];
  const other: string[] = [];
  const reading = Promise.all([collect(proc.stdout, lines, other), collect(proc.stderr, lines, other)]);
  const exited = proc.exited.then(async (code) => {
    await reading;
    return code;
  });
  return {
    proc,
    lines,
    other,
    exited,
    async waitForLine(what, match, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = lines.find(match);
        if (found) return found;
        const reason = proc.exitCode !== null ? `the process exited with ${proc.exitCode}` : Date.now() >= deadline ? `timed out after ${timeoutMs} ms` : null;
        if (reason) {
          const tail = [...lines.slice(-8).map((line) => JSON.stringify(line)), ...other.slice(-8)].join("\n");
          throw new Error(`Waiting for ${what}: ${reason}. Last output:\n${tail}`);
        }
        await Bun.sleep(50);
      }
    },
    exitedWithin: (timeoutMs) =>
      Promise.race([
        exited,
        Bun.sleep(timeoutMs).then(() => {
          throw new Error(`still running ${timeoutMs} ms after the signal`);
        }),
      ]),
  };
}

/** `bun run src/main.ts <role> …args` with `env` (the test database and Kafka settings) added to this process's. */
export function spawnRole(role: string, args: string[], env: Record<string, string>): ServiceProcess {
  return spawnService(["bun", "run", "src/main.ts", role, ...args], { env: { LOG_LEVEL: "INFO", ...env } });
}

/**
 * The deno executable the `deno` npm package installed: its platform package's binary, run
 * directly (node_modules/.bin/deno is a Node script that would stand between the test's signals
 * and Deno), else that script.
 */
export function denoExecutable(): string {
  const arch = process.arch === "arm64" ? "arm64" : "x64";
  const target = process.platform === "linux" ? `linux-${arch}-glibc` : `${process.platform}-${arch}`;
  const binary = join(ROOT, "node_modules", "@deno", target, process.platform === "win32" ? "deno.exe" : "deno");
  return existsSync(binary) ? binary : join(ROOT, "node_modules", ".bin", "deno");
}
