// The service under Bun: `bun run start <role> [flags]` (see src/roles/index.ts).
import { runRole } from "./roles";

if (import.meta.main) {
  process.exit(await runRole(process.argv.slice(2)));
}
