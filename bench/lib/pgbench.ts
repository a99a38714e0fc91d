/**
 * pgbench, the reference the worker is measured against: found on this machine, or installed from
 * Debian's PostgreSQL server package (which is where Debian ships it), then run and parsed.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

export interface PgbenchResult {
  readonly tps: number;
  readonly transactions: number;
  readonly failed: number;
  readonly latencyAvgMs: number;
  /** CPU the pgbench process used (user + system), ms, from the shell's `times`. */
  readonly cpuMs: number;
}

/** The highest-versioned pgbench binary under /usr/lib/postgresql (not the Perl pg_wrapper). */
function findPgbench(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = `${base}/${v}/bin/pgbench`;
    if (existsSync(bin)) return bin;
  }
  return undefined;
}

/**
 * The pgbench binary, installing Debian's PostgreSQL server package if it is missing (pgbench is
 * in `postgresql-NN`, not in the client package). Needs root and apt; otherwise one line on what
 * to install.
 */
export function ensurePgbench(log: (line: string) => void): { bin: string; version: string } {
  let bin = findPgbench();
  if (!bin) {
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    if (!isRoot || !existsSync('/usr/bin/apt-get')) {
      throw new Error("pgbench is not installed: install Debian's postgresql package (apt-get install postgresql-15) or run the benchmark as root on Debian");
    }
    log('pgbench not found: installing Debian\'s postgresql server package (it ships pgbench)...');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
    // The `postgresql` metapackage names the distribution's current server package.
    const depends = execFileSync('apt-cache', ['depends', 'postgresql'], { encoding: 'utf8', env });
    const pkg = /Depends: (postgresql-\d+)\b/.exec(depends)?.[1] ?? 'postgresql-15';
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg], { stdio: 'ignore', env });
    bin = findPgbench();
    if (!bin) throw new Error(`installed ${pkg} but found no pgbench under /usr/lib/postgresql`);
  }
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  return { bin, version };
}

/** Parse pgbench's report and the `times` lines the wrapper shell prints after it. */
export function parsePgbenchOutput(out: string): PgbenchResult {
  const num = (re: RegExp, what: string): number => {
    const m = re.exec(out);
    if (!m) throw new Error(`pgbench output has no ${what}:\n${out}`);
    return Number(m[1]);
  };
  // `times` prints the shell's own times, then its children's: "0m0.620000s 0m1.380000s".
  const times = [...out.matchAll(/^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/gm)].pop();
  if (!times) throw new Error(`no CPU times after pgbench's output:\n${out}`);
  const cpuMs = (Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4])) * 1000;
  return {
    tps: num(/^tps = ([\d.]+)/m, 'tps'),
    transactions: num(/number of transactions actually processed: (\d+)/, 'transaction count'),
    failed: /number of failed transactions: (\d+)/.exec(out) ? Number(/number of failed transactions: (\d+)/.exec(out)![1]) : 0,
    latencyAvgMs: num(/latency average = ([\d.]+) ms/, 'latency'),
    cpuMs,
  };
}

export interface PgbenchRun {
  readonly bin: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  readonly clients: number;
  readonly seconds: number;
  /** Extra flags, e.g. ['-f', 'workloads/tpcb/select-only.sql', '-s', '4']. */
  readonly extra?: readonly string[];
  /** Run pgbench pinned to these CPUs (taskset), e.g. '0'. */
  readonly cpus?: string;
  /** Worker threads (-j). @default clients (one thread per connection) */
  readonly threads?: number;
  /** Open loop at this many transactions per second over all clients (-R); @default closed loop */
  readonly rate?: number;
  /** Write the per-transaction log (--log) with this prefix (--log-prefix): one file per thread. */
  readonly logPrefix?: string;
}

/** Run `pgbench -n -c C -j C -T t -M prepared` (with -R and --log when asked) and parse its report. The password goes by PGPASSWORD. */
export async function runPgbench(r: PgbenchRun): Promise<PgbenchResult> {
  const args = ['-n', '-c', String(r.clients), '-j', String(r.threads ?? r.clients), '-T', String(r.seconds), '-M', 'prepared',
    ...(r.rate !== undefined ? ['-R', String(r.rate)] : []),
    ...(r.logPrefix !== undefined ? ['--log', `--log-prefix=${r.logPrefix}`] : []),
    ...(r.extra ?? []), '-h', r.host, '-p', String(r.port), '-U', r.user, r.database];
  const cmd = r.cpus !== undefined ? ['taskset', '-c', r.cpus, r.bin, ...args] : [r.bin, ...args];
  // The shell's `times` reports the CPU of its (waited-for) children: pgbench alone.
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('sh', ['-c', '"$@"; rc=$?; times; exit $rc', 'sh', ...cmd], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PGPASSWORD: r.password, LANG: 'C' },
    });
    let text = '';
    child.stdout.on('data', (d: Buffer) => { text += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { text += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`pgbench exited with ${code}:\n${text}`))));
  });
  return parsePgbenchOutput(out);
}

/** pgbench's per-transaction log (--log), as its documentation defines the columns. */
export interface PgbenchLog {
  /** Each completed transaction's latency, ms; under -R measured from its scheduled start. */
  readonly latencyMs: number[];
  /** Each completed transaction's schedule lag (actual minus scheduled start), ms; only under -R. */
  readonly lagMs: number[];
  /** Transactions logged as `skipped` (-L) or failed. */
  readonly skipped: number;
  readonly failed: number;
}

/**
 * Parse per-transaction log lines: `client_id transaction_no time script_no time_epoch time_us
 * [schedule_lag] [retries]`, times in microseconds; `time` is `skipped` or `failed` (or the
 * failure's kind) for a transaction that did not complete.
 */
export function parsePgbenchLog(text: string): PgbenchLog {
  const latencyMs: number[] = [];
  const lagMs: number[] = [];
  let skipped = 0;
  let failed = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const f = line.trim().split(/\s+/);
    if (f.length < 6) throw new Error(`not a pgbench log line: "${line}"`);
    const time = f[2]!;
    if (time === 'skipped') skipped++;
    else if (!/^\d+$/.test(time)) failed++;
    else {
      latencyMs.push(Number(time) / 1000);
      if (f.length >= 7) lagMs.push(Number(f[6]) / 1000);
    }
  }
  return { latencyMs, lagMs, skipped, failed };
}
