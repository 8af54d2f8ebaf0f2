// The kafkajs client of every role that talks to Kafka, its log lines bridged into ours, and
// without the one upstream warning it makes the runtime print (timeout-warning.ts).
import { Kafka, logLevel as KafkaLogLevel, type LogEntry } from "kafkajs";
import type { Config } from "../../config";
import type { Logger } from "../../log";
import { dropTimeoutNegativeWarning } from "./timeout-warning";
import { isCreateTopicsResponseLine } from "./topic";

function kafkaLogCreator(log: Logger) {
  // kafkajs INFO lines (joins, commits…) are chatty and mostly restate ours: DEBUG here.
  return () =>
    ({ namespace, level, log: entry }: LogEntry) => {
      const { message, timestamp: _ts, logger: _logger, ...fields } = entry as LogEntry["log"] & { logger?: string };
      const line = `kafkajs: ${message}`;
      const data = { namespace, ...fields };
      if (isCreateTopicsResponseLine(namespace, message)) log.debug(line, data);
      else if (level === KafkaLogLevel.ERROR) log.error(line, data);
      else if (level === KafkaLogLevel.WARN) log.warn(line, data);
      else log.debug(line, data);
    };
}

export function createKafka(config: Config, log: Logger): Kafka {
  dropTimeoutNegativeWarning();
  return new Kafka({
    clientId: config.kafka.clientId,
    brokers: config.kafka.brokers,
    logLevel: log.enabled("DEBUG") ? KafkaLogLevel.INFO : KafkaLogLevel.WARN,
    logCreator: kafkaLogCreator(log),
  });
}
