// scripts/citus-local.sh where it cannot or must not act: without the citus extension installed it
// says what is missing instead of starting three servers that fail, and it never restarts a worker
// of a cluster another checkout made. Its own port and data dir: no cluster is started here.
import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../support/project";

const SCRIPT = join(ROOT, "scripts/citus-local.sh");
const scratch = mkdtempSync(join(tmpdir(), "helios-citus-local-"));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}): { code: number; out: string } {
  const result = Bun.spawnSync(["bash", SCRIPT, ...args], {
    env: { ...process.env, CITUS_LOCAL_PORT: "55990", CITUS_LOCAL_DIR: join(scratch, "cluster"), ...env },
  });
  return { code: result.exitCode, out: result.stdout.toString() + result.stderr.toString() };
}

/** A pg_config whose PostgreSQL has no citus: its share and lib directories are empty. */
function postgresWithoutCitus(): string {
  const bin = join(scratch, "bin");
  const share = join(scratch, "share");
  mkdirSync(bin, { recursive: true });
  mkdirSync(join(share, "extension"), { recursive: true });
  writeFileSync(
    join(bin, "pg_config"),
    `#!/usr/bin/env bash\ncase "$1" in --sharedir) echo "${share}" ;; --pkglibdir) echo "${scratch}" ;; --version) echo "PostgreSQL 15.20" ;; esac\n`,
  );
  chmodSync(join(bin, "pg_config"), 0o755);
  return `${bin}:${process.env.PATH}`;
}

test("without the citus extension installed, start and installed exit 1 naming where it was looked for", () => {
  const PATH = postgresWithoutCitus();
  const installed = run(["installed"], { PATH });
  expect(installed).toMatchObject({ code: 1, out: expect.stringContaining("the citus extension is not installed for this PostgreSQL") });
  const start = run(["start"], { PATH });
  expect(start.code).toBe(1);
  expect(start.out).toContain(`the citus extension is not installed for PostgreSQL 15.20 (no citus.control in ${join(scratch, "share")}/extension)`);
  expect(start.out).not.toContain("Citus cluster up");
});

test("a worker of a cluster another checkout made is not restarted; an unknown worker or command is a usage error", () => {
  mkdirSync(join(scratch, "cluster"), { recursive: true });
  writeFileSync(join(scratch, "cluster/helios-owner"), "/elsewhere/checkout\n");
  expect(run(["restart-worker", "1"])).toMatchObject({ code: 1, out: expect.stringContaining("belongs to /elsewhere/checkout; not restarting its worker") });
  expect(run(["restart-worker", "3"])).toMatchObject({ code: 2, out: expect.stringContaining("usage:") });
  expect(run(["reboot"])).toMatchObject({ code: 2, out: expect.stringContaining("usage:") });
});
