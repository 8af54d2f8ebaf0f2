// The only calls that differ between Bun and Deno live here: starting an HTTP server and bundling
// a browser script. Everything else in src/ is web-standard or Node-compatible (fetch, Request,
// node:fs, node:crypto, process), which both runtimes provide. The runtimes are reached through globalThis with the few members
// used typed below, so this file type-checks under tsc (bun-types) and `deno check` alike.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

type FetchHandler = (request: Request) => Response | Promise<Response>;

interface BunServer {
  port: number;
  stop(closeActiveConnections?: boolean): Promise<void> | void;
}
interface BuildOutput {
  text(): string | Promise<string>;
}
interface BunGlobal {
  serve(options: { port: number; hostname?: string; fetch: FetchHandler; maxRequestBodySize?: number }): BunServer;
  build(options: {
    entrypoints: string[];
    files: Record<string, string>;
    target: "browser";
    format: "esm";
    minify: boolean;
  }): Promise<{ success: boolean; outputs: BuildOutput[]; logs: unknown[] }>;
}
interface DenoHttpServer {
  addr: { port: number };
  shutdown(): Promise<void>;
}
interface DenoGlobal {
  serve(options: { port: number; hostname?: string; onListen?: (addr: unknown) => void }, handler: FetchHandler): DenoHttpServer;
  /** Unstable (deno.json "unstable": ["bundle"]); esbuild underneath. */
  bundle?(options: {
    entrypoints: string[];
    platform: "browser";
    format: "esm";
    minify: boolean;
    write: false;
  }): Promise<{ success: boolean; outputFiles?: BuildOutput[]; errors: unknown[] }>;
}

const { Bun: bun, Deno: deno } = globalThis as { Bun?: BunGlobal; Deno?: DenoGlobal };

export type RuntimeName = "bun" | "deno";

export const runtimeName: RuntimeName = bun ? "bun" : "deno";

export interface ServeOptions {
  port: number;
  hostname?: string;
  fetch: FetchHandler;
  /** Bun refuses larger bodies with 413 before the handler runs; Deno has no such limit. */
  maxRequestBodySize?: number;
}

export interface HttpServer {
  /** The port actually bound (the one asked for, or the one picked for port 0). */
  port: number;
  /** Stops accepting connections and resolves once in-flight requests have been answered. */
  stop(): Promise<void>;
}

export function serve(options: ServeOptions): HttpServer {
  if (bun) {
    const server = bun.serve(options);
    return { port: server.port, stop: async () => void (await server.stop(false)) };
  }
  if (deno) {
    // onListen replaces Deno's own "Listening on …" line: the caller logs in JSON.
    const server = deno.serve({ port: options.port, hostname: options.hostname, onListen: () => {} }, options.fetch);
    return { port: server.addr.port, stop: () => server.shutdown() };
  }
  throw new Error("No HTTP server: run under Bun (`bun run src/main.ts`) or Deno (`deno run src/deno.ts`).");
}

export type TerminationSignal = "SIGTERM" | "SIGINT";

/** Calls `handler` on SIGTERM and SIGINT; returns the function that removes the listeners. */
/** The exit code of a process that stopped early on a signal, as shells report one: 128 + its number. */
export const SIGNAL_EXIT_CODE: Record<TerminationSignal, number> = { SIGINT: 130, SIGTERM: 143 };

export function onTerminationSignals(handler: (signal: TerminationSignal) => void): () => void {
  const onTerm = () => handler("SIGTERM");
  const onInt = () => handler("SIGINT");
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onInt);
  return () => {
    process.off("SIGTERM", onTerm);
    process.off("SIGINT", onInt);
  };
}

/** Resolves with the first SIGTERM or SIGINT; its listeners are removed then. */
export function terminationSignal(): Promise<TerminationSignal> {
  return new Promise((resolve) => {
    const stopListening = onTerminationSignals((signal) => {
      stopListening();
      resolve(signal);
    });
  });
}

/** The bundler's messages (unresolved imports, syntax errors) in `errors`, and one line of them as the message. */
export class BundleError extends AggregateError {}

const bundleError = (entry: string, messages: unknown[]) =>
  new BundleError(messages, `Bundling ${entry} failed: ${messages.map((m) => (m as { text?: string }).text ?? String(m)).join("; ")}`);

/**
 * Bundles TypeScript modules given as text (file name → source; imports between them are
 * relative, e.g. "./api.ts") into one minified ES module for browsers. Bun builds from memory;
 * Deno's bundler reads files, so the same sources are written to a temporary directory first.
 */
export async function bundleForBrowser(files: Record<string, string>, entry: string): Promise<string> {
  if (bun) {
    const root = "/bundle-root/";
    const virtual = Object.fromEntries(Object.entries(files).map(([name, text]) => [root + name, text]));
    let result: Awaited<ReturnType<BunGlobal["build"]>>;
    try {
      result = await bun.build({ entrypoints: [root + entry], files: virtual, target: "browser", format: "esm", minify: true });
    } catch (error) {
      // Bun.build throws an AggregateError of its build messages.
      throw bundleError(entry, (error as AggregateError).errors ?? [error]);
    }
    if (!result.success || !result.outputs[0]) throw bundleError(entry, result.logs);
    return result.outputs[0].text();
  }
  if (deno?.bundle) {
    const dir = await mkdtemp(join(tmpdir(), "helios-bundle-"));
    try {
      await Promise.all(Object.entries(files).map(([name, text]) => writeFile(join(dir, name), text)));
      const result = await deno.bundle({ entrypoints: [join(dir, entry)], platform: "browser", format: "esm", minify: true, write: false });
      const output = result.outputFiles?.[0];
      if (!result.success || !output) throw bundleError(entry, result.errors);
      return await output.text();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  throw new Error('No bundler: run under Bun, or under Deno with "unstable": ["bundle"] in deno.json.');
}
