/**
 * `npm run bench [-- --quick] [-- --only a,b] [-- --publish]`: the project's numbers, each measured
 * in the same run as its reference, printed as a table and written to bench/out/results.json
 * (untracked). Only --publish writes the tracked files: bench/results.json and the table in
 * bench/README.md. Nothing here is a test: no figure makes the process fail, except that the run
 * itself breaks.
 *
 * Figures: pgbenchRatio (with the bare node-postgres loop beside it), latencyRatioP50,
 * latencyRatioP99 and lagRatioP99 (side by side with pgbench -R), sendRate, rateErrorPct and
 * scheduleLagP99Ms (500/s and 2,000/s), bundleBytes, coldInitMs, peakRssMb. --quick shortens every
 * run (about 6 minutes on a 2-core machine); without it the runs are as the goals define them, and
 * the diagnostics that explain the pgbench ratio are added.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { LocalCluster } from '../trigger/local/cluster';
import { bundleAndColdInit, peakRss } from './figures/lambda-bundle';
import { pgbenchRatio } from './figures/pgbench-ratio';
import { rateAccuracy } from './figures/rate-accuracy';
import { sendRate } from './figures/send-rate';
import { sideBySide } from './figures/side-by-side';
import { ensurePgbench } from './lib/pgbench';
import { benchWorker } from './lib/bench-worker';
import { cpuWindow, machineFacts } from './lib/proc';
import { readmeTable, replaceTable } from './lib/publish';
import { formatTable, recordOf, round, type FigureRecord, type Row } from './lib/report';

const FIGURES = ['send', 'bundle', 'ratio', 'side', 'rate', 'rss'] as const;
type FigureName = (typeof FIGURES)[number];

interface Args {
  readonly quick: boolean;
  readonly only: ReadonlySet<FigureName>;
  /** Where the results go: bench/out/results.json, --out FILE, or bench/results.json with --publish. */
  readonly out: string;
  /** Write bench/results.json and the table in bench/README.md (tracked files). */
  readonly publish: boolean;
}

/**
 * pgbenchRatio's rounds are short (2 s per side; pgbench's -T takes whole seconds) and many, the
 * order changing every round: on a VM where other tenants stole 4-18% of the CPU second by second
 * (vmstat), three runs of 3 rounds of 4 s gave medians of 0.54, 0.91 and 0.69; three of 8 rounds
 * of 2 s gave 0.64, 0.66 and 0.62 (2026-12-01, 2 x AMD EPYC).
 */
const RATIO_ROUND_S = 2;
/**
 * The side-by-side rounds are short too (3 s per side), 10 of them (20 in the full run), alternating,
 * and each side's rounds are pooled into one histogram for the figure (bench/figures/side-by-side.ts
 * says why not a median of the rounds). bench/README.md has the runs that decided it.
 */
const SIDE_ROUND_S = 3;
const OUT_DEFAULT = path.join(__dirname, 'out', 'results.json');
const PUBLISHED = path.join(__dirname, 'results.json');
const README = path.join(__dirname, 'README.md');
const USAGE = `usage: npm run bench -- [--quick] [--only ${FIGURES.join(',')}] [--out FILE | --publish]
  --quick    shorter runs (about 6 minutes here)
  --only     a subset of the figures
  --out      where to write the results (default bench/out/results.json, untracked)
  --publish  write bench/results.json and the table in bench/README.md (every figure; the tracked files)
`;

/** A mistake on the command line: one line, exit 2. */
class UsageError extends Error {}

function parseArgs(argv: readonly string[]): Args {
  let quick = false;
  let only = new Set<FigureName>(FIGURES);
  let out: string | undefined;
  let publish = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (flag: string): string => {
      const v = a.includes('=') ? a.slice(flag.length + 1) : argv[++i];
      if (!v) throw new UsageError(`${flag} needs a value; try --help`);
      return v;
    };
    if (a === '--quick') quick = true;
    else if (a === '--publish') publish = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const list = value('--only').split(',').map((x) => x.trim()).filter(Boolean);
      const bad = list.filter((x) => !(FIGURES as readonly string[]).includes(x));
      if (bad.length || list.length === 0) throw new UsageError(`--only takes a list of ${FIGURES.join(', ')}; got "${list.join(',')}"`);
      only = new Set(list as FigureName[]);
    } else if (a === '--out' || a.startsWith('--out=')) out = path.resolve(value('--out'));
    else if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    } else throw new UsageError(`unknown argument "${a}"; try --help`);
  }
  if (publish && only.size !== FIGURES.length) throw new UsageError('--publish publishes every figure: drop --only');
  if (publish && out !== undefined) throw new UsageError('--publish writes bench/results.json: drop --out');
  return { quick, only, publish, out: publish ? PUBLISHED : out ?? OUT_DEFAULT };
}

