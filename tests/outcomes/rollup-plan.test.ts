import { describe, expect, test } from "bun:test";
import { planAggregate } from "../../src/outcomes/outcomes.rollup-plan";

describe("planAggregate", () => {
  test("answers unfiltered and flag filters from the hourly rollup alone", () => {
    expect(planAggregate({ winStatus: true, currency: "USD" })).toEqual({
      rollup: { table: "hourly", filters: { winStatus: true, currency: "USD", from: undefined, to: undefined } },
      base: [],
    });
  });

  test("uses the daily per-site rollup when site_domain filters", () => {
    expect(planAggregate({ siteDomain: "a.example" }).rollup?.table).toBe("daily_site");
  });

  test("sends user_id and price filters to the base table entirely", () => {
    expect(planAggregate({ userId: "u" })).toEqual({ base: [{ userId: "u" }] });
    expect(planAggregate({ minPrice: "0.5" })).toEqual({ base: [{ minPrice: "0.5" }] });
  });

  test("splits unaligned bounds into whole buckets plus base-table edges", () => {
    const plan = planAggregate({ from: "2025-10-02T03:17:12.345678+00:00", to: "2025-10-04T22:59:59.999999+00:00" });
    expect(plan.rollup?.filters).toEqual({ from: "2025-10-02T04:00:00.000Z", to: "2025-10-04T22:00:00.000Z" });
    expect(plan.base).toEqual([
      { from: "2025-10-02T03:17:12.345678+00:00", to: "2025-10-02T04:00:00.000Z" },
      { from: "2025-10-04T22:00:00.000Z", to: "2025-10-04T22:59:59.999999+00:00" },
    ]);
  });

  test("treats a bound with only microseconds past the hour as unaligned", () => {
    const plan = planAggregate({ from: "2025-10-02T03:00:00.000001+00:00" });
    expect(plan.rollup?.filters.from).toBe("2025-10-02T04:00:00.000Z");
    expect(plan.base).toHaveLength(1);
  });

  test("keeps aligned bounds whole, including ones given with an offset", () => {
    const plan = planAggregate({ from: "2025-10-02T05:00:00+02:00", to: "2025-10-03T00:00:00+00:00" });
    expect(plan).toEqual({ rollup: { table: "hourly", filters: { from: "2025-10-02T03:00:00.000Z", to: "2025-10-03T00:00:00.000Z" } }, base: [] });
  });

  test("reads a range shorter than one bucket from the base table", () => {
    const filters = { from: "2025-10-02T03:10:00+00:00", to: "2025-10-02T03:50:00+00:00" };
    expect(planAggregate(filters)).toEqual({ base: [filters] });
  });

  test("aligns per-site plans on UTC days", () => {
    const plan = planAggregate({ siteDomain: "s", from: "2025-10-02T12:00:00+00:00", to: "2025-10-05T00:00:00+00:00" });
    expect(plan.rollup?.filters).toEqual({ siteDomain: "s", from: "2025-10-03T00:00:00.000Z", to: "2025-10-05T00:00:00.000Z" });
    expect(plan.base).toEqual([{ siteDomain: "s", from: "2025-10-02T12:00:00+00:00", to: "2025-10-03T00:00:00.000Z" }]);
  });
});
