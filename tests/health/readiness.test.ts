// /readyz during rollouts: a migration applied by a newer build must not take old pods out of
// service, but a pending or edited migration of this build must.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { testApp } from "../support/http";

let db: TestDatabase;
beforeEach(async () => {
  db = await createTestDatabase("readiness");
});
afterEach(async () => db.drop());

test("stays ready when a newer build applied a migration this build does not know", async () => {
  await db.setup`insert into schema_migrations (name, checksum) values ('999_from_a_newer_release.sql', 'abc')`;
  const { get } = testApp(db.config, db.sql);
  const response = await get("/readyz");
  expect(response.status).toBe(200);
  expect(response.body).toEqual({ status: "ready" });
});

test("is not ready when one of this build's migrations is pending", async () => {
  await db.sql`delete from schema_migrations where name = '002_dead_letters.sql'`;
  const { get } = testApp(db.config, db.sql);
  const response = await get("/readyz");
  expect(response.status).toBe(503);
  expect(response.body).toEqual({ status: "unavailable", reason: "pending migrations: 002_dead_letters.sql" });
});

test("is not ready when an applied migration was edited afterwards", async () => {
  await db.sql`update schema_migrations set checksum = 'edited' where name = '001_auction_outcomes.sql'`;
  const { get } = testApp(db.config, db.sql);
  const response = await get("/readyz");
  expect(response.status).toBe(503);
  expect(response.body).toEqual({ status: "unavailable", reason: "migrations edited after they were applied: 001_auction_outcomes.sql" });
});
