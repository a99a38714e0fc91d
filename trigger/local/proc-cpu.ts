/**
 * CPU time of a PostgreSQL server: its postmaster and every process it started, read from Linux's
 * /proc (proc(5): /proc/PID/stat fields 14-17 are utime, stime, cutime and cstime in clock ticks).
 * The postmaster's cutime/cstime hold the time of its children that have exited (it waits for
 * them), so the total keeps counting a backend that ended between two readings. Elsewhere than
 * Linux there is no /proc: the CPU is then simply not sampled.
 */
import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

/** The fields of /proc/PID/stat the total needs. */
export interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  /** utime + stime, clock ticks. */
  readonly own: number;
  /** cutime + cstime: waited-for children, clock ticks. */
  readonly children: number;
}

/**
 * Parse one /proc/PID/stat line. The command name (field 2) is in parentheses and may itself hold
 * spaces and parentheses, so the fields are counted after its last ")".
 */
export function parseProcStat(line: string): ProcStat | undefined {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(line.slice(0, open).trim());
  const f = line.slice(close + 1).trim().split(/\s+/);
  // f[0] is field 3 (state): field k is f[k - 3].
  const num = (k: number): number => Number(f[k - 3]);
  const stat = { pid, ppid: num(4), own: num(14) + num(15), children: num(16) + num(17) };
  return Object.values(stat).every(Number.isFinite) ? stat : undefined;
}

/** CPU ticks of each server: its postmaster's own and waited-for children's, plus its live children's. */
export function serverTicks(stats: readonly ProcStat[], postmasters: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pm of postmasters) out.set(pm, 0);
  for (const s of stats) {
    if (out.has(s.pid)) out.set(s.pid, out.get(s.pid)! + s.own + s.children);
    else if (out.has(s.ppid)) out.set(s.ppid, out.get(s.ppid)! + s.own);
  }
  return out;
}

let ticksPerSecond: number | undefined;

/** sysconf(_SC_CLK_TCK), from getconf; 100 (Linux's USER_HZ) when it cannot be asked. */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2_000 }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** Every process's stat line, read now; empty where there is no /proc. */
export async function readProcStats(): Promise<ProcStat[]> {
  let names: string[];
  try {
    names = (await readdir('/proc')).filter((n) => /^\d+$/.test(n));
  } catch {
    return [];
  }
  const lines = await Promise.all(names.map((n) => readFile(`/proc/${n}/stat`, 'utf8').catch(() => '')));
  return lines.map(parseProcStat).filter((s): s is ProcStat => s !== undefined);
}
