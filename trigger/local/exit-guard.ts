/**
 * Last-resort cleanup when the Node process ends without having stopped its local servers.
 *
 * Two nets. (1) `process.on('exit')`, for an uncaught exception, `process.exit()` from somewhere
 * else, a test runner's `--exit`: it stops the servers and removes the directories itself. It never
 * hooks SIGINT/SIGTERM: the CLI owns signals and calls `LocalCluster.stop()` itself; in a terminal,
 * Ctrl-C also reaches the servers directly, because they share our process group, and PostgreSQL
 * answers SIGINT with a fast shutdown.
 *
 * (2) A watchdog, for an end that runs no 'exit' listener: SIGKILL (the OOM killer, a test runner
 * killing a test process that timed out, `kill -9`). Without it a postmaster lived on without its
 * parent, holding its port, memory and data directory until someone killed it by hand (a mutation
 * run left several, which then took CPU from the benchmarks). The watchdog is a small shell that
 * is neither our child (it forks and its parent exits, so killing our process tree misses it) nor
 * in our process group (killing the group misses it too). It reads from a pipe which postmasters
 * and directories to clean up, and our end of the pipe closes however we end. At the end of its
 * input it asks each postmaster still listed for an immediate shutdown (SIGQUIT, then SIGKILL
 * after EXIT_GRACE_MS) and removes the directories still listed. A normal stop unlists them first,
 * so then it just exits. Cost: one spawn (4-9 ms, measured here) the first time something is
 * guarded, and one idle shell.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import type { Writable } from 'node:stream';

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

/** Kill `pid` (a postmaster we started) if the process ends while it still runs. */
export function guardProcess(pid: number): void {
  hook();
  servers.add(pid);
  tell(`pid ${pid}`);
}

export function releaseProcess(pid: number): void {
  if (servers.delete(pid)) tell(`unpid ${pid}`);
}

/** Remove `dir` (recursively) if the process ends before it was removed. */
export function guardDir(dir: string): void {
  hook();
  dirs.add(dir);
  tell(`dir ${dir}`);
}

export function releaseDir(dir: string): void {
  if (dirs.delete(dir)) tell(`undir ${dir}`);
}

/**
 * The watchdog's script. The outer shell starts the watchdog in the background and exits, so it is
 * reparented away from our process tree. It reads the pipe on fd 3, not stdin: Node closes a
 * child's stdin when the child exits, which the outer shell does at once. Lines: `pid N`,
 * `unpid N`, `dir PATH`, `undir PATH` (the path is the rest of the line). Globbing is off, so a
 * path is never expanded. It ignores the terminal's signals: after Ctrl-C it must still be there
 * to clean up if we do not. A pid or directory released is never touched.
 */
const WATCHDOG_SCRIPT = `(
  set -f
  trap '' INT HUP TERM QUIT PIPE
  nl='
'
  pids=''
  dirs=''
  while IFS= read -r line <&3; do
    case $line in
      'pid '*) pids="$pids \${line#pid }" ;;
      'unpid '*) gone=\${line#unpid }; keep=''; for p in $pids; do [ "$p" = "$gone" ] || keep="$keep $p"; done; pids=$keep ;;
      'dir '*) dirs="$dirs$nl\${line#dir }" ;;
      'undir '*) gone=\${line#undir }; keep=''; IFS=$nl; for d in $dirs; do [ "$d" = "$gone" ] || keep="$keep$nl$d"; done; unset IFS; dirs=$keep ;;
    esac
  done
  for p in $pids; do kill -QUIT "$p" 2>/dev/null; done
  i=0
  while [ -n "$pids" ] && [ $i -lt ${EXIT_GRACE_MS / 100} ]; do
    alive=''; for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
    pids=$alive
    [ -n "$pids" ] && { sleep 0.1 2>/dev/null || sleep 1; }
    i=$((i + 1))
  done
  for p in $pids; do kill -KILL "$p" 2>/dev/null; done
  IFS=$nl
  for d in $dirs; do rm -rf -- "$d"; done
) &
`;

/** The watchdog's `$0`, so `ps` (and a test) can tell it and whose it is ($1, our pid). */
export const WATCHDOG_NAME = 'aurora-lt-watchdog';

/** The watchdog's pipe; null where it could not be started (no /bin/sh, Windows): the exit hook remains. */
let watchdog: { readonly pipe: Writable } | null | undefined;

function tell(line: string): void {
  if (watchdog === undefined) watchdog = startWatchdog();
  if (!watchdog || line.includes('\n')) return;
  // A small write to a pipe with room completes at once, so even a line written by the exit hook
  // reaches the watchdog before the pipe closes.
  watchdog.pipe.write(`${line}\n`);
}

function startWatchdog(): { readonly pipe: Writable } | null {
  // Windows has no /bin/sh (a Git Bash sh would not know Windows pids); the exit hook remains.
  if (process.platform === 'win32') return null;
  try {
    // Named in `ps` as the watchdog of this process: sh -c <script> aurora-lt-watchdog <our pid>.
    // Its own session (detached), so a signal to our process group (`timeout -s KILL`, `kill -9
    // -PGID`, Ctrl-C) does not reach it either.
    const child = spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT, WATCHDOG_NAME, String(process.pid)], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'], detached: true });
    child.on('error', () => {
      watchdog = null;
    });
    const pipe = child.stdio[3] as Writable & { unref?: () => void };
    pipe.on('error', () => {
      watchdog = null;
    });
    // Neither the shell nor the pipe may keep this process alive.
    child.unref();
    pipe.unref?.();
    return { pipe };
  } catch {
    return null;
  }
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
  for (const pid of pids) releaseProcess(pid);
  for (const dir of [...dirs]) {
    try {
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
    } catch {
      // Best effort: a server that ignored SIGKILL's delivery for a moment may still be writing.
    }
    releaseDir(dir);
  }
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
