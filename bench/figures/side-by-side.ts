/**
 * latencyRatioP50, latencyRatioP99 and lagRatioP99: does our measurement add anything to what the
 * database does? pgbench `-R` and the worker run the same script file at the same fixed open-loop
 * rate, on the same server, with the same number of connections, in alternating rounds; both
 * measure latency from each transaction's scheduled start and schedule lag as actual minus
 * scheduled start. Each figure is ours / pgbench's over all the rounds of a series pooled: every
 * transaction of every round of a side in one histogram, so a stall or a backlog counts with the
 * share of the transactions it held up, whichever side it hit (a median of per-round ratios would
 * drop whatever hit fewer than half of the rounds). The rounds are short and alternate, so each
 * side is exposed to the machine's weather alike; the per-round ratios give the spread.
 *
 * pgbench: `-n -c C -j 1 -R rate -T t -M prepared -f workloads/tpcb/tpcb.sql -s scale --log`, one
 * thread pacing C connections from one schedule, as our one worker does; its percentiles come from
 * its per-transaction log. Worker: the local engine as `node trigger --local` runs it (the stack's
 * event-source settings, its pool of C connections per endpoint), one worker, one slice of the
 * tpcb script at the same rate; its percentiles from its own histograms. pgbench's latencies go
 * through the same histogram (2% buckets), so both sides carry the same bucketing error.
 *
 * One difference cannot be removed: pgbench spaces its starts as a Poisson process (random gaps,
 * bursts), the worker spaces them evenly. Bursts queue behind busy connections, so at the same
 * average rate pgbench sees more lag in its tail than an even schedule would; the p99 ratios are
 * therefore kinder to us than a like-for-like schedule would be, and p50 is the fairest of the three.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import pg from 'pg';
import { systemClock, systemWait } from '../../handlers/clock';
import { Histogram } from '../../handlers/metrics/histogram';
import { PROJECT_WORKLOADS_DIR } from '../../handlers/workloads/project';
import { currentScale } from '../../handlers/workloads/tpcb';
import type { LocalCluster } from '../../trigger/local/cluster';
import { LocalEngine } from '../../trigger/local/engine';
import { hashesOf } from '../../trigger/options/mix';
import { parseServerUrls } from '../../trigger/options/postgres-url';
import { RUN_DEFAULTS } from '../../trigger/options/run-options';
import { planSlices, SLICE_DEFAULTS } from '../../trigger/plan/slice-plan';
import { LocalTransport } from '../../trigger/send/local-transport';
import { Sender } from '../../trigger/send/sender';
import { urlOf } from '../lib/bench-worker';
import { parsePgbenchLog, runPgbench } from '../lib/pgbench';
import { canPin, withSplitCpus } from '../lib/affinity';
import { bootstrap, pickedMerge, showInterval, type Interval } from '../lib/bootstrap';
import { cpuWindow } from '../lib/proc';
import { makeRow, median, round, type Row } from '../lib/report';

export interface SideBySideOptions {
  readonly cluster: LocalCluster;
  readonly pgbench: string;
  readonly clients: number;
  /** pgbench's closed-loop tps on the same server and connections (measured here when not given). */
  readonly closedLoopTps?: number;
  /** Fixed rates also compared (diagnostics, no goal), e.g. a moderate rate where neither side is near saturation. */
  readonly diagnosticRates?: readonly number[];
  /**
   * Also run the diagnostic with the CPUs split, as a Lambda worker and an Aurora instance are on
   * different machines: every PostgreSQL process on CPU 1, the client (pgbench, or this process
   * running the worker) on CPU 0, at half of pgbench's closed-loop maximum measured so. Skipped
   * where taskset is missing or there is one CPU.
   */
  readonly pinnedDiagnostic?: boolean;
  readonly seconds: number;
  readonly rounds: number;
  readonly log: (line: string) => void;
}

