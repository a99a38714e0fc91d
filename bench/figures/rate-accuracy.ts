/**
 * rateErrorPct and scheduleLagP99Ms: how exactly the whole local system holds a rate. The
 * trigger's own slice planner and open-loop sender put the plan into the local engine's queue; the
 * poller hands the slices to the real worker, which runs them against the local writer and
 * standby; the summary is the trigger's own (achieved rate = statements attempted over the load's
 * duration, against the planned average) and the lag is the worker's ScheduleLag histogram of all
 * slices, merged.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { systemClock } from '../../handlers/clock';
import { Histogram } from '../../handlers/metrics/histogram';
import { LocalEngine } from '../../trigger/local/engine';
import type { LocalCluster } from '../../trigger/local/cluster';
import { hashesOf, parseMix } from '../../trigger/options/mix';
import { parseServerUrls } from '../../trigger/options/postgres-url';
import { RUN_DEFAULTS } from '../../trigger/options/run-options';
import { planSlices, SLICE_DEFAULTS } from '../../trigger/plan/slice-plan';
import type { Timeline } from '../../trigger/report/run-record';
import { measureInvocations } from '../../trigger/report/timeline';
import { LocalTransport } from '../../trigger/send/local-transport';
import { Sender } from '../../trigger/send/sender';
import { settle, urlOf } from '../lib/bench-worker';
import { cpuWindow } from '../lib/proc';
import { makeRow, round, type Row } from '../lib/report';

const MIX = 'read=80,write=20';
/** Unmeasured load before each run (see below). */
const WARMUP_MS = 4_000;

interface RateRun {
  readonly rate: number;
  readonly workers: number;
  readonly durationMs: number;
  readonly planned: number;
  readonly attempted: number;
  readonly ok: number;
  readonly errors: number;
  readonly skipped: number;
  readonly rateErrorPct: number;
  readonly scheduleLagP99Ms: number;
  readonly scheduleLagMaxMs: number;
  readonly latencyP99Ms: Record<string, number>;
  readonly scheduleLagP99MsByOp: Record<string, number>;
  /** The largest distance of one full second's attempted statements from the target, %. */
  readonly worstSecondPct: number;
  readonly othersCpuPct: number;
  /** CPU used meanwhile by this process (trigger, queue, poller, worker), in cores. */
  readonly clientCores: number;
  /** CPU used meanwhile by everything this benchmark started (the PostgreSQL servers included), in cores. */
  readonly allOursCores: number;
  /** Event-loop delay of this process (perf_hooks, 1 ms resolution): how late any timer could fire. */
  readonly eventLoopDelayMs: { readonly p50: number; readonly p99: number; readonly max: number };
}

/** Attempted statements per wall-clock second of a run's timeline, over the seconds fully inside [from, to). */
function secondsInside(t: Timeline, from: number, to: number): number[] {
  const attempted = (i: number): number => t.series.reduce((n, s) => n + (s.ok[i] ?? 0) + Object.values(s.errors).reduce((e, c) => e + (c[i] ?? 0), 0), 0);
  const out: number[] = [];
  for (let sec = Math.ceil(from / 1000); (sec + 1) * 1000 <= to; sec++) out.push(attempted(sec - t.startMs / 1000));
  return out;
}

