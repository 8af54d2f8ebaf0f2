// Liveness and readiness. Readiness means: the database answers and no migration is pending,
// so a pod on a schema it does not know never receives traffic.
import { Elysia } from "elysia";
import { Type } from "@sinclair/typebox";
import type { Sql } from "../db/client";
import { migrationStatus } from "../db/migrate";

export const Health = Type.Object({ status: Type.String(), reason: Type.Optional(Type.String()) }, { title: "Health" });

export async function readiness(sql: Sql): Promise<{ ready: boolean; reason?: string }> {
  try {
    const status = await migrationStatus(sql);
    if (status.pending.length > 0) return { ready: false, reason: `pending migrations: ${status.pending.join(", ")}` };
    return { ready: true };
  } catch (error) {
    return { ready: false, reason: `database unavailable: ${(error as Error).message}` };
  }
}

export function healthRoutes(sql: Sql) {
  const doc = (summary: string) => ({
    tags: ["health"],
    summary,
    responses: {
      200: { description: "OK", content: { "application/json": { schema: Health } } },
      503: { description: "Not ready, with the reason", content: { "application/json": { schema: Health } } },
    },
  });
  return new Elysia({ name: "health-routes" })
    .get("/healthz", () => ({ status: "ok" }), { detail: doc("Process is up") })
    .get(
      "/readyz",
      async ({ set }) => {
        const { ready, reason } = await readiness(sql);
        if (ready) return { status: "ready" };
        set.status = 503;
        return { status: "unavailable", reason };
      },
      { detail: doc("Database reachable and schema up to date") },
    );
}
