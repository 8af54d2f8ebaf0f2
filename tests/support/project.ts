// Where the project is, for tests and benchmarks that read its files or run its commands.
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "../..");
