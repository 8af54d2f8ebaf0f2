// scripts/pg-local.sh run from two checkouts on one data dir, as two clones of one user share
// /tmp/helios-pg-55432: each halts and deletes only the cluster it made (the data dir records the
// checkout), uses another's running server as it is, and `--force` acts on whatever is there. Its own
// port and data dir: the shared PostgreSQL is never touched.
import { afterAll, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../support/ports";
import { ROOT } from "../support/project";

const SCRIPT = join(ROOT, "scripts/pg-local.sh");

function otherCheckout(): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "helios-other-checkout-")));
  mkdirSync(join(dir, "scripts/lib"), { recursive: true });
  copyFileSync(SCRIPT, join(dir, "scripts/pg-local.sh"));
  copyFileSync(join(ROOT, "scripts/lib/postgres-bin.sh"), join(dir, "scripts/lib/postgres-bin.sh"));
  return dir;
}

function run(script: string, args: string[], env: Record<string, string>): { code: number; out: string } {
  const result = Bun.spawnSync(["bash", script, ...args], { env: { ...process.env, ...env } });
  return { code: result.exitCode, out: result.stdout.toString() + result.stderr.toString() };
}

const other = otherCheckout();
const OTHER_SCRIPT = join(other, "scripts/pg-local.sh");
const env: Record<string, string> = {};

afterAll(() => {
  if (env.PG_LOCAL_DIR) run(SCRIPT, ["stop", "--force"], env);
  rmSync(other, { recursive: true, force: true });
}, 60_000);

test("a cluster another checkout made is used but not halted or deleted; --force stops it", async () => {
  const port = await freePort();
  Object.assign(env, { PG_LOCAL_PORT: String(port), PG_LOCAL_DIR: join(tmpdir(), `helios-pg-owner-${process.pid}-${port}`) });
  const dir = env.PG_LOCAL_DIR!;
  const running = () => run(SCRIPT, ["status"], env).code === 0;

  expect(run(OTHER_SCRIPT, ["start"], env)).toMatchObject({ code: 0, out: expect.stringContaining(`pg-local: PostgreSQL on 127.0.0.1:${port}`) });

  // start finds it running: nothing to do, and not reported as started here (test.sh would stop it).
  const start = run(SCRIPT, ["start"], env);
  expect(start.code).toBe(0);
  expect(start.out).toContain(`${dir} belongs to a server started from ${other}, not from this checkout`);
  expect(start.out).not.toContain("pg-local: PostgreSQL on");

  for (const command of ["halt", "restart", "stop"]) {
    const refused = run(SCRIPT, [command], env);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain(`leaving it alone. Act on it from that checkout, or here with: ${SCRIPT} ${command} --force`);
    expect(running()).toBe(true);
    expect(existsSync(join(dir, "PG_VERSION"))).toBe(true);
  }

  expect(run(SCRIPT, ["stop", "--force"], env)).toMatchObject({ code: 0, out: expect.stringContaining("pg-local: stopped") });
  expect(running()).toBe(false);
  expect(existsSync(dir)).toBe(false);
}, 120_000);

test("a cluster this checkout made is started, halted, started again and stopped, as the fault tests do", async () => {
  const port = await freePort();
  const own = { PG_LOCAL_PORT: String(port), PG_LOCAL_DIR: join(tmpdir(), `helios-pg-own-${process.pid}-${port}`) };
  try {
    expect(run(SCRIPT, ["start"], own)).toMatchObject({ code: 0, out: expect.stringContaining("pg-local: PostgreSQL on") });
    expect(run(SCRIPT, ["start"], own)).toMatchObject({ code: 0, out: expect.stringContaining("pg-local: already running") });
    expect(run(SCRIPT, ["halt"], own)).toMatchObject({ code: 0, out: expect.stringContaining("pg-local: halted") });
    expect(run(SCRIPT, ["start"], own)).toMatchObject({ code: 0, out: expect.stringContaining("pg-local: PostgreSQL on") });
    expect(run(SCRIPT, ["stop"], own)).toMatchObject({ code: 0, out: expect.stringContaining("pg-local: stopped") });
    expect(existsSync(own.PG_LOCAL_DIR)).toBe(false);
  } finally {
    run(SCRIPT, ["stop", "--force"], own);
  }
}, 120_000);

test("a cluster whose server died without a halt is taken over by the next start from any checkout; a halted one is not", async () => {
  const port = await freePort();
  const left = { PG_LOCAL_PORT: String(port), PG_LOCAL_DIR: join(tmpdir(), `helios-pg-leftover-${process.pid}-${port}`) };
  const dir = left.PG_LOCAL_DIR;
  const running = () => run(SCRIPT, ["status"], left).code === 0;
  try {
    expect(run(OTHER_SCRIPT, ["start"], left).code).toBe(0);
    // Halted on purpose: still the other checkout's.
    expect(run(OTHER_SCRIPT, ["halt"], left).code).toBe(0);
    const refused = run(SCRIPT, ["start"], left);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain(`${dir} belongs to a server started from ${other}, not from this checkout`);
    expect(running()).toBe(false);

    // Started again and then killed, as the end of a session kills it: a leftover.
    expect(run(OTHER_SCRIPT, ["start"], left).code).toBe(0);
    const postmaster = Number(readFileSync(join(dir, "postmaster.pid"), "utf8").split("\n")[0]);
    process.kill(postmaster, "SIGKILL");
    for (let i = 0; i < 100 && running(); i++) await Bun.sleep(100);
    expect(running()).toBe(false);

    const taken = run(SCRIPT, ["start"], left);
    expect(taken.out).toContain(`pg-local: taking over ${dir}: its server (started from ${other}) no longer runs and was not halted`);
    expect(taken.out).toContain(`pg-local: PostgreSQL on 127.0.0.1:${port}`);
    expect(taken.code).toBe(0);
    expect(readFileSync(join(dir, "helios-owner"), "utf8").trim()).toBe(realpathSync(ROOT));
    expect(run(SCRIPT, ["stop"], left)).toMatchObject({ code: 0, out: expect.stringContaining("pg-local: stopped") });
  } finally {
    run(SCRIPT, ["stop", "--force"], left);
  }
}, 120_000);