/** What one side measured in one round. */
interface Side {
  readonly transactions: number;
  readonly skipped: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly lagP50Ms: number;
  readonly lagP99Ms: number;
  /** Client CPU (user + system) per transaction, µs: pgbench alone; for the worker, this whole process (local engine and worker). */
  readonly cpuUsPerTx: number;
  /** Worker only: CPU spent turning the event loop to start on time (handlers/precise-wait.ts), µs per transaction. */
  readonly turnUsPerTx?: number;
  /** Worker only: share of statement starts that were precise (in turns, on a database answer's nudge, or blocking with nothing in flight) rather than on a timer, %. */
  readonly preciseStartsPct?: number;
  /**
   * Worker only: the longest the bench process's event loop was held up (perf_hooks
   * monitorEventLoopDelay, 1 ms resolution) and its garbage-collection pauses, ms. A lag p99 well
   * above the longest stall came from the connections being busy (the server), not from our process.
   */
  readonly loopDelayMaxMs?: number;
  readonly gcPauseMaxMs?: number;
  readonly gcPauseTotalMs?: number;
}

interface Round {
  readonly order: 'pgbench first' | 'worker first';
  readonly pgbench: Side;
  readonly worker: Side;
  readonly latencyRatioP50: number;
  readonly latencyRatioP99: number;
  readonly lagRatioP99: number;
  readonly othersCpuPct: number;
}

/** A side's every transaction over the rounds of a series. */
interface Pooled {
  readonly latency: Histogram;
  readonly lag: Histogram;
}

/** A ratio of a series: the pooled figure, the per-round ratios' median and range, and the pooled figure's bootstrap interval over the rounds (the spread). */
export interface RatioSpread {
  readonly value: number;
  readonly roundsMedian: number;
  readonly min: number;
  readonly max: number;
  /** 95% percentile-bootstrap interval of the pooled figure, the rounds resampled in pairs (pooledIntervals); null with too few rounds. */
  readonly interval: Interval | null;
}

interface Series {
  readonly rate: number;
  /** Why this rate: half of pgbench's closed-loop maximum, or a fixed diagnostic rate. */
  readonly why: string;
  /** Server and client on separate CPUs (SideBySideOptions.pinnedDiagnostic). */
  readonly pinned: boolean;
  readonly rounds: Round[];
  /** Each side's pooled percentiles, ms. */
  readonly pooled: Record<'worker' | 'pgbench', { latencyP50Ms: number; latencyP99Ms: number; lagP50Ms: number; lagP99Ms: number; transactions: number }>;
  readonly spread: Record<'latencyRatioP50' | 'latencyRatioP99' | 'lagRatioP99', RatioSpread>;
}

const OP = 'tpcb';
/** Unmeasured seconds of each side before a series: connections, prepared statements, caches. */
const WARMUP_S = 3;
const RATIOS = ['latencyRatioP50', 'latencyRatioP99', 'lagRatioP99'] as const;
const GOALS = { latencyRatioP50: 1.25, latencyRatioP99: 1.1, lagRatioP99: 1.1 } as const;

function sideOf(latency: Histogram, lag: Histogram, skipped: number, cpuUsPerTx: number, extra: Pick<Side, 'turnUsPerTx' | 'preciseStartsPct' | 'loopDelayMaxMs' | 'gcPauseMaxMs' | 'gcPauseTotalMs'> = {}): Side {
  return {
    transactions: latency.count,
    skipped,
    latencyP50Ms: round(latency.percentile(50), 3),
    latencyP99Ms: round(latency.percentile(99), 3),
    lagP50Ms: round(lag.percentile(50), 3),
    lagP99Ms: round(lag.percentile(99), 3),
    cpuUsPerTx: round(cpuUsPerTx, 0),
    ...extra,
  };
}

/** The pooled ratio with the rounds' median and range and its interval: the figure and its run-to-run spread. */
export function spreadOf(value: number, xs: readonly number[], interval: Interval | null): RatioSpread {
  return {
    value: round(value, 3), roundsMedian: round(median(xs), 3), min: round(Math.min(...xs), 3), max: round(Math.max(...xs), 3),
    interval: interval && { lo: round(interval.lo, 3), hi: round(interval.hi, 3) },
  };
}

