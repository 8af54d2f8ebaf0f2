// What the demo prints once it answers: where to look and what to try.

export function banner(port: number, where: string, source: string): string {
  const base = `http://localhost:${port}`;
  return [
    "",
    `Helios Analytics demo: ${source} into ${where}.`,
    `  Console  ${base}/console/`,
    `  Swagger  ${base}/swagger`,
    "  Try:",
    `    curl -s ${base}/api/outcomes/stats/`,
    `    curl -s '${base}/api/outcomes/?page_size=5'`,
    `    curl -s ${base}/api/dead_letters/`,
    `    curl -s ${base}/api/ingest/status/`,
    `    curl -s ${base}/metrics | grep ^http_requests_total`,
    "  Ctrl-C stops it.",
    "",
  ].join("\n");
}
