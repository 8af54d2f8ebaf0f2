// Liveness and readiness. Readiness means: the database answers, every migration this build
// knows is applied, and none of them was edited. Migrations applied by a NEWER build are fine:
// during a rollout the old pods must keep serving after the migration Job ran.

import { Type } from "@sinclair/typebox";
import { Elysia } from "elysia";
import type { Sql } from "../db/client";
import { appliedChecksums, type MigrationFile, readMigrationFiles } from "../db/migrate";
import { jsonResponse } from "../http/openapi";

export const Health = Type.Object({ status: Type.String(), reason: Type.Optional(Type.String()) }, { title: "Health" });

export async function readiness(sql: Sql, files: MigrationFile[]): Promise<{ ready: boolean; reason?: string }> {
  let applied: Awaited<ReturnType<typeof appliedChecksums>>;
  try {
    applied = await appliedChecksums(sql);
  } catch (error) {
    return { ready: false, reason: `database unavailable: ${(error as Error).message}` };
  }
  const pending = files.filter((file) => !applied.has(file.name)).map((file) => file.name);
  if (pending.length > 0) return { ready: false, reason: `pending migrations: ${pending.join(", ")}` };
  const edited = files.filter((file) => applied.get(file.name)!.checksum !== file.checksum).map((file) => file.name);
  if (edited.length > 0) return { ready: false, reason: `migrations edited after they were applied: ${edited.join(", ")}` };
  return { ready: true };
}

export function healthRoutes(sql: Sql) {
  const doc = (summary: string) => ({
    tags: ["health"],
    summary,
    // Open whatever API_TOKENS says (see http/security.ts): no scheme applies.
    security: [],
    responses: {
      200: jsonResponse(Health, "OK"),
      503: jsonResponse(Health, "Not ready, with the reason"),
    },
  });
  let files: MigrationFile[] | undefined;
  return new Elysia({ name: "health-routes" })
    .get("/healthz", () => ({ status: "ok" }), { detail: doc("Process is up") })
    .get(
      "/readyz",
      async ({ set }) => {
        // The files are part of this build: read once, not on every probe.
        files ??= await readMigrationFiles();
        const { ready, reason } = await readiness(sql, files);
        if (ready) return { status: "ready" };
        set.status = 503;
        return { status: "unavailable", reason };
      },
      { detail: doc("Database reachable and schema up to date") },
    );
}
