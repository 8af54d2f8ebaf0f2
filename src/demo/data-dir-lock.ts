// One demo per --data-dir. PGlite is one PostgreSQL backend in the process that opened it: a second
// process on the same files starts without a word, both write, and after a restart only one
// process's rows survive (issue 13). So the demo holds a lock file in the directory, with its pid,
// for as long as it runs, like PostgreSQL's own postmaster.pid.
import { link, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const LOCK_FILE = "helios-demo.lock";

export class DataDirLocked extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `--data-dir ${dataDir} is in use by another demo (pid ${pid}, lock file ${join(dataDir, LOCK_FILE)}): ` +
        `stop that one first, or give another directory (no demo is pid ${pid}? then remove the lock file).`,
    );
  }
}

export interface DataDirLock {
  path: string;
  /** Removes the lock file if it is still this process's. */
  release(): Promise<void>;
}

/** True when a process with this pid exists (EPERM: it does, as another user's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The pid a lock file names, or null when it names none (a torn or foreign file: stale). */
export function lockHolder(text: string): number | null {
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

async function readHolder(path: string): Promise<number | null | "gone"> {
  try {
    return lockHolder(await readFile(path, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    throw error;
  }
}

/**
 * Takes the lock or throws DataDirLocked naming the live process that holds it. The file is
 * written in full beside the lock, then hard-linked into place: link() fails when the lock exists,
 * atomically, so two demos starting together never both win, and a reader never sees it empty.
 * A lock whose pid is dead (a demo killed with SIGKILL, a crash) is stale and taken over; one
 * naming this very pid too (a container's demo is often pid 1 again after a restart). Two demos
 * taking over the same stale lock in the same instant could both win: a race this leaves open.
 */
export async function acquireDataDirLock(dataDir: string, pid: number = process.pid): Promise<DataDirLock> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  const draft = `${path}.${pid}`;
  await writeFile(draft, `${pid}\n`);
  try {
    // Bounded: each round either wins, meets a live holder, or removes one stale lock.
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await link(draft, path);
        return { path, release: () => releaseLock(path, pid) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const holder = await readHolder(path);
      if (holder === "gone") continue;
      if (holder !== null && holder !== pid && processAlive(holder)) throw new DataDirLocked(dataDir, holder);
      await rm(path, { force: true });
    }
    throw new Error(`Could not take the lock ${path}: it kept changing hands; try again.`);
  } finally {
    await rm(draft, { force: true });
  }
}

async function releaseLock(path: string, pid: number): Promise<void> {
  if ((await readHolder(path)) === pid) await rm(path, { force: true });
}
