// kill -9 in the middle of a stream, then a restart: every message stored exactly once.
import { expect, test } from "bun:test";
import { consumerTestbed, kafkaEnv, spawnConsumer, stopLine } from "../support/consumer";
import { committedOffsets, createTopic, produce, type TestMessage } from "../support/kafka";
import { waitFor } from "../support/wait";

const bed = consumerTestbed("consumer_crash");

const TOTAL = 100_000;

/** Compact outcomes (~170 bytes): the test is about delivery, not about message size. */
function message(i: number): TestMessage {
  const id = `kill-${i}`;
  const won = i % 3 !== 0;
  const price = ((i % 250) + 30) / 100;
  return {
    key: id,
    value: JSON.stringify({
      bid_request_id: id,
      user_id: `user-${i % 997}`,
      win_status: won,
      bid_price: price,
      win_price: won ? price : 0,
      timestamp: new Date(Date.UTC(2025, 9, 25) + i * 1000).toISOString(),
    }),
  };
}

async function countRows(): Promise<number> {
  const [row] = await bed.db.sql<{ count: string }[]>`select count(*) as count from auction_outcomes`;
  return Number(row!.count);
}

test("kill -9 in the middle of 100k messages, then a restart, stores exactly 100k rows", async () => {
  const topic = await createTopic("kill", 4);
  const env = kafkaEnv(topic);
  const started = performance.now();
  // The stream is still being produced while the consumer runs and when it is killed.
  let produceMs = 0;
  const producing = produce(
    topic,
    Array.from({ length: TOTAL }, (_, i) => message(i)),
    5_000,
  ).then(() => {
    produceMs = performance.now() - started;
  });
  const first = spawnConsumer(bed.db.url, env);
  bed.processes.push(first);
  const atKill = await waitFor(
    "a quarter of the stream stored",
    async () => {
      const rows = await countRows();
      return rows >= TOTAL / 4 ? rows : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 50 },
  );
  first.proc.kill("SIGKILL");
  const killedAt = Date.now();
  await first.exited;
  expect(first.proc.signalCode).toBe("SIGKILL");
  expect(stopLine(first.lines)).toBeUndefined();
  // A transaction the server was running when its client died may still commit: count after.
  await Bun.sleep(500);
  const rowsAfterKill = await countRows();
  expect(rowsAfterKill).toBeLessThan(TOTAL);
  await producing;
  const committedAtKill = Object.values(await committedOffsets(env.KAFKA_CONSUMER_GROUP, topic)).reduce((sum, o) => sum + Math.max(0, Number(o)), 0);

  // The killed member still holds its partitions until its 6 s session expires; then the
  // restarted consumer replays everything uncommitted.
  const second = spawnConsumer(bed.db.url, env, ["--timeout", "3000"]);
  bed.processes.push(second);
  expect(await second.exited).toBe(0);
  const elapsedS = (performance.now() - started) / 1000;

  expect(await countRows()).toBe(TOTAL);
  const [ids] = await bed.db.sql<{ count: string; min: number; max: number }[]>`
    select count(distinct bid_id) as count, min(substring(bid_id from 6)::int) as min, max(substring(bid_id from 6)::int) as max
    from auction_outcomes where bid_id like 'kill-%'`;
  expect(ids).toMatchObject({ count: String(TOTAL), min: 0, max: TOTAL - 1 });

  const stopped = stopLine(second.lines)!;
  // The restart handled everything not committed before the kill; what the killed process had
  // stored but not committed comes back as duplicates, never as second rows.
  expect(stopped.success_count).toBe(TOTAL - rowsAfterKill);
  expect((stopped.success_count as number) + (stopped.duplicate_count as number)).toBe(stopped.total_messages as number);
  // It read each message not committed before the kill exactly once.
  if (stopped.total_messages !== TOTAL - committedAtKill) {
    console.error(
      second.lines
        .filter((l) => l.level !== "INFO" || l.message !== "Auction outcomes saved")
        .map((l) => JSON.stringify(l))
        .join("\n"),
    );
  }
  expect(stopped.total_messages).toBe(TOTAL - committedAtKill);
  expect(stopped.error_count).toBe(0);

  const firstBatch = first.lines.find((l) => l.message === "Auction outcomes saved")!;
  const firstRate = atKill / ((killedAt - Date.parse(firstBatch.timestamp as string)) / 1000);
  const secondSaved = second.lines.filter((l) => l.message === "Auction outcomes saved");
  const secondSpanS = (Date.parse(secondSaved.at(-1)!.timestamp as string) - Date.parse(secondSaved[0]!.timestamp as string)) / 1000;
  console.log(
    `kill -9 test: produced ${TOTAL} in ${(produceMs / 1000).toFixed(1)} s; killed at ${atKill} rows ` +
      `(${Math.round(firstRate)} rows/s); restart stored ${stopped.success_count} + ${stopped.duplicate_count} duplicates ` +
      `in ${secondSpanS.toFixed(1)} s (${Math.round((stopped.total_messages as number) / secondSpanS)} msg/s); ` +
      `all stored ${elapsedS.toFixed(1)} s after the first start, incl. the 6 s session expiry`,
  );
}, 120_000);
