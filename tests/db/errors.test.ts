// What a database error means to the caller: unavailable (503, retry), lost connection, or the row's own fault.
import { describe, expect, test } from "bun:test";
import { isConnectionError, isDataError, isUnavailable } from "../../src/db/errors";

const error = (code: string) => Object.assign(new Error(code), { code });

describe("database errors", () => {
  test("a lost or refused connection is unavailable and a connection error", () => {
    for (const code of ["ECONNREFUSED", "CONNECTION_CLOSED", "57P01", "53300", "55000"]) {
      expect([isUnavailable(error(code)), isConnectionError(error(code))]).toEqual([true, true]);
    }
  });

  test("a statement timeout, a missing database and a full lock table are unavailable, not lost connections", () => {
    for (const code of ["57014", "3D000", "53200"]) expect([isUnavailable(error(code)), isConnectionError(error(code))]).toEqual([true, false]);
  });

  test("data exceptions, integrity violations and program limits are the row's fault; nothing else is", () => {
    expect(["22P02", "23505", "23514", "54001"].map((code) => isDataError(error(code)))).toEqual([true, true, true, true]);
    expect(["40P01", "42P10", "57014", ""].map((code) => isDataError(error(code)))).toEqual([false, false, false, false]);
    expect(isDataError(undefined)).toBe(false);
  });
});
