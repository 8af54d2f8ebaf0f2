// The whole app on a loopback port of its own, for a browser (or any real HTTP client) to load.
import { createApp } from "../../src/app";
import { createLogger } from "../../src/log";
import { type TestDatabase, testConfig } from "./db";

export interface Served {
  base: string;
  stop(): void;
}

/** The app on `db` (with `env` on top of the test configuration) at http://127.0.0.1:<a free port>. */
export function serveApp(db: TestDatabase, env: Record<string, string> = {}): Served {
  const app = createApp({ config: testConfig(db.url, env), sql: db.sql, log: createLogger("ERROR") });
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch });
  return { base: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}
