// Two consumer processes in one group share the partitions; every message is stored once.
import { expect, test } from "bun:test";
import { consumerTestbed, kafkaEnv, type LogLine, spawnConsumer, stopLine } from "../../support/consumer";
import { committedOffsets, createTopic, endOffsets, produce, type TestMessage } from "../../support/kafka";
import { waitFor } from "../../support/wait";

const bed = consumerTestbed("consumer_group");

const TOTAL = 20_000;

function message(i: number): TestMessage {
  const id = `group-${i}`;
  return {
    key: id,
    value: JSON.stringify({
      bid_request_id: id,
      user_id: `user-${i % 50}`,
      win_status: true,
      bid_price: 0.5,
      win_price: 0.5,
      timestamp: "2025-10-26T08:00:00.5Z",
    }),
  };
}

const lastAssignment = (lines: LogLine[]) => lines.filter((l) => l.message === "Consumer group joined").at(-1)?.partitions as number[] | undefined;

test("two consumer processes in one group over 4 partitions store each message once", async () => {
  const topic = await createTopic("group", 4);
  const env = kafkaEnv(topic);
  await produce(
    topic,
    Array.from({ length: TOTAL / 2 }, (_, i) => message(i)),
    5_000,
  );

  const a = spawnConsumer(bed.db.url, env);
  const b = spawnConsumer(bed.db.url, env);
  bed.processes.push(a, b);
  // Once both are members, the partitions are split between them.
  const split = await waitFor(
    "the 4 partitions split 2 + 2 between the two processes",
    () => {
      const [pa, pb] = [lastAssignment(a.lines), lastAssignment(b.lines)];
      return pa?.length === 2 && pb?.length === 2 ? [...pa, ...pb].sort() : undefined;
    },
    { timeoutMs: 40_000 },
  );
  expect(split).toEqual([0, 1, 2, 3]);

  // More messages while both run.
  await produce(
    topic,
    Array.from({ length: TOTAL / 2 }, (_, i) => message(TOTAL / 2 + i)),
    5_000,
  );
  const ends = await endOffsets(topic);
  await waitFor(
    "every partition committed to its end",
    async () => {
      const committed = await committedOffsets(env.KAFKA_CONSUMER_GROUP, topic);
      return Object.entries(ends).every(([p, end]) => committed[Number(p)] === end);
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );

  a.proc.kill("SIGTERM");
  b.proc.kill("SIGTERM");
  expect(await a.exited).toBe(0);
  expect(await b.exited).toBe(0);

  const [row] = await bed.db.sql<{ count: string; distinct: string }[]>`select count(*) as count, count(distinct bid_id) as distinct from auction_outcomes`;
  expect(row).toMatchObject({ count: String(TOTAL), distinct: String(TOTAL) });
  const [sa, sb] = [stopLine(a.lines)!, stopLine(b.lines)!];
  // Both took part, and together they stored each message exactly once.
  expect(sa.success_count).toBeGreaterThan(0);
  expect(sb.success_count).toBeGreaterThan(0);
  expect((sa.success_count as number) + (sb.success_count as number)).toBe(TOTAL);
}, 120_000);
