// kill -9 of the consumer at several random points of one stream of valid and invalid messages,
// a restart after each: the table ends holding exactly the valid messages produced (same bid_ids,
// same content, nothing twice) and dead_letters exactly the invalid ones, by topic/partition/offset.
// The kill points are random but seeded: the seed is printed, HELIOS_SIGKILL_SEED replays a run.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Kafka, logLevel, type Producer } from "kafkajs";
import { seededRandom } from "../../src/simulate/generator";
import { consumerTestbed, kafkaEnv, spawnConsumer, stopLine } from "../support/consumer";
import { BROKERS, committedOffsets, createTopic, endOffsets, waitForCommittedToEnd } from "../support/kafka";
import { waitFor } from "../support/wait";

const bed = consumerTestbed("consumer_sigkill");
let producer: Producer;

beforeAll(async () => {
  producer = new Kafka({ clientId: "helios-tests-sigkill", brokers: BROKERS, logLevel: logLevel.NOTHING }).producer({ allowAutoTopicCreation: false });
  await producer.connect();
}, 30_000);

afterAll(async () => {
  await producer.disconnect().catch(() => {});
}, 30_000);

const PARTITIONS = 3;
const TOTAL = 30_000;
/** Every 97th message is unusable, each differently (so each dead letter names its own message). */
const isInvalid = (i: number) => i % 97 === 41;
const KILLS = 4;

interface Produced {
  index: number;
  partition: number;
  /** Its offset in its partition: sends are sequential and each partition keeps their order. */
  offset: number;
  key: string;
  value: string;
}

function stream(): Produced[] {
  const nextOffset = new Array<number>(PARTITIONS).fill(0);
  return Array.from({ length: TOTAL }, (_, index) => {
    const partition = index % PARTITIONS;
    const id = `sigkill-${index}`;
    const cents = (index * 37) % 500;
    const value = isInvalid(index)
      ? JSON.stringify({ bid_request_id: id, win_status: true, win_price: `not-a-price-${index}`, bid_price: 1 })
      : JSON.stringify({
          bid_request_id: id,
          user_id: `user-${index % 613}`,
          site_domain: `site-${index % 17}.example`,
          win_status: cents >= 100,
          bid_price: cents / 100,
          win_price: cents >= 100 ? cents / 100 : 0,
          timestamp: new Date(Date.UTC(2025, 9, 25) + index * 1_003).toISOString(),
          user_interests: index % 3 === 0 ? ["sports", `topic-${index % 7}`] : [],
        });
    return { index, partition, offset: nextOffset[partition]!++, key: id, value };
  });
}

/**
 * At most this many messages are produced past the rows stored. Unpaced, a consumer that stores
 * 18,000 messages/s finished the whole stream between reaching its kill point and the kill, and the
 * next consumer, with nothing left to read, never stored anything to be killed at.
 */
const MAX_AHEAD = 3_000;

let sent = 0;
/** One send at a time (within a partition, offsets follow the order of the stream), paced by the rows stored. */
async function produceInOrder(topic: string, messages: Produced[]): Promise<void> {
  for (let start = 0; start < messages.length; start += 1_500) {
    while (start - (await countRows()) > MAX_AHEAD) await Bun.sleep(20);
    const chunk = messages.slice(start, start + 1_500).map(({ key, value, partition }) => ({ key, value, partition }));
    await producer.send({ topic, acks: -1, messages: chunk });
    sent = start + chunk.length;
  }
}

async function countRows(): Promise<number> {
  const [row] = await bed.db.sql<{ count: string }[]>`select count(*) as count from auction_outcomes`;
  return Number(row!.count);
}

/** The stored rows' content, in one digest: what each column holds, as PostgreSQL compares it. */
async function contentDigest(table: "auction_outcomes" | "expected_outcomes"): Promise<{ rows: string; digest: string }> {
  const [row] = await bed.db.sql<{ rows: string; digest: string }[]>`
    select count(*)::text as rows,
           md5(string_agg(concat_ws('|', bid_id, user_id, site_domain, win_status, trim_scale(win_price), trim_scale(bid_price),
                                    "timestamp", user_interests::text, raw_data::text), E'\\n' order by bid_id)) as digest
    from ${bed.db.sql(table)}`;
  return row!;
}

