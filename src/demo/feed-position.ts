// Where a restarted demo feed resumes. Message ids depend only on (seed, index): starting again
// at index 0 would send everything as duplicates. The feed's progress is in the database already:
// each invalid message is a dead letter at (demo, 0, index), and each new outcome's bid_id is the
// one the generator makes for its index. So: after the last demo dead letter, then past the last
// of the following indexes whose outcome is stored.
import type { Sql } from "../db/client";
import type { OutcomeGenerator } from "../simulate/generator";
import { DEMO_PARTITION, DEMO_TOPIC } from "./demo-feed";

/**
 * How far past the last dead letter to look. With 1 % invalid messages, 2,000 in a row without
 * one has a chance of e^-20; were it to happen, the feed would only replay some duplicates.
 */
export const RESUME_WINDOW = 2_000;

async function afterLastDeadLetter(sql: Sql): Promise<number> {
  const [row] = await sql<{ last: string | null }[]>`
    select max("offset")::text as last from dead_letters where topic = ${DEMO_TOPIC} and "partition" = ${DEMO_PARTITION}`;
  return row?.last == null ? 0 : Number(row.last) + 1;
}

/** First outcomes (not redeliveries) from `from` on, as bid_id → index. */
export function originalOutcomeIndexes(generator: OutcomeGenerator, from: number, count: number): Map<string, number> {
  const byId = new Map<string, number>();
  for (const message of generator.messages(from, count)) {
    if (message.kind === "outcome" && message.duplicateOf === null) byId.set(message.outcome.bid_request_id, message.index);
  }
  return byId;
}

export async function resumeIndex(sql: Sql, generator: OutcomeGenerator): Promise<number> {
  const from = await afterLastDeadLetter(sql);
  const byId = originalOutcomeIndexes(generator, from, RESUME_WINDOW);
  const stored = await sql<{ bid_id: string }[]>`
    select bid_id from auction_outcomes where bid_id = any(${[...byId.keys()]}::text[])`;
  return stored.reduce((next, row) => Math.max(next, byId.get(row.bid_id)! + 1), from);
}
