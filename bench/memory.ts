// Resident memory and CPU time of process groups, read from /proc while a benchmark runs: the
// app's processes are not ours to instrument, and /proc sees them exactly as the kernel does.
// A group is one started script: the tsx launcher plus the Node process running the script.
import { readdirSync, readFileSync } from "node:fs";
import os from "node:os";

export interface GroupMemory {
  /** RSS of every process of the group, summed, in MiB. */
  rssMiB: number;
  /** The largest process of the group alone (the one running the script). */
  mainRssMiB: number;
  /** Its high-water mark (VmHWM): the peak the kernel saw, even between samples. */
  mainPeakMiB: number;
  processes: number;
  /** user + system CPU seconds of the group's live processes so far */
  cpuSeconds: number;
}

/** Kernel clock ticks per second (USER_HZ): 100 on Linux. */
const TICKS = 100;

function statusKiB(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  return m ? Number(m[1]) : 0;
}

interface ProcStat {
  pid: number;
  comm: string;
  pgrp: number;
  /** utime + stime, in seconds */
  cpuSeconds: number;
}

/** Every live process: its name, process group and CPU time (/proc/PID/stat). */
export function readProcesses(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    // The command name may hold spaces and parentheses: fields start after the last ")".
    const close = stat.lastIndexOf(")");
    const fields = stat.slice(close + 2).split(" ");
    // A zombie has exited already; it only waits for its parent to read its status.
    if (fields[0] === "Z") continue;
    out.push({
      pid: Number(entry),
      comm: stat.slice(stat.indexOf("(") + 1, close),
      pgrp: Number(fields[2]),
      cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS,
    });
  }
  return out;
}

function groupsOf(processes: ProcStat[]): Map<number, ProcStat[]> {
  const groups = new Map<number, ProcStat[]>();
  for (const p of processes) {
    const list = groups.get(p.pgrp);
    if (list) list.push(p);
    else groups.set(p.pgrp, [p]);
  }
  return groups;
}

/** Live processes in the group led by `leader`. */
export function groupSize(leader: number): number {
  return readProcesses().filter((p) => p.pgrp === leader).length;
}

/** CPU seconds so far of every process whose name is one of `names` (e.g. postgres, redis-server). */
export function cpuOfNamed(names: string[]): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (const p of readProcesses()) if (p.comm in out) out[p.comm]! += p.cpuSeconds;
  return out;
}

export function readGroups(leaders: number[]): GroupMemory[] {
  const groups = groupsOf(readProcesses());
  return leaders.map((leader) => {
    let rss = 0;
    let mainRss = 0;
    let mainPeak = 0;
    let cpu = 0;
    const members = groups.get(leader) ?? [];
    for (const { pid, cpuSeconds } of members) {
      cpu += cpuSeconds;
      let status: string;
      try {
        status = readFileSync(`/proc/${pid}/status`, "utf8");
      } catch {
        continue;
      }
      const kib = statusKiB(status, "VmRSS");
      rss += kib;
      if (kib > mainRss) {
        mainRss = kib;
        mainPeak = statusKiB(status, "VmHWM");
      }
    }
    return {
      rssMiB: rss / 1024,
      mainRssMiB: mainRss / 1024,
      mainPeakMiB: mainPeak / 1024,
      processes: members.length,
      cpuSeconds: cpu,
    };
  });
}

export interface MemorySample {
  /** ms since the sampler started */
  t: number;
  groups: GroupMemory[];
}

/** Samples the groups every `everyMs` until stopped. */
export function sampleMemory(leaders: () => number[], everyMs = 500): { stop(): MemorySample[] } {
  const started = Date.now();
  const samples: MemorySample[] = [];
  const take = () => samples.push({ t: Date.now() - started, groups: readGroups(leaders()) });
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

export interface MemorySummary {
  processes: number;
  /** per process group (one worker = tsx launcher + its Node process), MiB */
  idleMiB: number;
  steadyMiB: number;
  peakMiB: number;
  /** the Node process running the worker alone: VmHWM, the kernel's peak */
  mainPeakMiB: number;
  samples: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : 0;
}

/**
 * idle: the first sample (before the burst); peak: the largest sample of any group; steady:
 * the median, over the second half of the samples, of the largest group at each sample.
 */
export function summariseMemory(samples: MemorySample[]): MemorySummary {
  const perSample = samples.map((s) => Math.max(0, ...s.groups.map((g) => g.rssMiB)));
  const half = perSample.slice(Math.floor(perSample.length / 2));
  return {
    processes: samples[0]?.groups.length ?? 0,
    idleMiB: perSample[0] ?? 0,
    steadyMiB: median(half),
    peakMiB: Math.max(0, ...perSample),
    mainPeakMiB: Math.max(0, ...samples.flatMap((s) => s.groups.map((g) => g.mainPeakMiB))),
    samples: samples.length,
  };
}

export interface CpuShare {
  /** wall-clock seconds measured */
  seconds: number;
  /** CPU cores used on average (CPU seconds / wall seconds), by name */
  cores: Record<string, number>;
  /** all CPUs of the machine, busy on average (from /proc/stat), whoever used them */
  machineBusyCores: number;
  machineCores: number;
  /** busy cores not accounted for by the processes above: other work on the machine */
  otherCores: number;
}

function machineTicks(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = line.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (line[3] ?? 0) + (line[4] ?? 0);
  return { busy: total - idle, total };
}

/**
 * Where the CPU went between start and stop: process groups (by leader pid), processes by
 * name (PostgreSQL, Redis: shared with anything else using them), and this process.
 */
export function meterCpu(
  groups: Record<string, () => number[]>,
  named: string[] = ["postgres", "redis-server"],
): { stop(): CpuShare } {
  const read = () => {
    const all = readProcesses();
    const byGroup = groupsOf(all);
    const values: Record<string, number> = {};
    for (const [name, leaders] of Object.entries(groups)) {
      values[name] = leaders().reduce(
        (sum, leader) => sum + (byGroup.get(leader) ?? []).reduce((s, p) => s + p.cpuSeconds, 0),
        0,
      );
    }
    for (const name of named) values[name] = all.filter((p) => p.comm === name).reduce((s, p) => s + p.cpuSeconds, 0);
    const own = process.cpuUsage();
    values["load generator (bench)"] = (own.user + own.system) / 1e6;
    return values;
  };
  const t0 = Date.now();
  const before = read();
  const m0 = machineTicks();
  return {
    stop() {
      const after = read();
      const m1 = machineTicks();
      const seconds = (Date.now() - t0) / 1000;
      const cores: Record<string, number> = {};
      for (const name of Object.keys(after)) cores[name] = Math.max(0, (after[name]! - (before[name] ?? 0)) / seconds);
      const cpus = os.cpus().length;
      const busy = ((m1.busy - m0.busy) / Math.max(1, m1.total - m0.total)) * cpus;
      const ours = Object.values(cores).reduce((a, b) => a + b, 0);
      return { seconds, cores, machineBusyCores: busy, machineCores: cpus, otherCores: Math.max(0, busy - ours) };
    },
  };
}
