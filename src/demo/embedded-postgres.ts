// An embedded PostgreSQL for the demo: PGlite (PostgreSQL compiled to WebAssembly, in this
// process) served over the wire protocol by pglite-socket on a free loopback port, so the
// unchanged postgres.js client, migrations and queries run against it.
//
// PGlite is one backend. pglite-socket multiplexes connections onto it message by message: a
// transaction stays with its connection, but two clients' extended-protocol messages (Parse,
// Bind, Execute) can interleave, so the demo talks to it through ONE client connection (a
// postgres.js pool with max: 1) and postgres.js queues the rest.
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import type { Logger } from "../log";
import { LOCK_FILE } from "./data-dir-lock";

export interface EmbeddedPostgres {
  /** postgres://… of the socket server, for createSql. */
  url: string;
  /** The data directory, or null when the database lives in memory. */
  dataDir: string | null;
  /** PostgreSQL's version string, for the start-up line. */
  version: string;
  /** Stops the socket server, then shuts PGlite down cleanly (a data directory stays consistent). */
  close(): Promise<void>;
}

/**
 * Connections the socket server accepts. The demo opens one; the spare ones only let a pool
 * reconnect while its old socket is still closing (the server counts it until its close event).
 */
const MAX_SOCKET_CONNECTIONS = 3;

const PGLITE_ENTRY = fileURLToPath(import.meta.resolve("@electric-sql/pglite"));
const PGLITE_PACKAGE_DIR = join(dirname(PGLITE_ENTRY), "..");

async function pgliteVersion(): Promise<string> {
  const manifest = JSON.parse(await readFile(join(PGLITE_PACKAGE_DIR, "package.json"), "utf8")) as { version: string };
  return manifest.version;
}

/**
 * initdb is most of a cold start (6–8 s on two busy cores, against ~1.5 s to unpack its result),
 * so the first start keeps the freshly initialised data directory as a tarball under
 * node_modules/.cache/, per PGlite version, and later fresh starts load it instead.
 */
async function templatePath(): Promise<string> {
  return join(PGLITE_PACKAGE_DIR, "..", "..", ".cache", "helios-demo", `pglite-${await pgliteVersion()}-initdb.tar.gz`);
}

async function readTemplate(path: string): Promise<Blob | undefined> {
  try {
    return new Blob([await readFile(path)]);
  } catch {
    return undefined;
  }
}

/** Written beside and renamed into place, so a start interrupted mid-write leaves no half file. */
async function saveTemplate(db: PGlite, path: string, log: Logger): Promise<void> {
  try {
    const tarball = new Uint8Array(await (await db.dumpDataDir("gzip")).arrayBuffer());
    await mkdir(dirname(path), { recursive: true });
    const partial = `${path}.${process.pid}.partial`;
    await writeFile(partial, tarball);
    await rename(partial, path);
    log.debug("PGlite template saved", { path, bytes: tarball.byteLength });
  } catch (error) {
    // Only a slower next start: the cache is an optimisation, never a requirement.
    log.debug("PGlite template not saved", { path, error: (error as Error).message });
  }
}

export type DataDirState = "database" | "empty" | "other";

/** The directory's entries but the demo's lock (see data-dir-lock.ts); none when it does not exist. */
async function entriesBesideLock(dataDir: string): Promise<string[]> {
  const entries = await readdir(dataDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
  return entries.filter((name) => !name.startsWith(LOCK_FILE));
}

/** A data directory PGlite may use: one holding a database, or an empty or missing one. */
export async function dataDirState(dataDir: string): Promise<DataDirState> {
  const holdsDatabase = await stat(join(dataDir, "PG_VERSION")).then(
    () => true,
    () => false,
  );
  if (holdsDatabase) return "database";
  return (await entriesBesideLock(dataDir)).length === 0 ? "empty" : "other";
}

/** Expects `dataDir` to be vetted by dataDirState: never a directory holding anything else. */
async function openPglite(dataDir: string | null, log: Logger): Promise<PGlite> {
  if (dataDir !== null && (await dataDirState(dataDir)) === "database") return PGlite.create({ dataDir });
  if (dataDir !== null) await mkdir(dataDir, { recursive: true });
  const path = await templatePath();
  const template = await readTemplate(path);
  const where = dataDir === null ? {} : { dataDir };
  if (template) {
    try {
      return await PGlite.create({ ...where, loadDataDir: template });
    } catch (error) {
      log.warn("PGlite template unusable, initialising from scratch", { path, error: (error as Error).message });
      await rm(path, { force: true });
      // Empty before this start (see dataDirState): whatever is in it now but the lock, the failed load wrote.
      if (dataDir !== null) {
        for (const name of await entriesBesideLock(dataDir)) await rm(join(dataDir, name), { recursive: true, force: true });
      }
    }
  }
  const db = await PGlite.create(where);
  await saveTemplate(db, path, log);
  return db;
}

export async function startEmbeddedPostgres(options: { dataDir?: string; log: Logger }): Promise<EmbeddedPostgres> {
  const dataDir = options.dataDir ?? null;
  const db = await openPglite(dataDir, options.log);
  const { rows } = await db.query<{ version: string }>("select current_setting('server_version') as version");
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: MAX_SOCKET_CONNECTIONS });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  let closed: Promise<void> | undefined;
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    dataDir,
    version: rows[0]?.version ?? "unknown",
    close() {
      closed ??= (async () => {
        await server.stop();
        await db.close();
      })();
      return closed;
    },
  };
}
