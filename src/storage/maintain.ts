// One maintenance pass over the storage: partitions made ahead, rows another tool left in the
// default partition moved into partitions of their own, expired partitions dropped whole, and
// rollup rows past their own retention deleted. Run by `bun run start maintain` (a Kubernetes
// CronJob) and periodically by the consumer; passes that overlap are harmless: a session
// advisory lock lets one run, the other reports it was skipped.
import type { PartitionInterval, StorageConfig } from "../config";
import type { Sql } from "../db/client";
import type { Logger } from "../log";
import { checkPartitionInterval, nextPeriodStart, PARTITION_LOCK_TIMEOUT_MS, periodStart, storedPartitionInterval } from "./partitions";

/** Any constant works; the same for every process of this service (migrate uses 727_274_001). */
const MAINTENANCE_LOCK_KEY = 727_274_003;
/** DDL waits this long for its lock, then the pass tries again later: never a queue behind a long query. */
const ATTEMPTS = 5;
const DAY_MS = 86_400_000;

export interface MaintenanceReport {
  /** False when another pass held the lock: this one did nothing. */
  ran: boolean;
  created: string[];
  dropped: string[];
  /** Rows moved out of the default partition into partitions made for them. */
  movedFromDefault: number;
  rollupRowsDropped: number;
  /** Statements that gave up on their lock after every attempt (left for the next pass). */
  postponed: string[];
  durationMs: number;
}

/** The instant before which individual outcomes expire, or undefined when they are kept forever. */
export function retentionCutoff(storage: Pick<StorageConfig, "retentionDays">, now = Date.now()): number | undefined {
  return storage.retentionDays === undefined ? undefined : now - storage.retentionDays * DAY_MS;
}

function rollupCutoff(storage: StorageConfig, now: number): number | undefined {
  return storage.rollupRetentionDays === undefined ? undefined : now - storage.rollupRetentionDays * DAY_MS;
}

/** The start of each period from the current one to `ahead` periods later, ISO. */
export function periodsAhead(interval: PartitionInterval, ahead: number, now = Date.now()): string[] {
  const starts: string[] = [];
  for (let at = periodStart(now, interval), i = 0; i <= ahead; i++, at = nextPeriodStart(at, interval)) starts.push(new Date(at).toISOString());
  return starts;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const LOCK_NOT_AVAILABLE = "55P03";

/**
 * Runs `statement` in a transaction of its own with lock_timeout, on the pass's own connection
 * (`conn`, reserved: it holds the session lock, and on the demo's one-connection PGlite it is the
 * only one). Retries a lock timeout; null when it never got the lock.
 */
async function withLockTimeout<T>(conn: Sql, statement: (tx: Sql) => Promise<T>, log: Logger, what: string): Promise<{ value: T } | null> {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    await conn.unsafe("begin");
    try {
      await conn`select set_config(${"lock_timeout"}, ${`${PARTITION_LOCK_TIMEOUT_MS}ms`}, true)`;
      const value = await statement(conn);
      await conn.unsafe("commit");
      return { value };
    } catch (error) {
      await conn.unsafe("rollback");
      if ((error as { code?: string }).code !== LOCK_NOT_AVAILABLE) throw error;
      log.warn("Maintenance waited too long for a lock; trying again", { what, attempt, lock_timeout_ms: PARTITION_LOCK_TIMEOUT_MS });
      await sleep(250 * attempt);
    }
  }
  return null;
}

async function ensurePartition(sql: Sql, at: string, log: Logger, report: MaintenanceReport): Promise<void> {
  const done = await withLockTimeout(
    sql,
    (tx) => tx<{ name: string; created: boolean; moved: string }[]>`select name, created, moved::text from helios_ensure_outcome_partition(${at}::timestamptz)`,
    log,
    `partition for ${at}`,
  );
  if (!done) {
    report.postponed.push(`create ${at}`);
    return;
  }
  const [row] = done.value;
  if (row!.created) report.created.push(row!.name);
  report.movedFromDefault += Number(row!.moved);
}

export async function runMaintenancePass(sql: Sql, storage: StorageConfig, log: Logger, now = Date.now()): Promise<MaintenanceReport> {
  const began = performance.now();
  const report: MaintenanceReport = { ran: false, created: [], dropped: [], movedFromDefault: 0, rollupRowsDropped: 0, postponed: [], durationMs: 0 };
  // A session lock belongs to its connection: hold one for the whole pass.
  const conn = await sql.reserve();
  try {
    const [lock] = await conn<{ got: boolean }[]>`select pg_try_advisory_lock(${MAINTENANCE_LOCK_KEY}) as got`;
    if (!lock!.got) {
      log.info("Maintenance skipped: another pass is running", {});
      return report;
    }
    report.ran = true;
    try {
      const db = conn as unknown as Sql;
      const interval = (await storedPartitionInterval(db)) ?? "day";
      for (const at of periodsAhead(interval, storage.partitionsAhead, now)) await ensurePartition(db, at, log, report);
      // Periods another tool wrote rows for while they had no partition.
      const waiting = await db<{ at: string }[]>`select at::text from helios_default_partition_periods() as at`;
      for (const { at } of waiting) await ensurePartition(db, at, log, report);

      const cutoff = retentionCutoff(storage, now);
      if (cutoff !== undefined) {
        const cutoffIso = new Date(cutoff).toISOString();
        const expired = await db<{ name: string }[]>`
          select name from outcome_partitions where upper <= ${cutoffIso}::timestamptz order by upper`;
        for (const { name } of expired) {
          const done = await withLockTimeout(db, (tx) => tx`select helios_drop_outcome_partition(${name}, ${cutoffIso}::timestamptz)`, log, `drop ${name}`);
          if (done) report.dropped.push(name);
          else report.postponed.push(`drop ${name}`);
        }
      }
      const rollupsBefore = rollupCutoff(storage, now);
      if (rollupsBefore !== undefined) {
        const [row] = await db<{ n: string }[]>`select helios_drop_rollups_before(${new Date(rollupsBefore).toISOString()}::timestamptz)::text as n`;
        report.rollupRowsDropped = Number(row!.n);
      }
    } finally {
      await conn`select pg_advisory_unlock(${MAINTENANCE_LOCK_KEY})`;
    }
  } finally {
    conn.release();
    report.durationMs = Math.round(performance.now() - began);
  }
  log.info("Maintenance pass done", {
    created: report.created,
    dropped: report.dropped,
    moved_from_default: report.movedFromDefault,
    rollup_rows_dropped: report.rollupRowsDropped,
    postponed: report.postponed,
    duration_ms: report.durationMs,
  });
  return report;
}

export interface MaintenanceSchedule {
  stop(): Promise<void>;
}

/**
 * The consumer's own passes: one at start (so the partitions ahead exist before the first batch
 * needs them) and one every MAINTENANCE_INTERVAL_MS, on a connection of their own. A failed pass
 * is logged and tried again at the next tick; ingest never waits for one.
 */
export function startMaintenanceSchedule(connect: () => Sql, storage: StorageConfig, log: Logger): MaintenanceSchedule {
  const sql = connect();
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const pass = () => {
    running = (async () => {
      try {
        await checkPartitionInterval(sql, storage.partitionInterval);
        await runMaintenancePass(sql, storage, log);
      } catch (error) {
        if (!stopped) log.error("Maintenance pass failed", { error: (error as Error).message });
      }
    })();
  };
  pass();
  const timer = setInterval(() => {
    if (!stopped) pass();
  }, storage.maintenanceIntervalMs);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      await sql.end({ timeout: 2 }).catch(() => {});
    },
  };
}
