/**
 * CPU pinning with taskset, for the diagnostic in which the database and its client each get
 * their own CPUs (as a Lambda worker and an Aurora instance do) instead of sharing them.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch { /* gone */ }
  }
  return out;
}

/** Pin `pid`, every thread of it and every descendant living now to `cpus` (e.g. "1"); new children inherit it. */
export function pinTree(pid: number, cpus: string): void {
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    try {
      execFileSync('taskset', ['-a', '-p', '-c', cpus, String(p)], { stdio: 'ignore' });
    } catch { /* exited meanwhile */ }
    stack.push(...childrenOf(p));
  }
}

/**
 * Pin `pid` and every thread of it, but not its children, to `cpus`. Our own process must be pinned
 * so: the embedded PostgreSQL servers are its children, and {@link pinTree} would take them along.
 */
export function pinProcess(pid: number, cpus: string): void {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
  } catch { /* exited meanwhile */ }
}

/**
 * Run `fn` with the CPUs split as a Lambda worker and an Aurora instance are on separate machines:
 * every process of the servers `serverPids` (and their children) on CPU 1, this process and what it
 * runs in-process on CPU 0; then every CPU for all again. A client in another process (pgbench)
 * must be started on CPU 0 itself (`taskset -c 0`).
 */
export async function withSplitCpus<T>(serverPids: readonly number[], fn: () => Promise<T>): Promise<T> {
  for (const pid of serverPids) pinTree(pid, '1');
  pinProcess(process.pid, '0');
  try {
    return await fn();
  } finally {
    pinProcess(process.pid, allCpus());
    for (const pid of serverPids) pinTree(pid, allCpus());
  }
}

/** Every CPU of the machine, as taskset writes it. */
export function allCpus(): string {
  return `0-${os.cpus().length - 1}`;
}

/** Whether pinning is possible here: taskset exists and there are at least two CPUs. */
export function canPin(): boolean {
  if (os.cpus().length < 2) return false;
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