export async function rateAccuracy(o: {
  cluster: LocalCluster;
  /** Connections per endpoint of the engine's worker. @default the worker's default */
  poolMax?: number;
  rates: readonly number[];
  durationMs: number;
  log: (line: string) => void;
}): Promise<{ rows: Row[]; details: unknown }> {
  const startLeadMs = RUN_DEFAULTS.startLeadMs.local;
  const mix = parseMix(MIX, 'tpcb', new Set(['read', 'write']), false);
  const maxWorkers = Math.max(...o.rates.map((r) => Math.ceil(r / SLICE_DEFAULTS.maxWorkerRate)));
  // Enough concurrency for every worker and a few handing over, already scaled up; a slice stays
  // in flight for lead + slice.
  const engine = await LocalEngine.start({
    servers: parseServerUrls(urlOf(o.cluster, 'writer'), urlOf(o.cluster, 'reader'))!,
    maxConcurrency: Math.max(4, 2 * maxWorkers),
    scaleUp: null,
    ...(o.poolMax !== undefined ? { poolMax: o.poolMax } : {}),
    visibilityTimeoutMs: startLeadMs + SLICE_DEFAULTS.sliceMs + 30_000,
  });
  const runs: RateRun[] = [];
  try {
    const send = async (runId: string, rate: number, durationMs: number): Promise<{ plan: ReturnType<typeof planSlices>; t0: number }> => {
      const plan = planSlices(
        { runId, workload: 'tpcb', mix, hashes: hashesOf('tpcb', mix), rate, durationMs, rampMs: 0 },
        { maxWorkerRate: SLICE_DEFAULTS.maxWorkerRate, startLeadMs, sliceMs: SLICE_DEFAULTS.sliceMs },
      );
      const transport = new LocalTransport(engine.queue);
      let t0 = systemClock.now();
      await new Sender(plan, transport, { clock: systemClock, onStart: (t) => { t0 = t; } }).run();
      await engine.idle(plan.startLeadMs + plan.loadDurationMs + 60_000);
      return { plan, t0 };
    };
    for (const rate of o.rates) {
      const runId = `bench-rate-${rate}`;
      // Every run starts from the same state: checkpointed, the standby caught up, and then a few
      // seconds of the same load (not measured) to take the burst of full-page writes that follows
      // a checkpoint and to open the pool's connections.
      await settle(o.cluster);
      await send(`${runId}-warmup`, rate, WARMUP_MS);
      engine.sink.invocations.length = 0;
      const window = cpuWindow();
      const cpu0 = process.cpuUsage();
      const loop = monitorEventLoopDelay({ resolution: 1 });
      loop.enable();
      const { plan, t0 } = await send(runId, rate, o.durationMs);
      const cpu = window();
      const client = process.cpuUsage(cpu0);
      loop.disable();
      const loadStart = t0 + plan.startLeadMs;
      const { timeline, distributions } = measureInvocations(engine.sink.invocations, runId, loadStart, loadStart + o.durationMs);
      const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
      const ok = sum(timeline.series.map((s) => sum(s.ok)));
      const errors = sum(timeline.series.map((s) => sum(Object.values(s.errors).map(sum))));
      const skipped = sum(timeline.series.map((s) => sum(s.skipped)));
      const attempted = ok + errors;
      // The lag of all slices together: every second's histogram of every operation, merged.
      const lag = new Histogram();
      for (const inv of engine.sink.invocations) for (const s of inv.series) if (s.runId === runId) for (const b of s.seconds.values()) lag.merge(b.lag);
      const perSecond = secondsInside(timeline, loadStart, loadStart + o.durationMs);
      const achievedRate = attempted / (o.durationMs / 1000);
      const worstSecondPct = perSecond.length ? Math.max(...perSecond.map((n) => Math.abs((100 * (n - rate)) / rate))) : NaN;
      const run: RateRun = {
        rate, workers: plan.workers, durationMs: o.durationMs, planned: plan.statements,
        attempted, ok, errors, skipped,
        rateErrorPct: round((100 * (achievedRate - plan.averageRate)) / plan.averageRate, 3),
        scheduleLagP99Ms: round(lag.percentile(99), 2),
        scheduleLagMaxMs: round(lag.max, 1),
        latencyP99Ms: Object.fromEntries(distributions.series.map((op) => [op.op, round(op.latency?.p99 ?? NaN, 2)])),
        scheduleLagP99MsByOp: Object.fromEntries(distributions.series.map((op) => [op.op, round(op.scheduleLag?.p99 ?? NaN, 2)])),
        worstSecondPct: round(worstSecondPct, 1),
        othersCpuPct: round(cpu.othersPct, 1),
        clientCores: round((client.user + client.system) / 1000 / cpu.wallMs, 2),
        allOursCores: round(cpu.oursMs / cpu.wallMs, 2),
        eventLoopDelayMs: { p50: round(loop.percentile(50) / 1e6, 2), p99: round(loop.percentile(99) / 1e6, 2), max: round(loop.max / 1e6, 1) },
      };
      runs.push(run);
      o.log(`  ${rate}/s: ${run.attempted} of ${run.planned} statements (${run.rateErrorPct}%), ${run.skipped} skipped, ${run.errors} errors, lag p99 ${run.scheduleLagP99Ms} ms (${JSON.stringify(run.scheduleLagP99MsByOp)}), latency p99 ${JSON.stringify(run.latencyP99Ms)}, worst second ${run.worstSecondPct}% off; CPU: client ${run.clientCores}, all ours ${run.allOursCores} cores, others ${run.othersCpuPct}%; event loop delay ${JSON.stringify(run.eventLoopDelayMs)}`);
      engine.sink.invocations.length = 0;
    }
  } finally {
    await engine.stop();
  }
  const rows: Row[] = [];
  for (const r of runs) {
    rows.push(makeRow('rateErrorPct', r.rateErrorPct, '%', { kind: 'within', limit: 1 }, {
      at: `${r.rate}/s`,
      note: `${r.attempted}/${r.planned} statements in ${r.durationMs / 1000} s, ${r.workers} slices at a time; worst full second ${r.worstSecondPct}% off`,
      othersCpuPct: r.othersCpuPct,
    }));
    // No goal: at these rates on two shared cores the lag is mostly the database's queue. Whether
    // the worker adds lag of its own is lagRatioP99's question (side by side with pgbench -R).
    rows.push(makeRow('scheduleLagP99Ms', r.scheduleLagP99Ms, 'ms', undefined, {
      at: `${r.rate}/s`,
      note: `diagnostic; by op ${Object.entries(r.scheduleLagP99MsByOp).map(([op, v]) => `${op} ${v}`).join(', ')} ms; max ${r.scheduleLagMaxMs} ms; statement p99 ${Object.entries(r.latencyP99Ms).map(([op, v]) => `${op} ${v}`).join(', ')} ms`,
      othersCpuPct: r.othersCpuPct,
    }));
  }
  return {
    rows,
    details: {
      method: `after a CHECKPOINT, the standby caught up and ${WARMUP_MS / 1000} s of the same load unmeasured; node trigger --local equivalent: tpcb, mix ${MIX}, slice mode (planSlices: ceil(rate/${SLICE_DEFAULTS.maxWorkerRate}) slices at a time, start lead ${startLeadMs} ms), Sender -> LocalQueue -> LocalPoller -> worker (pool ${engine.poolMax} per endpoint, shared by all local invocations) -> writer + hot standby`,
      runs,
    },
  };
}
