/**
 * `npm run compat`: evidence that the worker runs pgbench scripts as pgbench does. Each script of
 * bench/compat/scripts (and workloads/tpcb/tpcb.sql) is run by pgbench (`-c 1 -t N -M prepared
 * --random-seed S`) and by the worker (one statements message of N transactions, random seed S,
 * client 0) on the same embedded server, from the same empty tables; what each leaves in the
 * database is compared row for row. With the same seed both draw the same random numbers, so the
 * states must be identical. The random functions are also compared as distributions: pgbench at
 * seed S against the worker at another seed, two-sample Kolmogorov-Smirnov.
 *
 * pgbench is not in CI: this runs where it is installed (Debian's postgresql-NN; installed here
 * when run as root on Debian) and says so, exit 2, when it is not. Results go to
 * bench/compat/results.json. Exit 1 when anything differs.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import pg from 'pg';
import { createLogger } from '../../handlers/log';
import { MemorySink } from '../../handlers/metrics/memory-sink';
import type { OpSeries } from '../../handlers/metrics/types';
import { createWorker } from '../../handlers/worker';
import { assertValid, buildCatalog } from '../../handlers/workloads/catalog';
import { readWorkloadFiles } from '../../handlers/workloads/files';
import { PROJECT_WORKLOADS_DIR } from '../../handlers/workloads/project';
import { LocalCluster } from '../../trigger/local/cluster';
import { localWorkerConfig } from '../../trigger/local/worker-config';
import { lambdaContext, sqsEventOf } from '../lib/bench-worker';
import { ensurePgbench } from '../lib/pgbench';
import { ksTwoSample } from './stats';

const DIR = __dirname;
const SEED = '42';
const OTHER_SEED = '4242';
/** Family-wise significance: each of the four distribution tests must reach p >= ALPHA / 4. */
const ALPHA = 0.01;

interface Case {
  readonly name: string;
  /** Script file, relative to the project root. */
  readonly file: string;
  readonly workload: 'compat' | 'tpcb';
  readonly transactions: number;
  readonly defines?: Readonly<Record<string, string>>;
  /** Tables emptied before each side runs. */
  readonly reset: string;
  /** What is compared: rows as text, in a stable order. */
  readonly state: string;
}

const CASES: readonly Case[] = [
  { name: 'expressions', file: 'bench/compat/scripts/expressions.sql', workload: 'compat', transactions: 2000, reset: 'TRUNCATE compat_expr RESTART IDENTITY', state: 'SELECT * FROM compat_expr ORDER BY id' },
  { name: 'branches', file: 'bench/compat/scripts/branches.sql', workload: 'compat', transactions: 1000, reset: 'TRUNCATE compat_events RESTART IDENTITY', state: 'SELECT * FROM compat_events ORDER BY id' },
  { name: 'gset', file: 'bench/compat/scripts/gset.sql', workload: 'compat', transactions: 1000, reset: 'TRUNCATE compat_kv RESTART IDENTITY', state: 'SELECT * FROM compat_kv ORDER BY id' },
  {
    name: 'builtins', file: 'bench/compat/scripts/builtins.sql', workload: 'compat', transactions: 5, defines: { factor: '3.5', label: 'hello world' },
    reset: 'TRUNCATE compat_builtins RESTART IDENTITY', state: 'SELECT * FROM compat_builtins ORDER BY id',
  },
  { name: 'syntax', file: 'bench/compat/scripts/syntax.sql', workload: 'compat', transactions: 200, reset: 'TRUNCATE compat_text RESTART IDENTITY', state: 'SELECT * FROM compat_text ORDER BY id' },
  { name: 'distributions', file: 'bench/compat/scripts/distributions.sql', workload: 'compat', transactions: 10_000, reset: 'TRUNCATE compat_draws RESTART IDENTITY', state: 'SELECT * FROM compat_draws ORDER BY id' },
  {
    name: 'tpcb', file: 'workloads/tpcb/tpcb.sql', workload: 'tpcb', transactions: 2000,
    reset: 'TRUNCATE pgbench_history; UPDATE pgbench_accounts SET abalance = 0 WHERE abalance <> 0; UPDATE pgbench_tellers SET tbalance = 0; UPDATE pgbench_branches SET bbalance = 0',
    state: `SELECT tid, bid, aid, delta FROM pgbench_history ORDER BY mtime, aid, tid, delta`,
  },
];


const ROOT = path.resolve(DIR, '..', '..');
const log = (line: string): void => { process.stderr.write(`${line}\n`); };

/** The rows a query returns, every value as PostgreSQL's text. */
async function rowsOf(client: pg.Client, sql: string): Promise<string[]> {
  const r = await client.query({ text: sql, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } });
  return (r.rows as unknown[][]).map((row) => JSON.stringify(row));
}

