// TypeBox schemas of the dead letters API: the query (validated from raw strings) and the records.
import { type Static, Type } from "@sinclair/typebox";
import { PageParams, pageOf } from "../http/pagination";

/** Same page / page_size rules as the outcomes list (1-based pages, 1..1000 per page). */
export const DeadLetterQuery = Type.Object({ page: PageParams.page, page_size: PageParams.page_size });
export type DeadLetterQuery = Static<typeof DeadLetterQuery>;

export const ReplayResults = ["stored", "duplicate", "failed"] as const;

export const DeadLetterReplay = Type.Object(
  {
    replayed_at: Type.String({ description: "When it was replayed, ISO-8601 UTC.", examples: ["2025-10-26T08:00:00.123456Z"] }),
    result: Type.Union(
      ReplayResults.map((r) => Type.Literal(r)),
      {
        description:
          "stored: the message now maps and was stored; duplicate: an outcome with its bid_id was stored already; failed: it still fails (reason), the dead letter stays.",
      },
    ),
    reason: Type.Union([Type.String(), Type.Null()], { description: "Why it still failed; null unless result is failed." }),
  },
  { title: "DeadLetterReplay" },
);
export type DeadLetterReplay = Static<typeof DeadLetterReplay>;

const Encoding = Type.Union([Type.Literal("utf-8"), Type.Literal("base64")]);

export const DeadLetterRecord = Type.Object(
  {
    id: Type.Integer(),
    topic: Type.String(),
    partition: Type.Integer(),
    offset: Type.Integer({ description: "Offset of the message in its partition." }),
    key: Type.Union([Type.String(), Type.Null()], { description: "The message key as text (see key_encoding); null when the message had none." }),
    key_encoding: Type.Union([Encoding, Type.Null()], { description: "utf-8 when the key is valid UTF-8, else base64 of its bytes; null without a key." }),
    payload: Type.Union([Type.String(), Type.Null()], { description: "The message value exactly as received (see payload_encoding); null for a tombstone." }),
    payload_encoding: Type.Union([Encoding, Type.Null()], {
      description: "utf-8 when the value is valid UTF-8, else base64 of its bytes; null without a value.",
    }),
    reason: Type.String({ description: "Why the message could not become an outcome (after a failed replay, the reason that replay gave)." }),
    received_at: Type.String({ description: "When it was set aside, ISO-8601 UTC.", examples: ["2025-10-25T12:00:00.123456Z"] }),
    replay_count: Type.Integer({ description: "How many times replay-dead-letters replayed it (letters are never deleted by a replay)." }),
    last_replay: Type.Union([DeadLetterReplay, Type.Null()], { description: "The latest replay and its result; null when never replayed." }),
  },
  { title: "DeadLetterRecord" },
);
export type DeadLetterRecord = Static<typeof DeadLetterRecord>;

export const DeadLetterPage = pageOf(DeadLetterRecord, "DeadLetterPage");
export type DeadLetterPage = Static<typeof DeadLetterPage>;