const startedAt = performance.now();
/** Progress on stderr, each line stamped with the seconds since the start. */
const log = (line: string): void => {
  const t = ((performance.now() - startedAt) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[${t} s] ${line}\n`);
};

async function main(): Promise<void> {
  // The SDK's nine-line notice that its 2027 releases need Node 22 is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const whole = cpuWindow();
  const q = args.quick;
  const rows: Row[] = [];
  const figures: Record<string, FigureRecord> = {};
  const record = (name: string, r: Row[], details: unknown): void => {
    const own = r.filter((x) => x.figure === name);
    figures[name] = recordOf(own.length ? own : r, details);
  };
  const facts: Record<string, unknown> = { ...machineFacts() };

  if (args.only.has('send')) {
    log('sendRate: the trigger\'s SQS sending against a loopback SendMessageBatch endpoint...');
    const r = await sendRate({ quick: q, log });
    rows.push(...r.rows);
    record('sendRate', r.rows, r.details);
  }

  const needCluster = ['bundle', 'ratio', 'side', 'rate', 'rss'].some((f) => args.only.has(f as FigureName));
  let pgbench: { bin: string; version: string } | undefined;
  if (args.only.has('ratio') || args.only.has('side')) pgbench = ensurePgbench(log);
  if (needCluster) {
    log('starting the local cluster (embedded PostgreSQL writer + hot standby)...');
    const cluster = await LocalCluster.start();
    try {
      const clients = 4;
      const scale = 4;
      {
        const { worker } = benchWorker(cluster, 1);
        log(`loading tpcb at scale ${scale} through the worker...`);
        await worker.init('tpcb', { scale, reset: true });
        await worker.close();
      }
      const { Client } = await import('pg');
      const c = new Client({ ...cluster.writer, user: cluster.user, password: cluster.password, database: cluster.database });
      await c.connect();
      facts.postgres = (await c.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
      await c.end();
      if (pgbench) facts.pgbench = pgbench.version;

      let bundleFile: string | undefined;
      let closedLoopTps: number | undefined;
      if (args.only.has('bundle') || args.only.has('rss')) {
        log('bundleBytes and coldInitMs: the worker bundle as the pipeline builds it, started fresh...');
        const r = await bundleAndColdInit({ cluster, runs: q ? 7 : 15, log });
        bundleFile = r.bundle.file;
        if (args.only.has('bundle')) {
          rows.push(...r.rows);
          record('bundleBytes', r.rows.filter((x) => x.figure === 'bundleBytes'), (r.details as { bundle: unknown }).bundle);
          record('coldInitMs', r.rows.filter((x) => x.figure === 'coldInitMs'), (r.details as { coldInit: unknown }).coldInit);
        }
      }
      if (args.only.has('ratio')) {
        log(`pgbenchRatio: worker vs pgbench, tpcb scale ${scale}, ${clients} connections...`);
        const r = await pgbenchRatio({ cluster, pgbench: pgbench!.bin, clients, seconds: RATIO_ROUND_S, rounds: q ? 8 : 20, full: !q, log });
        rows.push(...r.rows);
        record('pgbenchRatio', r.rows, r.details);
        closedLoopTps = r.pgbenchTps;
      }
      if (args.only.has('side')) {
        log(`latencyRatioP50, latencyRatioP99, lagRatioP99: pgbench -R and the worker at the same rate, tpcb scale ${scale}, ${clients} connections...`);
        const r = await sideBySide({ cluster, pgbench: pgbench!.bin, clients, ...(closedLoopTps !== undefined ? { closedLoopTps } : {}), diagnosticRates: [300], pinnedDiagnostic: !q, seconds: SIDE_ROUND_S, rounds: q ? 10 : 20, log });
        rows.push(...r.rows);
        for (const name of ['latencyRatioP50', 'latencyRatioP99', 'lagRatioP99'] as const) {
          record(name, r.rows.filter((x) => x.figure === name), { spread: r.spread[name], ...(name === 'latencyRatioP50' ? r.details as object : { method: 'see figures.latencyRatioP50.details' }) });
        }
      }
      if (args.only.has('rate')) {
        const durationMs = q ? 30_000 : 60_000;
        log(`rateErrorPct and scheduleLagP99Ms: 500/s and 2,000/s for ${durationMs / 1000} s each through the local engine...`);
        const r = await rateAccuracy({ cluster, rates: [500, 2_000], durationMs, log });
        rows.push(...r.rows);
        record('rateErrorPct', r.rows.filter((x) => x.figure === 'rateErrorPct'), r.details);
        record('scheduleLagP99Ms', r.rows.filter((x) => x.figure === 'scheduleLagP99Ms'), r.details);
      }
      if (args.only.has('rss')) {
        const durationMs = q ? 30_000 : 60_000;
        log(`peakRssMb: the bundle running a ${durationMs / 1000} s slice at 1,000/s...`);
        const r = await peakRss({ cluster, bundle: bundleFile!, durationMs, rate: 1_000, log });
        rows.push(...r.rows);
        record('peakRssMb', r.rows, r.details);
      }
    } finally {
      await cluster.stop();
    }
  }

  const cpu = whole();
  facts.othersCpuPct = round(cpu.othersPct, 1);
  const result = {
    date: new Date(started).toISOString(),
    mode: q ? 'quick' : 'full',
    durationS: round((Date.now() - started) / 1000, 0),
    machine: facts,
    figures,
    table: rows,
  };
  const table = formatTable(rows);
  process.stdout.write(`\n${table}\n\n`);
  process.stdout.write(`${facts.cpus} × ${String(facts.cpuModel)}, Node ${String(facts.node)}, PostgreSQL ${String(facts.postgres ?? 'n/a')} (embedded)${facts.pgbench ? `, ${String(facts.pgbench)}` : ''}; `
    + `other processes took ${facts.othersCpuPct}% of the machine during the run; ${result.durationS} s\n`);
  mkdirSync(path.dirname(args.out), { recursive: true });
  writeFileSync(args.out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`written to ${path.relative(process.cwd(), args.out)}\n`);
  if (args.publish) {
    writeFileSync(README, replaceTable(readFileSync(README, 'utf8'), readmeTable({
      date: result.date, mode: q ? 'quick' : 'full', durationS: result.durationS,
      machine: { cpus: facts.cpus as number, cpuModel: String(facts.cpuModel), node: String(facts.node), postgres: facts.postgres, pgbench: facts.pgbench, othersCpuPct: facts.othersCpuPct as number },
    }, rows)));
    process.stdout.write(`and the table in ${path.relative(process.cwd(), README)}\n`);
  }
}

main().catch((e: unknown) => {
  if (e instanceof UsageError) {
    process.stderr.write(`bench: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`bench failed: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
