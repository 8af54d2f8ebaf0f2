// The role table and the consumer role's wiring, from outside any process.
import { describe, expect, test } from "bun:test";
import { isPostgresClosedSocketRace } from "../../src/roles/consumer";

describe("isPostgresClosedSocketRace", () => {
  test("recognises only postgres.js's write on a closed socket", () => {
    const race = new TypeError("null is not an object (evaluating 'socket.write')");
    race.stack = `${race.message}\n    at nextWrite (/app/node_modules/postgres/src/connection.js:255:15)`;
    expect(isPostgresClosedSocketRace(race)).toBe(true);
    const elsewhere = new TypeError("null is not an object (evaluating 'socket.write')");
    elsewhere.stack = `${elsewhere.message}\n    at write (/app/src/ingest/kafka/consumer.ts:10:1)`;
    expect(isPostgresClosedSocketRace(elsewhere)).toBe(false);
    expect(isPostgresClosedSocketRace(new Error("socket"))).toBe(false);
  });
});
