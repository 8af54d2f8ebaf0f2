// Database pool gauges for a postgres.js client. postgres.js 3.4 keeps its connection queues
// (open, busy, connecting, …) private and has no pool-statistics API, so we count at the client:
// every executed tagged-template query is "in flight" from the moment postgres.js hands it to the
// pool until its promise settles. The pool gives a query an idle or not-yet-opened connection
// before it pipelines onto a busy one, so while fewer than `max` queries run each has its own
// connection: in use = min(in flight, max); idle = max − in use. Queries beyond `max` wait or
// pipeline, which db_queries_in_flight > db_pool_connections_max shows directly.
// Idle counts pool slots: postgres.js opens connections lazily and closes them after idle_timeout,
// so an idle slot may have no open socket; pg_stat_activity is the place to count sockets.
import type { Sql } from "../db/client";

export class QueryCounter {
  inFlight = 0;
  constructor(readonly max: number) {}

  get inUse(): number {
    return Math.min(this.inFlight, this.max);
  }

  get idle(): number {
    return this.max - this.inUse;
  }
}

type PoolHandler = ((query: PromiseLike<unknown>) => unknown) & { debug?: unknown };
interface PendingQuery extends PromiseLike<unknown> {
  handler?: PoolHandler;
}

function isQuery(value: unknown): value is PendingQuery {
  return typeof value === "object" && value !== null && typeof (value as PendingQuery).handler === "function" && value instanceof Promise;
}

/**
 * Returns the same client, counting its tagged-template queries in `counter`. A query is counted
 * only when it executes: fragments (sql`and x = ${y}`) are built the same way but never run.
 * Relies on postgres.js calling `query.handler(query)` once per execution (3.4.x, src/query.js).
 */
export function countQueries(sql: Sql, counter: QueryCounter): Sql {
  const finish = () => {
    counter.inFlight -= 1;
  };
  return new Proxy(sql, {
    apply(target, thisArg, args) {
      const result: unknown = Reflect.apply(target as unknown as (...a: unknown[]) => unknown, thisArg, args);
      if (isQuery(result)) {
        const pool = result.handler!;
        result.handler = Object.assign(
          (query: PromiseLike<unknown>) => {
            counter.inFlight += 1;
            // The native then: Query#then would start the query again; species makes this a plain Promise.
            Promise.prototype.then.call(query, finish, finish);
            return pool(query);
          },
          { debug: pool.debug },
        );
      }
      return result;
    },
  });
}
