// The API as a real `bun run src/main.ts api` process on a free loopback port: for faults that need
// the real server (a database restarted under it) and for reading everything the process prints.

import { freePort } from "./ports";
import { type ServiceProcess, spawnRole } from "./processes";

export interface ApiProcess extends ServiceProcess {
  base: string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number>;
}

/** Starts the api role with `env` (DATABASE_URL and friends) and waits until /healthz answers. */
export async function startApiProcess(env: Record<string, string>, timeoutMs = 20_000): Promise<ApiProcess> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const api = spawnRole("api", [], { PORT: String(port), ALLOWED_HOSTS: "*", ...env });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (api.proc.exitCode !== null || Date.now() > deadline) {
      api.proc.kill("SIGKILL");
      throw new Error(`the API did not start (exit ${api.proc.exitCode}): ${JSON.stringify(api.lines)} ${api.other.join("\n")}`);
    }
    const healthy = await fetch(`${base}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) break;
    await Bun.sleep(25);
  }
  return {
    ...api,
    base,
    async stop() {
      api.proc.kill("SIGTERM");
      return api.exited;
    },
  };
}
