// How a dead letter's bytes are shown.
import { describe, expect, test } from "bun:test";
import { renderBytes } from "../../src/dead-letters/dead-letters.render";

describe("renderBytes", () => {
  test("shows UTF-8 as text, anything else as base64, and nothing as null", () => {
    expect(renderBytes(Buffer.from("héllo"))).toEqual({ text: "héllo", encoding: "utf-8" });
    expect(renderBytes(new Uint8Array([0xff, 0x00]))).toEqual({ text: "/wA=", encoding: "base64" });
    expect(renderBytes(null)).toEqual({ text: null, encoding: null });
  });
});