/** Ours / pgbench's of the three percentiles, from each side's pooled histograms. */
export function pooledRatios(worker: Pooled, pgbench: Pooled): Record<(typeof RATIOS)[number], number> {
  return {
    latencyRatioP50: worker.latency.percentile(50) / pgbench.latency.percentile(50),
    latencyRatioP99: worker.latency.percentile(99) / pgbench.latency.percentile(99),
    lagRatioP99: worker.lag.percentile(99) / pgbench.lag.percentile(99),
  };
}

/**
 * How far each pooled ratio could have landed with other rounds like these: a 95% bootstrap
 * interval (null below bench/lib/bootstrap.ts's MIN_ROUNDS). The rounds are resampled in pairs (a
 * round's worker and pgbench runs ran back to back, in the same weather, which the pair shares),
 * within the rounds that went pgbench first and those that went worker first (so every resample
 * keeps the design's balance), and each side of a resample pooled as {@link pooledRatios} does.
 */
export function pooledIntervals(rounds: readonly { readonly worker: Pooled; readonly pgbench: Pooled; readonly pgbenchFirst: boolean }[], resamples = 2000): Record<(typeof RATIOS)[number], Interval | null> {
  const side = (s: 'worker' | 'pgbench', picks: Uint32Array): Pooled => ({
    latency: pickedMerge(rounds.map((r) => r[s].latency), picks),
    lag: pickedMerge(rounds.map((r) => r[s].lag), picks),
  });
  return bootstrap(rounds.length, (picks) => pooledRatios(side('worker', picks), side('pgbench', picks)), { resamples, strata: rounds.map((r) => (r.pgbenchFirst ? 0 : 1)) });
}

/**
 * Rounds in which a side fell so far behind its schedule that it skipped transactions: the rate
 * was beyond what that side could hold there, and its ratios measure that more than its overhead.
 */
export function behind(rounds: readonly Pick<Round, 'worker' | 'pgbench'>[]): string {
  const parts: string[] = [];
  for (const side of ['worker', 'pgbench'] as const) {
    const skipped = rounds.map((r) => r[side].skipped).filter((n) => n > 0);
    if (skipped.length) parts.push(`${side} fell behind in ${skipped.length} of ${rounds.length} rounds (skipped ${skipped.join(', ')})`);
  }
  return parts.length ? `; ${parts.join('; ')}` : '';
}

