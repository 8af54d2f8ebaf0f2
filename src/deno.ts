// The service under Deno: `deno run -A src/deno.ts api | consumer [flags] | migrate`, with the
// project's deno.json (node_modules from `bun install`, extensionless imports as Bun allows).
// The same role table as under Bun; the HTTP server comes from src/runtime.ts (Deno.serve here).
import { runRole } from "./roles/index.ts";

if (import.meta.main) {
  process.exit(await runRole(process.argv.slice(2)));
}
