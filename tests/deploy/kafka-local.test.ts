// scripts/kafka-local.sh run from two checkouts on one state dir, as two clones of one user share
// /tmp/helios-kafka-$UID: each acts only on the broker it started (the state records the checkout),
// `stop --force` on whatever is there, and no lock file stays behind. Its own ports and state dir:
// the broker every other test shares is never touched.
import { afterAll, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../support/ports";
import { ROOT } from "../support/project";

const SCRIPT = join(ROOT, "scripts/kafka-local.sh");

/** Another checkout of the project: the script and the pom it reads the Kafka version from (the jar cache is shared). */
function otherCheckout(): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "helios-other-checkout-")));
  mkdirSync(join(dir, "scripts/kafka"), { recursive: true });
  copyFileSync(SCRIPT, join(dir, "scripts/kafka-local.sh"));
  copyFileSync(join(ROOT, "scripts/kafka/pom.xml"), join(dir, "scripts/kafka/pom.xml"));
  return dir;
}

async function run(script: string, args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn(["bash", script, ...args], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out: out + err };
}

async function answers(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    socket.end();
    return true;
  } catch {
    return false;
  }
}

const other = otherCheckout();
const OTHER_SCRIPT = join(other, "scripts/kafka-local.sh");
const env: Record<string, string> = {};

afterAll(async () => {
  if (env.KAFKA_LOCAL_STATE) await run(SCRIPT, ["stop", "--force"], env);
  rmSync(other, { recursive: true, force: true });
}, 60_000);

test("a broker another checkout started is called theirs by status, left alone by stop and start, and cleared by stop --force", async () => {
  const [port, controllerPort] = [await freePort(), await freePort()];
  Object.assign(env, {
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    KAFKA_LOCAL_STATE: join(tmpdir(), `helios-kafka-owner-${process.pid}-${port}`),
    KAFKA_START_TIMEOUT: process.env.KAFKA_START_TIMEOUT ?? "150",
  });
  const state = env.KAFKA_LOCAL_STATE!;
  const noLockLeft = () => expect(existsSync(`${state}.lock`)).toBe(false);

  const started = await run(OTHER_SCRIPT, ["start"], env);
  expect(started.out).toMatch(/Kafka .* up on/);
  noLockLeft();
  expect((await run(OTHER_SCRIPT, ["status"], env)).out).toContain(`127.0.0.1:${port}, state ${state}, started from this checkout`);

  const status = await run(SCRIPT, ["status"], env);
  expect(status.out).toContain(`not this checkout's: ${state} belongs to a broker started from ${other}, not from this checkout`);
  expect(status.out).not.toContain("running: pid");

  const stop = await run(SCRIPT, ["stop"], env);
  expect(stop.code).toBe(1);
  expect(stop.out).toContain("not stopping it, nor deleting its data");
  expect(stop.out).toContain("stop --force");
  expect(await answers(port)).toBe(true);
  expect(existsSync(join(state, "data/meta.properties"))).toBe(true);
  noLockLeft();

  // Nor does a start on other ports take the state dir over (it would stop the broker and format its log dir).
  const elsewhere = { ...env, KAFKA_PORT: String(await freePort()), KAFKA_CONTROLLER_PORT: String(await freePort()) };
  const start = await run(SCRIPT, ["start"], elsewhere);
  expect(start.code).toBe(1);
  expect(start.out).toContain(`${state} belongs to a broker started from ${other}`);
  expect(await answers(port)).toBe(true);
  noLockLeft();

  // Its own checkout stops it (keeping the data, as a restart does); the data stays out of this one's reach.
  const ownStop = await run(OTHER_SCRIPT, ["stop"], { ...env, KAFKA_KEEP_DATA: "1" });
  expect(ownStop.code).toBe(0);
  expect(ownStop.out).toContain("stopped broker");
  expect(await answers(port)).toBe(false);
  expect((await run(SCRIPT, ["stop"], env)).code).toBe(1);
  expect(existsSync(join(state, "data/meta.properties"))).toBe(true);
  noLockLeft();

  const forced = await run(SCRIPT, ["stop", "--force"], env);
  expect(forced.code).toBe(0);
  expect(forced.out).toContain(`no broker running from ${state}`);
  expect(existsSync(state)).toBe(false);
  noLockLeft();
}, 240_000);

test("refuses an unknown argument with exit 2 and the usage", async () => {
  const result = await run(SCRIPT, ["stop", "--everything"], { KAFKA_LOCAL_STATE: join(tmpdir(), `helios-kafka-usage-${process.pid}`) });
  expect(result.code).toBe(2);
  expect(result.out).toContain("usage:");
  expect(result.out).toContain("start|stop [--force]|restart|status|ensure-jars");
});

test("a state dir whose broker died without keeping its data (a crash, a session that ended) is cleared by the next start, from any checkout", async () => {
  const [port, controllerPort] = [await freePort(), await freePort()];
  const state = join(tmpdir(), `helios-kafka-leftover-${process.pid}-${port}`);
  const leftoverEnv = {
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    KAFKA_LOCAL_STATE: state,
    KAFKA_START_TIMEOUT: process.env.KAFKA_START_TIMEOUT ?? "150",
  };
  // What a broker started by an older script leaves when its machine stops: a formatted log dir, a pid
  // file naming a process that is gone, and no owner recorded.
  mkdirSync(join(state, "data"), { recursive: true });
  writeFileSync(join(state, "data/meta.properties"), "version=1\n");
  writeFileSync(join(state, "kafka.pid"), "2147483646\n");
  try {
    const status = await run(SCRIPT, ["status"], leftoverEnv);
    expect(status.code).toBe(1);
    expect(status.out).toContain(`not running; ${state} is left over from a broker that no longer runs`);

    const started = await run(SCRIPT, ["start"], leftoverEnv);
    expect(started.out).toContain(`clearing ${state}: its broker (started from a checkout not recorded) no longer runs`);
    expect(started.out).toMatch(/Kafka .* up on 127\.0\.0\.1:\d+/);
    expect(started.code).toBe(0);
    expect(await answers(port)).toBe(true);
    expect((await run(SCRIPT, ["status"], leftoverEnv)).out).toContain("started from this checkout");
  } finally {
    await run(SCRIPT, ["stop", "--force"], leftoverEnv);
  }
  expect(existsSync(state)).toBe(false);
}, 240_000);

test("a broker stopped with its data kept stays another checkout's until it is started again", async () => {
  const state = join(tmpdir(), `helios-kafka-kept-${process.pid}`);
  mkdirSync(join(state, "data"), { recursive: true });
  writeFileSync(join(state, "data/meta.properties"), "version=1\n");
  writeFileSync(join(state, "owner"), `${other}\n`);
  writeFileSync(join(state, "kept"), "");
  try {
    const stop = await run(SCRIPT, ["stop"], { KAFKA_LOCAL_STATE: state, KAFKA_PORT: String(await freePort()) });
    expect(stop.code).toBe(1);
    expect(stop.out).toContain(`${state} belongs to a broker started from ${other}`);
    expect(existsSync(join(state, "data/meta.properties"))).toBe(true);
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
});
