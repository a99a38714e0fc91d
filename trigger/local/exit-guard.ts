/**
 * Last-resort cleanup when the Node process exits without having stopped its local servers (an
 * uncaught exception, `process.exit()` from somewhere else, a test runner's `--exit`).
 *
 * It only hooks `process.on('exit')`, never SIGINT/SIGTERM: the CLI owns signals and calls
 * `LocalCluster.stop()` itself. Note that a process killed by an unhandled signal does not run
 * 'exit' listeners at all; in a terminal, Ctrl-C also reaches the servers directly, because they
 * share our process group, and PostgreSQL answers SIGINT with a fast shutdown.
 */
import * as fs from 'node:fs';

const servers = new Set<number>();
const dirs = new Set<string>();
let hooked = false;

/** How long the exit hook waits for an immediate shutdown before it falls back to SIGKILL. */
const EXIT_GRACE_MS = 2_000;

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', cleanUpNow);
}

/** Kill `pid` (a postmaster we started) if the process exits while it still runs. */
export function guardProcess(pid: number): void {
  hook();
  servers.add(pid);
}

export function releaseProcess(pid: number): void {
  servers.delete(pid);
}

/** Remove `dir` (recursively) if the process exits before it was removed. */
export function guardDir(dir: string): void {
  hook();
  dirs.add(dir);
}

export function releaseDir(dir: string): void {
  dirs.delete(dir);
}

/**
 * Synchronous, because 'exit' listeners cannot wait for anything. SIGQUIT asks each postmaster for
 * an immediate shutdown, which also stops its backends and releases its shared memory; SIGKILL on
 * the postmaster alone would leave both behind for a moment. Postmasters that have not gone within
 * EXIT_GRACE_MS are killed outright.
 */
function cleanUpNow(): void {
  const pids = [...servers];
  for (const pid of pids) signal(pid, 'SIGQUIT');
  const deadline = Date.now() + EXIT_GRACE_MS;
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    sleepSync(10);
    alive = alive.filter(isAlive);
  }
  for (const pid of alive) signal(pid, 'SIGKILL');
  servers.clear();
  for (const dir of dirs) {
    try {
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
    } catch {
      // Best effort: a server that ignored SIGKILL's delivery for a moment may still be writing.
    }
  }
  dirs.clear();
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/**
 * Whether `pid` still runs. Our children are not reaped while an 'exit' listener runs, so an exited
 * postmaster lingers as a zombie, which `kill(pid, 0)` cannot tell from a live one; on Linux,
 * /proc says which it is. Elsewhere a zombie counts as alive and costs the grace period.
 */
function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && fs.existsSync('/proc/self/stat')) return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
