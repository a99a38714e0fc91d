/**
 * CPU accounting from Linux's /proc, so each figure can say how much CPU its client used and how
 * much the rest of the machine (anything this benchmark did not start) took from it meanwhile.
 */
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

/** USER_HZ: /proc reports times in these ticks; 100 on every Linux we run on. */
const TICK_MS = 10;

interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  /** utime + stime of the process itself, ms. */
  readonly selfMs: number;
  /** cutime + cstime: children that exited and were waited for, ms. */
  readonly reapedMs: number;
}

/** Parse /proc/<pid>/stat (the command name may hold spaces and parentheses). */
function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
  const f = (n: number): number => Number(fields[n - 3]);
  return { pid, ppid: f(4), selfMs: (f(14) + f(15)) * TICK_MS, reapedMs: (f(16) + f(17)) * TICK_MS };
}

function allStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) out.push(s);
  }
  return out;
}

/**
 * CPU ms used by `pid` and all its descendants, the living and the reaped. (A descendant that
 * exited but whose parent has not waited for it yet is briefly not counted.)
 */
export function treeCpuMs(pid: number, stats: readonly ProcStat[] = allStats()): number {
  const children = new Map<number, ProcStat[]>();
  let root: ProcStat | undefined;
  for (const s of stats) {
    if (s.pid === pid) root = s;
    const list = children.get(s.ppid);
    if (list) list.push(s);
    else children.set(s.ppid, [s]);
  }
  if (!root) return 0;
  let total = 0;
  const stack = [root];
  while (stack.length) {
    const s = stack.pop()!;
    total += s.selfMs + s.reapedMs;
    stack.push(...(children.get(s.pid) ?? []));
  }
  return total;
}

/** CPU ms of one process (not its children), or undefined once it is gone. */
export function processCpuMs(pid: number): number | undefined {
  return readStat(pid)?.selfMs;
}

/** Busy and total CPU ms of the whole machine, summed over all CPUs (from /proc/stat). */
function machineCpu(): { busyMs: number; totalMs: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest times are already in user/nice).
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  const busy = user + nice + system + irq + softirq + steal;
  return { busyMs: busy * TICK_MS, totalMs: (busy + idle + iowait) * TICK_MS };
}

export interface CpuWindow {
  /** Wall-clock ms of the window. */
  readonly wallMs: number;
  /** CPU ms used by this process and everything it started (servers, pgbench, children). */
  readonly oursMs: number;
  /** CPU ms used by everything else on the machine: other people's work, noise. */
  readonly othersMs: number;
  /** othersMs as a share of the machine's capacity over the window, percent. */
  readonly othersPct: number;
}

/** Start a measurement window; call the returned function to end it. */
export function cpuWindow(): () => CpuWindow {
  const t0 = performance.now();
  const m0 = machineCpu();
  const o0 = treeCpuMs(process.pid);
  return () => {
    const wallMs = performance.now() - t0;
    const m1 = machineCpu();
    const oursMs = treeCpuMs(process.pid) - o0;
    const busyMs = m1.busyMs - m0.busyMs;
    const capacityMs = m1.totalMs - m0.totalMs || wallMs * os.cpus().length;
    const othersMs = Math.max(0, busyMs - oursMs);
    return { wallMs, oursMs, othersMs, othersPct: capacityMs > 0 ? (100 * othersMs) / capacityMs : 0 };
  };
}

/** Facts about the machine a result was measured on. */
export function machineFacts(): { cpus: number; cpuModel: string; memoryGiB: number; os: string; node: string } {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}
