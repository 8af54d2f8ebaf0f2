// Tells the API when auction_outcomes changed: one connection holds `LISTEN auction_outcomes_changed`
// (migration 006 notifies it from every statement that changed rows, at commit). `version` moves on
// every notification and whenever the connection is lost or regained, because notifications sent
// while nobody listened are gone: an answer computed before the version moved may be stale.
import type { DatabaseConfig } from "../config";
import type { Logger } from "../log";
import { createSql, type Sql } from "./client";

export const OUTCOMES_CHANGED_CHANNEL = "auction_outcomes_changed";

/** What a cache needs to know: whether changes are being heard, and a number that moves on each. */
export interface ChangeSignal {
  readonly version: number;
  readonly listening: boolean;
}

export interface ChangeFeed extends ChangeSignal {
  /** Resolves once LISTEN is in effect (or the feed was closed). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

const RETRY_MS = 1000;

export function startChangeFeed(db: DatabaseConfig, log: Logger, applicationName = "helios-analytics-api-listen"): ChangeFeed {
  let version = 0;
  let listening = false;
  let closed = false;
  let current: Sql | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let becameReady!: () => void;
  let readyPromise = new Promise<void>((resolve) => (becameReady = resolve));

  const lost = (connection: Sql) => {
    // Only the connection in use matters; an old one ending late changes nothing.
    if (connection !== current) return;
    version++;
    current = undefined;
    void connection.end({ timeout: 0 }).catch(() => {});
    if (closed) return;
    if (listening) log.warn("Change feed lost its connection; aggregate answers are not cached until it is back");
    listening = false;
    readyPromise = new Promise<void>((resolve) => (becameReady = resolve));
    retry = setTimeout(listen, RETRY_MS);
  };

  async function listen(): Promise<void> {
    retry = undefined;
    if (closed) return;
    // A fresh client each time: postgres.js on Bun may never reconnect a client whose connection
    // was refused (porsager/postgres#1193), and a fresh one costs nothing here.
    const connection: Sql = createSql(db, {
      max: 1,
      applicationName,
      statementTimeoutMs: 0,
      listener: {
        onnotify: (channel) => {
          if (channel === OUTCOMES_CHANGED_CHANNEL) version++;
        },
        onclose: () => lost(connection),
      },
    });
    current = connection;
    try {
      await connection`listen ${connection(OUTCOMES_CHANGED_CHANNEL)}`;
      if (connection !== current) return;
      version++;
      listening = true;
      log.info("Change feed listening", { channel: OUTCOMES_CHANGED_CHANNEL });
      becameReady();
    } catch (error) {
      if (connection !== current) return;
      log.warn("Change feed cannot listen; retrying", { error: (error as Error).message, retry_ms: RETRY_MS });
      lost(connection);
    }
  }

  void listen();
  return {
    get version() {
      return version;
    },
    get listening() {
      return listening;
    },
    ready: () => readyPromise,
    async close() {
      closed = true;
      listening = false;
      version++;
      if (retry) clearTimeout(retry);
      becameReady();
      const connection = current;
      current = undefined;
      await connection?.end({ timeout: 1 }).catch(() => {});
    },
  };
}
