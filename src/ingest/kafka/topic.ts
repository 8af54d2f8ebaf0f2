// The outcomes topic, when this service has to make it or say it is missing. produce-sample always
// creates it before its first send (left to the broker's auto-creation, that send logged an ERROR
// "This server does not host this topic-partition" while the topic appeared); the consumer creates
// it at start only with KAFKA_CREATE_TOPIC=true, and otherwise names the topic and the fix.
import type { Admin } from "kafkajs";
import type { NewTopicSettings } from "../../config";
import type { Logger } from "../../log";

/** kafkajs uses -1 for "the broker's default" (num.partitions, default.replication.factor). */
const BROKER_DEFAULT = -1;

/**
 * Creates the topic unless it exists, and waits until its partitions have leaders; true when this
 * call created it. Listed first, so that a client without the CREATE permission goes on with a
 * topic that is there. Two callers at once are fine: kafkajs 2.2.4 answers false to the second
 * (TOPIC_ALREADY_EXISTS), whatever the topic's shape.
 */
export async function ensureTopic(admin: Admin, topic: string, settings: NewTopicSettings, log: Logger): Promise<boolean> {
  if ((await admin.listTopics()).includes(topic)) return false;
  try {
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: settings.partitions ?? BROKER_DEFAULT, replicationFactor: settings.replicationFactor ?? BROKER_DEFAULT }],
      waitForLeaders: true,
    });
    if (created) log.info("Kafka topic created", { topic, ...describeNewTopic(settings) });
    return created;
  } catch (error) {
    // kafkajs's own message is only "Topic creation errors"; the broker's reasons are inside.
    throw new Error(`could not create topic "${topic}" (${JSON.stringify(describeNewTopic(settings))}): ${reasonsOf(error)}`, { cause: error });
  }
}

function reasonsOf(error: unknown): string {
  const inner = (error as { errors?: unknown })?.errors;
  const errors = Array.isArray(inner) && inner.length > 0 ? inner : [error];
  return errors.map((e) => (e as Error)?.message ?? String(e)).join("; ");
}

/**
 * kafkajs logs each error response at ERROR before it throws the error to the caller. For
 * CreateTopics the caller is ensureTopic: a topic that exists is the answer it expects (two
 * consumers starting at once), and any other failure it names itself. That line is not an error.
 */
export function isCreateTopicsResponseLine(namespace: string, message: string): boolean {
  return namespace === "Connection" && message.startsWith("Response CreateTopics");
}

/** The topic's shape as a log line shows it: a number, or what the broker chose. */
export function describeNewTopic(settings: NewTopicSettings): Record<string, number | string> {
  return {
    partitions: settings.partitions ?? "broker default (num.partitions)",
    replication_factor: settings.replicationFactor ?? "broker default (default.replication.factor)",
  };
}

/**
 * kafkajs's UNKNOWN_TOPIC_OR_PARTITION ("This server does not host this topic-partition"), also
 * when it comes wrapped (a retrier's KafkaJSNumberOfRetriesExceeded keeps it as originalError).
 */
export function isUnknownTopicError(error: unknown): boolean {
  for (let cause = error, depth = 0; cause && typeof cause === "object" && depth < 5; depth += 1) {
    const { type, originalError, cause: next } = cause as { type?: unknown; originalError?: unknown; cause?: unknown };
    if (type === "UNKNOWN_TOPIC_OR_PARTITION") return true;
    cause = originalError ?? next;
  }
  return false;
}

/** Why the consumer cannot start on a missing topic, and the two ways out. */
export class MissingTopicError extends Error {
  constructor(
    readonly topic: string,
    readonly brokers: readonly string[],
  ) {
    super(
      `topic "${topic}" does not exist on ${brokers.join(",")}. Create it (kafka-topics.sh --bootstrap-server ${brokers[0]} ` +
        `--create --topic ${topic} --partitions 3), or set KAFKA_CREATE_TOPIC=true to have the consumer create it at start ` +
        "(KAFKA_CREATE_TOPIC_PARTITIONS, KAFKA_CREATE_TOPIC_REPLICATION_FACTOR)",
    );
    this.name = "MissingTopicError";
  }
}