export async function sideBySide(o: SideBySideOptions): Promise<{ rows: Row[]; details: unknown; spread: Series['spread'] }> {
  const { cluster } = o;
  const admin = new pg.Client({ ...cluster.writer, user: cluster.user, password: cluster.password, database: cluster.database });
  await admin.connect();
  const scale = await currentScale(admin);
  const script = path.join(PROJECT_WORKLOADS_DIR, 'tpcb', `${OP}.sql`);
  const prepare = async (): Promise<void> => {
    // What pgbench does before a run without -n, then a CHECKPOINT: no run pays for the one before.
    await admin.query('VACUUM pgbench_branches, pgbench_tellers');
    await admin.query('TRUNCATE pgbench_history');
    await admin.query('CHECKPOINT');
  };
  let pinned = false;
  const pgbenchArgs = (): Omit<Parameters<typeof runPgbench>[0], 'seconds'> => ({
    bin: o.pgbench, ...cluster.writer, user: cluster.user, password: cluster.password, database: cluster.database, clients: o.clients,
    extra: ['-f', script, '-s', String(scale)], ...(pinned ? { cpus: '0' } : {}),
  });

  let closedLoopTps = o.closedLoopTps;
  if (closedLoopTps === undefined) {
    await prepare();
    closedLoopTps = (await runPgbench({ ...pgbenchArgs(), seconds: 5 })).tps;
  }

  const logDir = mkdtempSync(path.join(os.tmpdir(), 'bench-pgbench-log-'));
  const engine = await LocalEngine.start({ servers: parseServerUrls(urlOf(cluster, 'writer'), urlOf(cluster, 'reader'))!, poolMax: o.clients });
  const mix = [{ op: OP, weight: 1 }];
  let runs = 0;

  const runPgbenchSide = async (rate: number, seconds: number): Promise<Side & { pooled: Pooled }> => {
    const prefix = path.join(logDir, `run${runs++}`);
    const r = await runPgbench({ ...pgbenchArgs(), seconds, threads: 1, rate, logPrefix: prefix });
    if (r.failed > 0) throw new Error(`pgbench had ${r.failed} failed transactions at ${rate}/s`);
    const latency = new Histogram();
    const lag = new Histogram();
    let skipped = 0;
    for (const f of readdirSync(logDir).filter((n) => n.startsWith(`${path.basename(prefix)}.`))) {
      const parsed = parsePgbenchLog(readFileSync(path.join(logDir, f), 'utf8'));
      for (const x of parsed.latencyMs) latency.record(x);
      for (const x of parsed.lagMs) lag.record(x);
      skipped += parsed.skipped;
    }
    return { ...sideOf(latency, lag, skipped, (r.cpuMs * 1000) / r.transactions), pooled: { latency, lag } };
  };

  const runWorkerSide = async (rate: number, seconds: number): Promise<Side & { pooled: Pooled }> => {
    const runId = `bench-side-${runs++}`;
    const plan = planSlices(
      { runId, workload: 'tpcb', mix, hashes: hashesOf('tpcb', mix), rate, durationMs: seconds * 1000, rampMs: 0 },
      { workers: 1, maxWorkerRate: SLICE_DEFAULTS.maxWorkerRate, startLeadMs: RUN_DEFAULTS.startLeadMs.local, sliceMs: SLICE_DEFAULTS.sliceMs },
    );
    engine.sink.invocations.length = 0;
    const gcPauses: number[] = [];
    const gc = new PerformanceObserver((list) => { for (const e of list.getEntries()) gcPauses.push(e.duration); });
    gc.observe({ entryTypes: ['gc'] });
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const waits0 = { ...systemWait.stats };
    const cpu0 = process.cpuUsage();
    await new Sender(plan, new LocalTransport(engine.queue), { clock: systemClock }).run();
    await engine.idle(plan.startLeadMs + plan.loadDurationMs + 60_000);
    const cpu = process.cpuUsage(cpu0);
    gc.disconnect();
    loop.disable();
    const precise = systemWait.stats.precise - waits0.precise + systemWait.stats.nudged - waits0.nudged + systemWait.stats.blocked - waits0.blocked;
    const coarse = systemWait.stats.coarse - waits0.coarse;
    const turnMs = systemWait.stats.turnMs - waits0.turnMs;
    const latency = new Histogram();
    const lag = new Histogram();
    let errors = 0;
    let skipped = 0;
    for (const inv of engine.sink.invocations) {
      for (const s of inv.series) {
        if (s.runId !== runId) continue;
        for (const b of s.seconds.values()) {
          latency.merge(b.latency);
          lag.merge(b.lag);
          skipped += b.skipped;
          for (const n of b.errors.values()) errors += n;
        }
      }
    }
    engine.sink.invocations.length = 0;
    if (errors > 0) throw new Error(`the worker had ${errors} failed transactions at ${rate}/s`);
    return {
      ...sideOf(latency, lag, skipped, (cpu.user + cpu.system) / latency.count, {
        turnUsPerTx: round((turnMs * 1000) / latency.count, 0),
        preciseStartsPct: round((100 * precise) / Math.max(1, precise + coarse), 1),
        loopDelayMaxMs: round(loop.max / 1e6, 1),
        gcPauseMaxMs: round(Math.max(0, ...gcPauses), 1),
        gcPauseTotalMs: round(gcPauses.reduce((a, b) => a + b, 0), 0),
      }),
      pooled: { latency, lag },
    };
  };

  const series = async (rate: number, why: string): Promise<Series> => {
    o.log(`  ${rate}/s (${why}), ${o.rounds} rounds of ${o.seconds} s per side...`);
    await prepare();
    await runPgbenchSide(rate, WARMUP_S);
    await prepare();
    await runWorkerSide(rate, WARMUP_S);
    const rounds: Round[] = [];
    const pooled = { worker: { latency: new Histogram(), lag: new Histogram() }, pgbench: { latency: new Histogram(), lag: new Histogram() } };
    const perRound: Array<{ worker: Pooled; pgbench: Pooled; pgbenchFirst: boolean }> = [];
    for (let i = 0; i < o.rounds; i++) {
      // Alternate which side goes first, so a drift of the machine over a round favours neither.
      const pgbenchFirst = i % 2 === 0;
      const window = cpuWindow();
      let p: Side | undefined;
      let w: Side | undefined;
      const parted: Partial<Record<'worker' | 'pgbench', Pooled>> = {};
      for (const side of pgbenchFirst ? ['pgbench', 'worker'] : ['worker', 'pgbench']) {
        await prepare();
        const { pooled: parts, ...measured } = side === 'pgbench' ? await runPgbenchSide(rate, o.seconds) : await runWorkerSide(rate, o.seconds);
        const into = side === 'pgbench' ? pooled.pgbench : pooled.worker;
        into.latency.merge(parts.latency);
        into.lag.merge(parts.lag);
        parted[side as 'worker' | 'pgbench'] = parts;
        if (side === 'pgbench') p = measured;
        else w = measured;
      }
      const r: Round = {
        order: pgbenchFirst ? 'pgbench first' : 'worker first',
        pgbench: p!, worker: w!,
        latencyRatioP50: round(w!.latencyP50Ms / p!.latencyP50Ms, 3),
        latencyRatioP99: round(w!.latencyP99Ms / p!.latencyP99Ms, 3),
        lagRatioP99: round(w!.lagP99Ms / p!.lagP99Ms, 3),
        othersCpuPct: round(window().othersPct, 1),
      };
      rounds.push(r);
      perRound.push({ worker: parted.worker!, pgbench: parted.pgbench!, pgbenchFirst });
      o.log(`    round ${i + 1}/${o.rounds} (${r.order}), worker vs pgbench: latency p50 ${w!.latencyP50Ms} vs ${p!.latencyP50Ms} ms, p99 ${w!.latencyP99Ms} vs ${p!.latencyP99Ms} ms; `
        + `lag p50 ${w!.lagP50Ms} vs ${p!.lagP50Ms} ms, p99 ${w!.lagP99Ms} vs ${p!.lagP99Ms} ms; skipped ${w!.skipped} vs ${p!.skipped}; `
        + `client CPU/tx ${w!.cpuUsPerTx} vs ${p!.cpuUsPerTx} µs (${w!.turnUsPerTx} µs of it turning, ${w!.preciseStartsPct}% of starts precise); `
        + `worker's longest event-loop stall ${w!.loopDelayMaxMs} ms, GC pauses up to ${w!.gcPauseMaxMs} ms (${w!.gcPauseTotalMs} ms in all); others ${r.othersCpuPct}%`);
    }
    const ratios = pooledRatios(pooled.worker, pooled.pgbench);
    const intervals = pooledIntervals(perRound);
    const spread = Object.fromEntries(RATIOS.map((k) => [k, spreadOf(ratios[k], rounds.map((r) => r[k]), intervals[k])])) as Series['spread'];
    const percentiles = (x: Pooled): Series['pooled']['worker'] => ({
      latencyP50Ms: round(x.latency.percentile(50), 3), latencyP99Ms: round(x.latency.percentile(99), 3),
      lagP50Ms: round(x.lag.percentile(50), 3), lagP99Ms: round(x.lag.percentile(99), 3), transactions: x.latency.count,
    });
    const s: Series = { rate, why, pinned, rounds, pooled: { worker: percentiles(pooled.worker), pgbench: percentiles(pooled.pgbench) }, spread };
    o.log(`    pooled: latency p50 ${s.pooled.worker.latencyP50Ms} vs ${s.pooled.pgbench.latencyP50Ms} ms, p99 ${s.pooled.worker.latencyP99Ms} vs ${s.pooled.pgbench.latencyP99Ms} ms; lag p99 ${s.pooled.worker.lagP99Ms} vs ${s.pooled.pgbench.lagP99Ms} ms`
      + ` (ratios ${RATIOS.map((k) => `${spread[k].value} [${showInterval(spread[k].interval)}]`).join(', ')}, 95% bootstrap intervals over the rounds in brackets; medians of the rounds ${RATIOS.map((k) => spread[k].roundsMedian).join(', ')})`);
    return s;
  };

  const all: Series[] = [];
  try {
    // Half the closed-loop maximum: below saturation, where lag should be the client's and not the database's queue.
    all.push(await series(Math.max(10, Math.round(closedLoopTps / 2 / 10) * 10), `half of pgbench's closed-loop ${Math.round(closedLoopTps)} tps`));
    for (const rate of o.diagnosticRates ?? []) all.push(await series(rate, 'diagnostic'));
    if (o.pinnedDiagnostic && canPin()) {
      pinned = true;
      try {
        await withSplitCpus(cluster.pids, async () => {
          await prepare();
          const tps = (await runPgbench({ ...pgbenchArgs(), seconds: 5 })).tps;
          all.push(await series(Math.max(10, Math.round(tps / 2 / 10) * 10), `diagnostic, pinned: server on CPU 1, client on CPU 0; half of pgbench's closed-loop ${Math.round(tps)} tps so pinned`));
        });
      } finally {
        pinned = false;
      }
    }
  } finally {
    await engine.stop();
    await admin.end();
    rmSync(logDir, { recursive: true, force: true });
  }

  const rows: Row[] = [];
  for (const [i, s] of all.entries()) {
    const med = (f: (r: Round) => number): number => round(median(s.rounds.map(f)), 3);
    const others = median(s.rounds.map((r) => r.othersCpuPct));
    const { worker: pw, pgbench: pp } = s.pooled;
    const at = `${s.rate}/s${s.pinned ? ', pinned' : ''}`;
    const notes: Record<(typeof RATIOS)[number], string> = {
      latencyRatioP50: `worker ${pw.latencyP50Ms} ms vs pgbench -R ${pp.latencyP50Ms} ms; tpcb, ${o.clients} connections, ${s.rounds.length} alternating rounds of ${o.seconds} s per side pooled (${pw.transactions} and ${pp.transactions} transactions)`,
      latencyRatioP99: `worker ${pw.latencyP99Ms} ms vs pgbench ${pp.latencyP99Ms} ms`,
      lagRatioP99: `worker ${pw.lagP99Ms} ms vs pgbench ${pp.lagP99Ms} ms (p50 ${pw.lagP50Ms} vs ${pp.lagP50Ms}); client CPU/tx ${med((r) => r.worker.cpuUsPerTx)} µs (${med((r) => r.worker.turnUsPerTx ?? 0)} turning) vs ${med((r) => r.pgbench.cpuUsPerTx)} µs${behind(s.rounds)}`,
    };
    for (const k of RATIOS) {
      rows.push(makeRow(k, s.spread[k].value, '', i === 0 ? { kind: 'atMost', limit: GOALS[k] } : undefined, {
        at, note: `${i === 0 ? '' : 'diagnostic; '}95% bootstrap ${showInterval(s.spread[k].interval)}; rounds ${s.spread[k].min}-${s.spread[k].max} (median ${s.spread[k].roundsMedian}); ${notes[k]}`, othersCpuPct: others,
      }));
    }
  }
  return {
    rows,
    spread: all[0]!.spread,
    details: {
      method: `pgbench -n -c ${o.clients} -j 1 -R <rate> -T ${o.seconds} -M prepared -f workloads/tpcb/${OP}.sql -s ${scale} --log, against the local engine (one worker, one slice of ${OP} at <rate>, pool of ${o.clients}); alternating which goes first, VACUUM + TRUNCATE history + CHECKPOINT before each run; each figure ours / pgbench of the percentile over all rounds pooled per side (every transaction of a side in one histogram), with its 95% percentile-bootstrap interval (2,000 resamples of the rounds, in pairs, within the rounds that went pgbench first and those that went worker first) and the per-round ratios' median and range`,
      closedLoopTps: round(closedLoopTps, 1), clients: o.clients, seconds: o.seconds,
      pinnedMeans: 'all PostgreSQL processes on CPU 1, the client (pgbench, or the process running the worker) on CPU 0',
      series: all,
    },
  };
}
