// What the demo prints once it answers: where to look and what to try; and the one-line reminder
// it prints with each progress report, so the addresses stay on screen as the log scrolls.
import type { DatabaseConfig } from "../config";
import { databaseAddress } from "../db/client";
import { requiresToken } from "../http/security";

/** Stands in for a token in the examples: the banner never prints one of API_TOKENS. */
export const TOKEN_PLACEHOLDER = "<token>";

export interface BannerFacts {
  port: number;
  /** Where the stream goes, from `embeddedWhere` or `externalWhere`. */
  where: string;
  /** Where the stream comes from: the simulation, or the simulation through Kafka. */
  source: string;
  /** Set when API_TOKENS is: the examples show the header a client must add. */
  auth?: { protectDocsAndMetrics: boolean };
}

export const embeddedWhere = (version: string, dataDir: string | null) =>
  `embedded PostgreSQL ${version} (PGlite, ${dataDir ? `data in ${dataDir}` : "in memory"})`;

/** The configured server named by address and database: the user and password stay out. */
export function externalWhere(db: DatabaseConfig): string {
  const { server, database } = databaseAddress(db);
  return `PostgreSQL at ${server}, database ${database}`;
}

interface Example {
  path: string;
  /** A shell pipe after the command. */
  pipe?: string;
}

const EXAMPLES: readonly Example[] = [
  { path: "/api/outcomes/stats/" },
  { path: "/api/outcomes/?page_size=5" },
  { path: "/api/dead_letters/" },
  { path: "/api/ingest/status/" },
  { path: "/metrics", pipe: "grep ^http_requests_total" },
];

function curl(base: string, example: Example, auth: BannerFacts["auth"]): string {
  const pathname = new URL(example.path, base).pathname;
  const header = auth && requiresToken(pathname, auth.protectDocsAndMetrics) ? ` -H 'Authorization: Bearer ${TOKEN_PLACEHOLDER}'` : "";
  // A query string's "?" and "&" mean something to the shell.
  const url = example.path.includes("?") ? `'${base}${example.path}'` : `${base}${example.path}`;
  return `    curl -s${header} ${url}${example.pipe ? ` | ${example.pipe}` : ""}`;
}

export function banner({ port, where, source, auth }: BannerFacts): string {
  const base = `http://localhost:${port}`;
  const tokenNote = auth ? [`  API_TOKENS is set: put one of its tokens in place of ${TOKEN_PLACEHOLDER} (the console asks for one).`] : [];
  return [
    "",
    `Helios Analytics demo: ${source} into ${where}.`,
    `  Console  ${base}/console/`,
    `  Swagger  ${base}/swagger`,
    ...tokenNote,
    "  Try:",
    ...EXAMPLES.map((example) => curl(base, example, auth)),
    "  Ctrl-C stops it.",
    "",
  ].join("\n");
}

/** The banner's addresses on one line, printed after each progress report. */
export function reminder(port: number): string {
  const base = `http://localhost:${port}`;
  return `Helios Analytics demo: console ${base}/console/ · Swagger ${base}/swagger · Ctrl-C stops it.`;
}