function runPgbench(bin: string, cluster: LocalCluster, c: Case, seed: string): Promise<string> {
  const args = ['-n', '-c', '1', '-j', '1', '-t', String(c.transactions), '-M', 'prepared', `--random-seed=${seed}`, '-f', path.join(ROOT, c.file),
    ...Object.entries(c.defines ?? {}).flatMap(([k, v]) => ['-D', `${k}=${v}`]),
    '-h', cluster.writer.host, '-p', String(cluster.writer.port), '-U', cluster.user, cluster.database];
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PGPASSWORD: cluster.password, LANG: 'C' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      const failed = /number of failed transactions: (\d+)/.exec(out)?.[1];
      if (code !== 0 || (failed !== undefined && failed !== '0')) reject(new Error(`pgbench ${c.name} exited ${code}:\n${out}`));
      else resolve(out);
    });
  });
}

/**
 * Rows that differ only in the 15th significant digit of some double: the worker computes pow,
 * ln and exp with JavaScript's Math (V8's fdlibm port), pgbench with glibc's libm; the two can
 * differ by one unit in the last place, which "%.15g" sometimes shows.
 */
function equalToLastDigit(a: string, b: string): boolean {
  const x = JSON.parse(a) as unknown[];
  const y = JSON.parse(b) as unknown[];
  if (x.length !== y.length) return false;
  return x.every((v, i) => {
    if (v === y[i]) return true;
    const p = Number(v);
    const q = Number(y[i]);
    return typeof v === 'string' && /[.e]/.test(v) && Number.isFinite(p) && Number.isFinite(q) && Math.abs(p - q) <= 1e-14 * Math.max(Math.abs(p), Math.abs(q)) * 10;
  });
}

