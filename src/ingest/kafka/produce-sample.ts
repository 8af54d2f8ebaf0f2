// `bun run start produce-sample [--count N] [--file outcomes.ndjson] [--topic T]`: puts sample
// auction outcomes (or the lines of an NDJSON file, byte for byte) on the topic, keyed by
// bid_request_id as the upstream does, to try the consumer locally and in tests.
import { readFile } from "node:fs/promises";
import { CompressionTypes, type Message, Partitioners } from "kafkajs";
import { parseOptions } from "../../cli/options";
import type { Config } from "../../config";
import type { Logger } from "../../log";
import { createKafka } from "./client";
import { ensureTopic } from "./topic";

export interface ProduceArgs {
  count: number;
  file?: string;
  topic?: string;
}

const OPTIONS = {
  "--count": { kind: "integer", min: 1, accepts: "a number ≥ 1" },
  "--file": { kind: "text", accepts: "an NDJSON file, one message value a line" },
  "--topic": { kind: "text", accepts: "a topic name" },
} as const;

export function parseProduceArgs(args: string[]): ProduceArgs {
  const options = parseOptions(args, OPTIONS);
  return { count: options["--count"] ?? 10, file: options["--file"], topic: options["--topic"] };
}

const INTERESTS = ["technology", "sports", "travel", "finance", "gaming", "fashion"];
const SITES = ["news.example.com", "sports.example.org", "shop.example.net"];

/** Python's isoformat(): microseconds and +00:00, as the upstream's `timestamp`. */
function pythonIsoformat(date: Date, micros: number): string {
  return `${date.toISOString().slice(0, 23)}${String(micros).padStart(3, "0")}+00:00`;
}

/** One outcome shaped like the reference message; first-price: a winner pays its bid. */
export function sampleOutcome(id: string, now: Date = new Date(), random: () => number = Math.random): Record<string, unknown> {
  const bid = Math.round((0.3 + random() * 2) * 100) / 100;
  const won = random() < 0.7;
  const interests = INTERESTS.filter(() => random() < 0.4).slice(0, 3);
  return {
    bid_request_id: id,
    user_id: `user-${Math.floor(random() * 1000)}`,
    site_domain: SITES[Math.floor(random() * SITES.length)],
    bid_price: bid,
    currency: "USD",
    timestamp: pythonIsoformat(now, Math.floor(random() * 1000)),
    enriched: random() < 0.85,
    user_interests: interests,
    winning_interest: interests[0] ?? null,
    interest_score: Math.round(random() * 100) / 100,
    ad_creative: {
      creative_id: `c-${Math.floor(random() * 50)}`,
      title: "Sample creative",
      image_url: "https://cdn.example.com/creative.png",
      landing_url: "https://shop.example.net/",
      bid_tier: bid >= 1.5 ? "premium" : bid >= 0.8 ? "standard" : "basic",
      targeted: interests.length > 0 ? "true" : "false",
    },
    win_status: won,
    win_price: won ? bid : 0,
    auction_timestamp: new Date(now.getTime() + 50).toISOString(),
  };
}

/** The key of an NDJSON line: its bid_request_id (else bid_id) when it is JSON with one. */
export function keyOfLine(line: string): string | null {
  try {
    const parsed = JSON.parse(line) as Record<string, unknown>;
    const id = parsed?.bid_request_id ?? parsed?.bid_id;
    return typeof id === "string" ? id : null;
  } catch {
    return null;
  }
}

async function messagesFrom(args: ProduceArgs): Promise<Message[]> {
  if (args.file) {
    const text = await readFile(args.file, "utf8");
    return text
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => ({ key: keyOfLine(line), value: line }));
  }
  const run = Math.random().toString(36).slice(2, 8);
  return Array.from({ length: args.count }, (_, i) => {
    const outcome = sampleOutcome(`sample-${run}-${i + 1}`);
    return { key: outcome.bid_request_id as string, value: JSON.stringify(outcome) };
  });
}

export async function runProduceSample(config: Config, log: Logger, argv: string[]): Promise<number> {
  const args = parseProduceArgs(argv);
  const topic = args.topic ?? config.kafka.topic;
  const messages = await messagesFrom(args);
  const kafka = createKafka(config, log);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopic(admin, topic, config.kafka.newTopic, log);
  } finally {
    await admin.disconnect();
  }
  // The partitioner kafkajs has defaulted to since 2.0 (murmur2, as Java clients), named so that
  // kafkajs does not warn that the default changed.
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    // One send is one record batch per partition, refused above the broker's max.message.bytes
    // (1 MiB by default): 1,000 sample outcomes stay well under it.
    for (let i = 0; i < messages.length; i += 1_000) {
      await producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages: messages.slice(i, i + 1_000) });
    }
  } finally {
    await producer.disconnect();
  }
  log.info("Sample outcomes produced", { topic, count: messages.length, source: args.file ?? "generated" });
  return 0;
}
