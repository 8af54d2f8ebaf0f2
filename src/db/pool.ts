// A pool that can be swapped for a fresh one. postgres.js 3.4.9 on Bun can keep a socket that
// never reconnects after the server closed it during startup (porsager/postgres#1193; seen here
// with ALLOW_CONNECTIONS false): every later query then fails with CONNECT_TIMEOUT until a new
// pool is made. Long-running writers (ingest) hold their pool through this.
import type { Logger } from "../log";
import type { Sql } from "./client";

export interface ReplaceablePool {
  /** The pool to use now: read it for every statement, it may have been replaced since. */
  readonly sql: Sql;
  /** Replaces `failed` with a fresh pool, once even when several callers saw it fail. */
  replace(failed: Sql): void;
  end(timeoutSeconds: number): Promise<void>;
}

export function replaceablePool(connect: () => Sql, log: Logger): ReplaceablePool {
  let sql = connect();
  return {
    get sql() {
      return sql;
    },
    replace(failed) {
      if (failed !== sql) return;
      sql = connect();
      failed.end({ timeout: 0 }).catch(() => {});
      log.warn("Database connections replaced after repeated connection failures");
    },
    end: (timeoutSeconds) => sql.end({ timeout: timeoutSeconds }),
  };
}

/** A pool that is never replaced: one shared with others (the demo's single PGlite connection). */
export function fixedPool(sql: Sql): ReplaceablePool {
  return { sql, replace: () => {}, end: async () => {} };
}
