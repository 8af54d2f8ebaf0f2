// CPU seconds and peak RSS of a process under test (and any children it starts), read from
// /proc while it runs: Linux's own accounting, not the process's opinion of itself.
import { readdirSync, readFileSync } from "node:fs";

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux ABI Bun runs on

export interface ProcessSample {
  /** utime + stime of the process tree, seconds. */
  cpuSeconds: number;
  /** Largest VmHWM (peak resident set) of any process in the tree, MiB. */
  peakRssMiB: number;
  /** Current VmRSS summed over the tree, MiB. */
  rssMiB: number;
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // The process ended between two reads.
  }
  return out;
}

function treeOf(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...childrenOf(all[i]!));
  return all;
}

function cpuTicks(pid: number): number {
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
}

function statusKiB(pid: number, key: "VmHWM" | "VmRSS"): number {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) : 0;
}

/** One reading of the tree, or null when the process is gone. */
export function sampleProcess(pid: number): ProcessSample | null {
  let ticks = 0;
  let peak = 0;
  let rss = 0;
  try {
    for (const p of treeOf(pid)) {
      ticks += cpuTicks(p);
      peak = Math.max(peak, statusKiB(p, "VmHWM"));
      rss += statusKiB(p, "VmRSS");
    }
  } catch {
    return null;
  }
  return { cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND, peakRssMiB: peak / 1024, rssMiB: rss / 1024 };
}

/** Samples every `intervalMs` and keeps the last reading and the highest peak seen. */
export function watchProcess(pid: number, intervalMs = 100) {
  let last: ProcessSample = { cpuSeconds: 0, peakRssMiB: 0, rssMiB: 0 };
  let peakRssMiB = 0;
  const take = () => {
    const sample = sampleProcess(pid);
    if (sample) {
      last = sample;
      peakRssMiB = Math.max(peakRssMiB, sample.peakRssMiB);
    }
    return last;
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    /** Reads now (when the process still lives) and returns the latest figures. */
    now(): ProcessSample {
      take();
      return { ...last, peakRssMiB };
    },
    stop(): ProcessSample {
      clearInterval(timer);
      take();
      return { ...last, peakRssMiB };
    },
  };
}
