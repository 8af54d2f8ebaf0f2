// Runs the app in-process: app.handle(Request) needs no server and no port.
import { createApp } from "../../src/app";
import type { Config } from "../../src/config";
import type { ChangeSignal } from "../../src/db/change-feed";
import type { Sql } from "../../src/db/client";
import { createLogger, type Logger } from "../../src/log";

export const BASE = "http://localhost";

export function testApp(config: Config, sql: Sql, log: Logger = createLogger("ERROR"), changes?: ChangeSignal) {
  const app = createApp({ config, sql, log, changes });
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const response = await app.handle(new Request(BASE + path, { headers }));
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: response.status, headers: response.headers, body: body as any, text };
  };
  return { app, get };
}
