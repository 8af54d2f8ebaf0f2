// One demo per --data-dir: the lock file in the directory, its pid, a stale lock taken over, and
// the directory check that does not mistake the lock for someone else's files. The two-process
// case (a second demo refused while the first runs) is in demo.test.ts.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { acquireDataDirLock, DataDirLocked, LOCK_FILE, lockHolder, processAlive } from "../../src/demo/data-dir-lock";
import { dataDirState } from "../../src/demo/embedded-postgres";

const directories: string[] = [];

afterAll(async () => {
  for (const dir of directories) await rm(dir, { recursive: true, force: true });
});

async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "helios-lock-test-"));
  directories.push(dir);
  return dir;
}

/** The pid of a process that has exited: a lock naming it is stale. */
async function deadPid(): Promise<number> {
  const proc = Bun.spawn(["true"]);
  await proc.exited;
  return proc.pid;
}

describe("acquireDataDirLock", () => {
  test("writes this process's pid into the lock file, leaves nothing else, and removes it on release", async () => {
    const dir = await freshDir();
    const lock = await acquireDataDirLock(dir);
    expect(lock.path).toBe(join(dir, LOCK_FILE));
    expect(await readFile(lock.path, "utf8")).toBe(`${process.pid}\n`);
    expect(await readdir(dir)).toEqual([LOCK_FILE]);
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
  });

  test("creates a missing directory", async () => {
    const dir = join(await freshDir(), "new", "data");
    const lock = await acquireDataDirLock(dir);
    expect(await readFile(lock.path, "utf8")).toBe(`${process.pid}\n`);
    await lock.release();
  });

  test("refuses while a live process holds the lock, naming its pid and the lock file, and leaves its lock alone", async () => {
    const dir = await freshDir();
    const holder = Bun.spawn(["sleep", "30"]);
    try {
      await writeFile(join(dir, LOCK_FILE), `${holder.pid}\n`);
      const refused = await acquireDataDirLock(dir).then(
        () => null,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(DataDirLocked);
      expect((refused as Error).message).toBe(
        `--data-dir ${dir} is in use by another demo (pid ${holder.pid}, lock file ${join(dir, LOCK_FILE)}): ` +
          `stop that one first, or give another directory (no demo is pid ${holder.pid}? then remove the lock file).`,
      );
      expect(await readFile(join(dir, LOCK_FILE), "utf8")).toBe(`${holder.pid}\n`);
      expect(await readdir(dir)).toEqual([LOCK_FILE]);
    } finally {
      holder.kill("SIGKILL");
    }
  });

  test("takes over a stale lock whose process is gone, or that names no pid", async () => {
    for (const stale of [`${await deadPid()}\n`, "", "not a pid"]) {
      const dir = await freshDir();
      await writeFile(join(dir, LOCK_FILE), stale);
      const lock = await acquireDataDirLock(dir);
      expect(await readFile(lock.path, "utf8")).toBe(`${process.pid}\n`);
      await lock.release();
    }
  });

  test("release leaves a lock another process has taken since alone", async () => {
    const dir = await freshDir();
    const lock = await acquireDataDirLock(dir);
    await writeFile(lock.path, "4242\n");
    await lock.release();
    expect(await readFile(lock.path, "utf8")).toBe("4242\n");
  });
});

describe("lockHolder and processAlive", () => {
  test("read a pid, and tell a live process from a gone one", async () => {
    expect(lockHolder(" 123\n")).toBe(123);
    expect(lockHolder("")).toBeNull();
    expect(lockHolder("-1")).toBeNull();
    expect(lockHolder("12abc")).toBeNull();
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(await deadPid())).toBe(false);
  });
});

describe("dataDirState", () => {
  test("counts a directory holding only the demo's lock as empty", async () => {
    const dir = await freshDir();
    await writeFile(join(dir, LOCK_FILE), `${process.pid}\n`);
    expect(await dataDirState(dir)).toBe("empty");
    await writeFile(join(dir, "notes.txt"), "mine");
    expect(await dataDirState(dir)).toBe("other");
  });
});
