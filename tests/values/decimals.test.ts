import { describe, expect, test } from "bun:test";
import { aggregateNumber, numberToDecimalText, renderPrice, subtractDecimals } from "../../src/values/decimals";

describe("renderPrice", () => {
  test.each([
    ["0.8", "0.80"],
    ["0.80", "0.80"],
    ["0.10", "0.10"],
    ["1.2345", "1.2345"],
    ["1.234500", "1.2345"],
    ["3", "3.00"],
    ["0", "0.00"],
    ["0.000000", "0.00"],
    ["0.000001", "0.000001"],
    ["00012.5", "12.50"],
    ["00.50", "0.50"],
    ["012.00", "12.00"],
    ["10.00", "10.00"],
    ["12345.678901", "12345.678901"],
    ["999999999999.999999", "999999999999.999999"],
    ["100", "100.00"],
  ])("renders %s as %s", (stored, rendered) => {
    expect(renderPrice(stored)).toBe(rendered);
  });

  test("never goes through a float: 0.1 + 0.2 stays 0.30", () => {
    expect(renderPrice("0.3")).toBe("0.30");
    expect(renderPrice("0.30000000000000004")).toBe("0.30000000000000004");
  });
});

describe("numberToDecimalText", () => {
  test.each([
    [0.75, "0.75"],
    [10.5, "10.5"],
    [0, "0"],
    [8, "8"],
    [1e-7, "0.0000001"],
    [1.5e-7, "0.00000015"],
    [1.23e-10, "0.000000000123"],
    [1e21, "1000000000000000000000"],
    [1.5e21, "1500000000000000000000"],
    [123456789.123456, "123456789.123456"],
  ])("writes %p as %s", (value, text) => {
    expect(numberToDecimalText(value)).toBe(text);
  });

  test("writes what the sender wrote, not the float's expansion", () => {
    expect(numberToDecimalText(0.1)).toBe("0.1");
    expect(numberToDecimalText(0.7)).toBe("0.7");
  });
});

describe("aggregateNumber", () => {
  test("turns numeric text into a JSON number", () => {
    expect(aggregateNumber("1.0")).toBe(1);
    expect(aggregateNumber("12346.678901")).toBe(12346.678901);
  });

  test("gives 0 for SQL NULL unless told otherwise", () => {
    expect(aggregateNumber(null)).toBe(0);
    expect(aggregateNumber(null, null)).toBeNull();
  });
});

describe("subtractDecimals", () => {
  test.each([
    ["1003.79", "0.1", "1003.69"],
    ["0.1", "0.3", "-0.2"],
    ["0", "0", "0"],
    ["-0.5", "0.25", "-0.75"],
    ["0.25", "-0.5", "0.75"],
    ["999999999999.999999", "0.000001", "999999999999.999998"],
    ["12", "12.000", "0.000"],
  ])("%s − %s is exactly %s", (a, b, difference) => {
    expect(subtractDecimals(a, b)).toBe(difference);
  });
});
