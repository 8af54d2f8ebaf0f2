// Lag arithmetic: the topic's high-water marks against the group's committed offsets.
import { describe, expect, test } from "bun:test";
import { lagByPartition, lagRows, partitionLag } from "../../../src/ingest/kafka/consumer-lag";

describe("partitionLag", () => {
  test("is the high-water mark minus the committed offset, per partition in partition order, with both offsets", () => {
    expect(
      partitionLag(
        [
          { partition: 1, high: "120", low: "0" },
          { partition: 0, high: "50", low: "0" },
        ],
        [
          { partition: 0, offset: "50" },
          { partition: 1, offset: "100" },
        ],
      ),
    ).toEqual([
      { partition: 0, committedOffset: "50", highWatermark: "50", lag: 0 },
      { partition: 1, committedOffset: "100", highWatermark: "120", lag: 20 },
    ]);
  });

  test("counts from the low offset when nothing was committed (-1, reported as null) or retention deleted past the commit", () => {
    expect(
      partitionLag(
        [
          { partition: 0, high: "100", low: "40" },
          { partition: 1, high: "10", low: "5" },
          { partition: 2, high: "7", low: "0" },
        ],
        [
          { partition: 0, offset: "-1" },
          { partition: 1, offset: "2" },
        ],
      ),
    ).toEqual([
      { partition: 0, committedOffset: null, highWatermark: "100", lag: 60 },
      { partition: 1, committedOffset: "2", highWatermark: "10", lag: 5 },
      { partition: 2, committedOffset: null, highWatermark: "7", lag: 7 },
    ]);
  });

  test("keeps offsets past 2^53 exact as text", () => {
    const [entry] = partitionLag([{ partition: 0, high: "9007199254740995", low: "0" }], [{ partition: 0, offset: "9007199254740993" }]);
    expect(entry).toEqual({ partition: 0, committedOffset: "9007199254740993", highWatermark: "9007199254740995", lag: 2 });
  });
});

describe("lagByPartition and lagRows", () => {
  const lags = [
    { partition: 0, committedOffset: null, highWatermark: "4", lag: 4 },
    { partition: 1, committedOffset: "9", highWatermark: "9", lag: 0 },
  ];

  test("give the log line's lag by partition and the consumer_lag rows of one group", () => {
    expect(lagByPartition(lags)).toEqual({ "0": 4, "1": 0 });
    expect(lagRows("g", "t", lags)).toEqual([
      { groupId: "g", topic: "t", partition: 0, committedOffset: null, highWatermark: "4", lag: 4 },
      { groupId: "g", topic: "t", partition: 1, committedOffset: "9", highWatermark: "9", lag: 0 },
    ]);
  });
});
