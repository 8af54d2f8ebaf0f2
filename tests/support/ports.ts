// Loopback ports for servers under test: ones that were free a moment ago (the OS picked them for a
// listener that is closed again), so parallel test files and sessions never collide.
import { createServer } from "node:net";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The same, synchronously (for values built before any await, such as an env record). */
export function freePortSync(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  void probe.stop(true);
  return port;
}
