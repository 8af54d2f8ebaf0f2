// TypeBox schemas of the dead letters API: the query (validated from raw strings) and the records.
import { type Static, Type } from "@sinclair/typebox";
import { PageParams, pageOf } from "../http/pagination";

/** Same page / page_size rules as the outcomes list (1-based pages, 1..1000 per page). */
export const DeadLetterQuery = Type.Object({ page: PageParams.page, page_size: PageParams.page_size });
export type DeadLetterQuery = Static<typeof DeadLetterQuery>;

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
    reason: Type.String({ description: "Why the message could not become an outcome." }),
    received_at: Type.String({ description: "When it was set aside, ISO-8601 UTC.", examples: ["2025-10-25T12:00:00.123456Z"] }),
  },
  { title: "DeadLetterRecord" },
);
export type DeadLetterRecord = Static<typeof DeadLetterRecord>;

export const DeadLetterPage = pageOf(DeadLetterRecord, "DeadLetterPage");
export type DeadLetterPage = Static<typeof DeadLetterPage>;
