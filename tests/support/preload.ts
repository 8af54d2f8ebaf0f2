// Loaded before every test file (bunfig.toml): quiet logs unless a test asks for them, and no
// kafkajs warnings from the tests' own clients (the roles silence theirs themselves).
import { dropTimeoutNegativeWarning } from "../../src/ingest/kafka/timeout-warning";

process.env.LOG_LEVEL ??= "ERROR";
process.env.KAFKAJS_NO_PARTITIONER_WARNING = "1";
dropTimeoutNegativeWarning();