async function main(): Promise<void> {
  let pgbench: { bin: string; version: string };
  try {
    pgbench = ensurePgbench(log);
  } catch (e) {
    process.stdout.write(`compat: NOT RUN: ${(e as Error).message}. Nothing was compared.\n`);
    process.exit(2);
  }
  const compatFiles = Object.fromEntries(CASES.filter((c) => c.workload === 'compat').map((c) => [`compat/${path.basename(c.file)}`, readFileSync(path.join(ROOT, c.file), 'utf8')]));
  const tpcbFiles = Object.fromEntries(Object.entries(readWorkloadFiles(PROJECT_WORKLOADS_DIR)).filter(([k]) => k.startsWith('tpcb/')));
  const catalog = buildCatalog({ ...compatFiles, ...tpcbFiles });
  assertValid(catalog);

  log(`compat: ${pgbench.version} against the worker, starting the embedded PostgreSQL...`);
  const cluster = await LocalCluster.start();
  const config = localWorkerConfig({ writer: cluster.writer, reader: cluster.reader, user: cluster.user, password: cluster.password, database: cluster.database, poolMax: 1 });
  const sink = new MemorySink();
  const worker = createWorker({ config, catalog, sink, logger: createLogger({ write: () => undefined }) });
  const admin = new pg.Client({ ...cluster.writer, user: cluster.user, password: cluster.password, database: cluster.database });
  const results: Array<Record<string, unknown>> = [];
  let ok = true;
  try {
    await admin.connect();
    await admin.query(readFileSync(path.join(DIR, 'setup.sql'), 'utf8'));
    await worker.init('tpcb', { scale: 1 });

    /** A series' errors by class over all its seconds. */
    const errorsOf = (s: OpSeries): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const b of s.seconds.values()) for (const [cls, n] of b.errors) out[cls] = (out[cls] ?? 0) + n;
      return out;
    };
    // One runId per case and seed: the worker does not run a copy of a message it already ran
    // (same runId and seq), and the distributions case runs twice.
    const runWorker = async (c: Case, seed: string): Promise<void> => {
      const script = catalog.get(c.workload)!.scripts.get(path.basename(c.file, '.sql'))!;
      const body = JSON.stringify({
        // One run per case and seed: the worker skips a (runId, seq) it has already run.
        v: 1, kind: 'statements', runId: `compat-${c.name}-${seed}`, seq: 0, sentAt: Date.now(), workload: c.workload,
        op: script.name, hash: script.hash, count: c.transactions, clientId: 0, randomSeed: seed, ...(c.defines ? { vars: c.defines } : {}),
      });
      const res = await worker.handle(sqsEventOf([body]), lambdaContext);
      if (res.batchItemFailures.length) throw new Error(`the worker failed ${c.name}: ${JSON.stringify(sink.invocations.at(-1)?.series.map(errorsOf))}`);
    };

    for (const c of CASES) {
      await admin.query(c.reset);
      const t0 = performance.now();
      await runPgbench(pgbench.bin, cluster, c, SEED);
      const pgbenchMs = performance.now() - t0;
      const reference = await rowsOf(admin, c.state);
      await admin.query(c.reset);
      const t1 = performance.now();
      await runWorker(c, SEED);
      const workerMs = performance.now() - t1;
      const ours = await rowsOf(admin, c.state);
      const same = ours.filter((row, i) => row === reference[i]).length;
      const lastDigit = reference.filter((row, i) => row !== ours[i] && ours[i] !== undefined && equalToLastDigit(row, ours[i])).length;
      const different = reference.length - same - lastDigit + Math.max(0, ours.length - reference.length);
      ok &&= different === 0 && reference.length > 0;
      const firstDiff = reference.findIndex((row, i) => row !== ours[i]);
      results.push({
        case: c.name, file: c.file, transactions: c.transactions, pgbenchRows: reference.length, workerRows: ours.length,
        identicalRows: same, lastDigitRows: lastDigit, differentRows: different,
        pgbenchMs: Math.round(pgbenchMs), workerMs: Math.round(workerMs),
        ...(firstDiff >= 0 ? { firstDifference: { row: firstDiff + 1, pgbench: reference[firstDiff], worker: ours[firstDiff] ?? null } } : {}),
      });
      log(`  ${c.name.padEnd(13)} ${String(c.transactions).padStart(6)} tx: pgbench ${reference.length} rows, worker ${ours.length}: ${same} identical`
        + `${lastDigit ? `, ${lastDigit} equal but for the last digit of a pow/ln/exp result` : ''}${different ? `, ${different} DIFFERENT` : ''}`);
    }

    // The same functions as distributions: pgbench at one seed, the worker at another.
    const draws = CASES.find((c) => c.name === 'distributions')!;
    await admin.query(draws.reset);
    await runPgbench(pgbench.bin, cluster, draws, SEED);
    const a = (await admin.query<{ u: number; x: number; g: number; z: number }>('SELECT u, x, g, z FROM compat_draws ORDER BY id')).rows;
    await admin.query(draws.reset);
    await runWorker(draws, OTHER_SEED);
    const b = (await admin.query<{ u: number; x: number; g: number; z: number }>('SELECT u, x, g, z FROM compat_draws ORDER BY id')).rows;
    const functions = { u: 'random(1, 1000)', x: 'random_exponential(1, 1000, 5.0)', g: 'random_gaussian(1, 1000, 2.5)', z: 'random_zipfian(1, 1000, 1.5)' } as const;
    const threshold = ALPHA / Object.keys(functions).length;
    const distributions = Object.entries(functions).map(([col, fn]) => {
      const xa = a.map((r) => r[col as keyof typeof functions]);
      const xb = b.map((r) => r[col as keyof typeof functions]);
      const ks = ksTwoSample(xa, xb);
      const mean = (v: number[]): number => v.reduce((s, n) => s + n, 0) / v.length;
      const pass = ks.p >= threshold;
      ok &&= pass;
      log(`  ${fn.padEnd(34)} n=${xa.length}/${xb.length} mean ${mean(xa).toFixed(2)} vs ${mean(xb).toFixed(2)}, KS D=${ks.d.toFixed(4)} p=${ks.p.toFixed(3)}${pass ? '' : '  <-- DIFFERENT'}`);
      return { function: fn, n: [xa.length, xb.length], meanPgbench: mean(xa), meanWorker: mean(xb), ksD: ks.d, ksP: ks.p, pass };
    });

    const record = {
      date: new Date().toISOString(),
      pgbench: pgbench.version,
      postgres: (await admin.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version,
      method: `pgbench -c 1 -t N -M prepared --random-seed=${SEED} -f <script> vs one statements message (count N, randomSeed ${SEED}, clientId 0) to the worker, same server, same empty tables; rows compared as text. Distributions: pgbench seed ${SEED} vs worker seed ${OTHER_SEED}, two-sample Kolmogorov-Smirnov, pass at p >= ${threshold} (alpha ${ALPHA}, Bonferroni over ${Object.keys(functions).length} tests)`,
      cases: results,
      distributions,
      ok,
    };
    writeFileSync(path.join(DIR, 'results.json'), `${JSON.stringify(record, null, 2)}\n`);
    process.stdout.write(`\ncompat: ${ok ? 'pgbench and the worker agree' : 'DIFFERENCES FOUND'}: ${results.filter((r) => r.differentRows === 0).length}/${results.length} scripts leave the same rows; `
      + `${distributions.filter((d) => d.pass).length}/${distributions.length} random functions indistinguishable (KS, p >= ${threshold}). Written to bench/compat/results.json\n`);
  } finally {
    await admin.end().catch(() => undefined);
    await worker.close();
    await cluster.stop();
  }
  process.exit(ok ? 0 : 1);
}

main().catch((e: unknown) => {
  process.stderr.write(`compat failed: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