test("kill -9 at random points, 4 times during one stream, then a restart: the table is exactly the valid messages, dead letters exactly the invalid ones", async () => {
  const seed = Number(process.env.HELIOS_SIGKILL_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const random = seededRandom(seed);
  console.log(`sigkill test: seed ${seed} (HELIOS_SIGKILL_SEED=${seed} replays these kill points)`);
  const topic = await createTopic("sigkill", PARTITIONS);
  const env = kafkaEnv(topic);
  const messages = stream();
  const valid = messages.filter((m) => !isInvalid(m.index));
  const invalid = messages.filter((m) => isInvalid(m.index));

  // The stream is produced while the consumers run and are killed; a failed send ends the test at once.
  let productionFailure: Error | null = null;
  const producing = produceInOrder(topic, messages).catch((error: Error) => {
    productionFailure = error;
    throw error;
  });
  producing.catch(() => {});
  // Kill points: stored-row counts spread over the stream, each followed by a random delay
  // (0–400 ms), so kills land mid-transaction, between a commit and its offset commit, mid-fetch…
  const points = Array.from({ length: KILLS }, (_, i) => Math.floor(valid.length * ((i + 0.2 + 0.6 * random()) / (KILLS + 1))));
  const kills: string[] = [];
  for (const [i, point] of points.entries()) {
    const consumer = spawnConsumer(bed.db.url, env);
    bed.processes.push(consumer);
    // Past the planned point, and after this process stored something itself: every kill hits a consumer at work.
    // Up to 2 minutes: a join can wait for the group's 60 s rebalance timeout (rebalanceTimeout in
    // src/ingest/kafka/batch-loop.ts) when a killed member was caught mid-rebalance, plus its 6 s session.
    await waitFor(
      `${point} rows stored, some by consumer ${i + 1}, before killing it`,
      async () => {
        if (productionFailure) throw new Error(`producing the stream failed after ${sent} messages: ${productionFailure}`);
        return consumer.lines.some((l) => l.message === "Auction outcomes saved") && (await countRows()) >= point;
      },
      { timeoutMs: 120_000, intervalMs: 25 },
    ).catch((error: Error) => {
      const recent = [
        ...consumer.lines
          .filter((l) => l.message !== "Auction outcomes saved")
          .slice(-20)
          .map((l) => JSON.stringify(l)),
        ...consumer.other.slice(-10),
      ];
      throw new Error(`${error.message}; ${sent} of ${messages.length} messages produced; consumer ${i + 1} said:\n${recent.join("\n")}`);
    });
    await Bun.sleep(Math.floor(random() * 400));
    consumer.proc.kill("SIGKILL");
    await consumer.exited;
    expect(consumer.proc.signalCode).toBe("SIGKILL");
    expect(stopLine(consumer.lines)).toBeUndefined();
    kills.push(`${await countRows()}`);
  }
  // The last restart reads whatever is left (the killed member's partitions come back after its 6 s
  // session); production, paced by the rows stored, finishes with it.
  const last = spawnConsumer(bed.db.url, env);
  bed.processes.push(last);
  await producing;
  // In the group first: the killed consumers may already have committed everything.
  await last.waitForLine("the last consumer in the group", (l) => l.message === "Consumer group joined", 60_000);
  await waitForCommittedToEnd(env.KAFKA_CONSUMER_GROUP, topic, 90_000);
  last.proc.kill("SIGTERM");
  const exitCode = await last.exited;
  if (exitCode !== 0) {
    console.error(
      `last consumer exited ${exitCode}:`,
      [
        ...last.lines
          .filter((l) => l.message !== "Auction outcomes saved")
          .slice(-30)
          .map((l) => JSON.stringify(l)),
        ...last.other,
      ].join("\n"),
    );
  }
  expect(exitCode).toBe(0);

  // Same set of bid_ids, and nothing twice.
  const stored = await bed.db.sql<{ bid_id: string }[]>`select bid_id from auction_outcomes order by bid_id`;
  expect(stored.length).toBe(valid.length);
  expect(stored.map((r) => r.bid_id)).toEqual(valid.map((m) => m.key).sort());

  // Same content: the produced valid messages, put in a table by PostgreSQL's own casts, digest alike.
  await bed.db.sql`
    create table expected_outcomes as
    select bid_id, m->>'user_id' as user_id, m->>'site_domain' as site_domain, (m->>'win_status')::boolean as win_status,
           (m->>'win_price')::numeric as win_price, (m->>'bid_price')::numeric as bid_price,
           (m->>'timestamp')::timestamptz as "timestamp", m->'user_interests' as user_interests, m as raw_data
    from unnest(${valid.map((m) => m.key)}::text[], ${valid.map((m) => m.value)}::text[]::jsonb[]) as t(bid_id, m)`;
  const [actual, expected] = [await contentDigest("auction_outcomes"), await contentDigest("expected_outcomes")];
  expect(actual).toEqual(expected);
  expect(actual.rows).toBe(String(valid.length));

  // Dead letters: exactly the invalid messages, each at its own position, each once.
  const letters = await bed.db.sql<{ topic: string; partition: number; offset: string; payload: Buffer }[]>`
    select topic, "partition", "offset"::text as "offset", payload from dead_letters order by "partition", dead_letters."offset"`;
  const position = (p: { partition: number; offset: number | string }) => `${p.partition}:${p.offset}`;
  expect(letters.map((l) => ({ topic: l.topic, at: position(l), payload: Buffer.from(l.payload).toString() }))).toEqual(
    [...invalid].sort((a, b) => a.partition - b.partition || a.offset - b.offset).map((m) => ({ topic, at: position(m), payload: m.value })),
  );
  expect(await committedOffsets(env.KAFKA_CONSUMER_GROUP, topic)).toEqual(await endOffsets(topic));

  console.log(
    `sigkill test: ${valid.length} valid + ${invalid.length} invalid over ${PARTITIONS} partitions; ` +
      `killed at ${points.join(", ")} rows (stored when dead: ${kills.join(", ")}); ` +
      `final run: ${JSON.stringify(stopLine(last.lines) && { total: stopLine(last.lines)!.total_messages, duplicates: stopLine(last.lines)!.duplicate_count })}`,
  );
}, 600_000);
