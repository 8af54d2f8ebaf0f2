// TypeBox schema of GET /api/storage/: how outcomes are kept, and from when.
import { type Static, Type } from "@sinclair/typebox";

const Instant = (description: string) => Type.Union([Type.String({ examples: ["2025-10-01T00:00:00Z"] }), Type.Null()], { description });
const Days = (description: string) => Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], { description });

export const StorageState = Type.Object(
  {
    partition_interval: Type.Union([Type.Literal("hour"), Type.Literal("day"), Type.Literal("week"), Type.Literal("month")], {
      description: "Period of one partition of the outcomes table (PARTITION_INTERVAL, fixed when the table was first partitioned).",
    }),
    retention_days: Days("RETENTION_DAYS: individual outcomes are kept this many days; null: forever."),
    rollup_retention_days: Days("ROLLUP_RETENTION_DAYS: the figures of stats/, daily_stats/ and the series are kept this many days; null: forever."),
    outcomes_available_from: Instant(
      "Individual outcomes (list, detail, export, and the filters no rollup carries) exist from this instant on; null: from the beginning.",
    ),
    rollups_available_from: Instant("Rolled-up figures exist from this instant on; null: from the beginning."),
    partitions: Type.Object({
      count: Type.Integer({ description: "Partitions of auction_outcomes made by the service (the default partition not counted)." }),
      oldest_lower: Instant("Lower bound of the oldest partition; null when it reaches back to the beginning (a table converted from before partitioning)."),
      newest_upper: Instant("Upper bound of the newest partition (made ahead of time)."),
      default_rows_estimate: Type.Integer({
        description:
          "Rows in the default partition (written by another tool for a period without a partition; the next maintenance pass moves them), estimated.",
      }),
      dropped: Type.Integer({ description: "Partitions dropped by retention so far." }),
    }),
    last_maintenance_at: Instant("When maintenance last created or dropped something."),
  },
  { title: "StorageState" },
);
export type StorageState = Static<typeof StorageState>;
