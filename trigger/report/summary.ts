import { Histogram } from '../../handlers/metrics/histogram';
import type { InvocationMetrics, ServerRole } from '../../handlers/metrics/types';
import type { Target } from '../../handlers/workloads/catalog';
import type { OutageAnalysis } from '../drills/outage';

/** Latency-like statistics, ms. pgbench's average and standard deviation, k6's percentiles. */
export interface Stats {
  readonly count: number;
  readonly avg: number;
  /** null when the source cannot tell (CloudWatch keeps no sum of squares). */
  readonly stddev: number | null;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** One row of the summary: one operation on one target. */
export interface OpSummary {
  readonly op: string;
  readonly target: Target;
  /** Statements that succeeded. */
  readonly ok: number;
  /** Statements that failed. */
  readonly errors: number;
  /** Failed statements by SQLSTATE class ("08", "25", "57", ...). */
  readonly errorsByClass: Readonly<Record<string, number>>;
  /** Slice statements skipped: they could not start within the late limit (pgbench -L). */
  readonly skipped: number;
  /** Successful statements per second over the load. */
  readonly throughput: number;
  /** Latency of successful statements (slices: from the scheduled start). */
  readonly latency: Stats | null;
  /** Actual start minus scheduled start (slice mode). */
  readonly scheduleLag: Stats | null;
  /** Successful statements by the role of the server that answered them. */
  readonly answeredBy: Readonly<Record<ServerRole, number>>;
}

export interface RunSummary {
  readonly version: 1;
  readonly runId: string;
  /** Where the numbers come from. */
  readonly source: 'local' | 'cloudwatch';
  readonly workload: string;
  readonly mode: 'statements' | 'slice';
  /** The mix as percentages, e.g. "select=80%,insert=20%". */
  readonly mix: string;
  /** ISO time the load started. */
  readonly startedAt: string;
  /** The load's length, ms: as planned, or up to the interrupt. */
  readonly durationMs: number;
  readonly interrupted: boolean;
  readonly target: {
    /** The rate asked for (`--rate`), statements per second. */
    readonly rate: number;
    /** The average planned rate (below `rate` during a ramp). */
    readonly averageRate: number;
    readonly statements: number;
  };
  readonly achieved: {
    /** Statements attempted (succeeded + failed). */
    readonly statements: number;
    /** Attempted statements per second over the load. */
    readonly rate: number;
    /** (achieved - planned average) / planned average, in percent. */
    readonly rateErrorPct: number;
  };
  readonly totals: {
    readonly ok: number;
    readonly errors: number;
    readonly skipped: number;
    /** Failed / attempted, in percent. */
    readonly errorRatePct: number;
  };
  readonly operations: readonly OpSummary[];
  readonly messages: {
    readonly sent: number;
    readonly ok: number;
    readonly failed: number;
    readonly invalid: number;
    /** Messages in the dead-letter queue at the end (local: exact; AWS: the whole DLQ). */
    readonly deadLettered: number | null;
    /** Queue dwell: worker receipt minus the trigger's sentAt. */
    readonly dwell: Stats | null;
  };
  readonly send?: {
    readonly calls: number;
    readonly retries: number;
    readonly throttled: number;
    readonly failedEntries: number;
    readonly lost: number;
    /** The most a message left after its scheduled time, ms. */
    readonly maxLateMs: number;
  };
  /** Replication lag of the standby at the end (local runs). */
  readonly replicaLag?: { readonly bytes: number; readonly ms: number | null } | null;
  /** Anything the reader should know about how these numbers were obtained. */
  readonly notes: readonly string[];
  /** The failover drill (`--failover-at`): when it happened and what it cost the clients. */
  readonly failover?: FailoverReport;
}

/** A failover drill's outcome, as the summary carries it. */
export interface FailoverReport {
  /** Epoch ms the failover was started and finished (the new writer accepted writes). */
  readonly startedAt: number;
  readonly completedAt: number;
  /** The writer before and after (AWS: instance identifiers; local: ports). */
  readonly from?: string;
  readonly to?: string;
  /** Undefined when the run ended before the failover finished or nothing could be analysed. */
  readonly analysis?: OutageAnalysis;
}

/** Facts about a run that the metrics cannot tell. */
export interface RunContext {
  readonly runId: string;
  readonly workload: string;
  readonly mode: 'statements' | 'slice';
  readonly mix: string;
  readonly startedAt: number;
  readonly durationMs: number;
  readonly interrupted: boolean;
  readonly rate: number;
  readonly averageRate: number;
  readonly plannedStatements: number;
  readonly messagesSent: number;
  readonly deadLettered: number | null;
  readonly send?: RunSummary['send'];
  readonly replicaLag?: RunSummary['replicaLag'];
  readonly notes?: readonly string[];
  readonly failover?: FailoverReport;
}

export function histogramStats(h: Histogram): Stats | null {
  if (h.count === 0) return null;
  return { count: h.count, avg: h.mean, stddev: h.stddev, p50: h.percentile(50), p90: h.percentile(90), p99: h.percentile(99), max: h.max };
}

interface Acc {
  op: string;
  target: Target;
  latency: Histogram;
  lag: Histogram;
  errors: Map<string, number>;
  answeredBy: Map<ServerRole, number>;
  skipped: number;
}

/**
 * Aggregate the workers' per-invocation metrics for one run into its summary: histograms merged
 * per (operation, target), errors by class, skips, who answered, queue dwell and message outcomes.
 * Metrics of other runs are ignored. Pure: the same input gives the same summary.
 */
export function summarize(invocations: readonly InvocationMetrics[], ctx: RunContext): RunSummary {
  const rows = new Map<string, Acc>();
  const dwell = new Histogram();
  let okMsgs = 0;
  let failedMsgs = 0;
  let invalidMsgs = 0;
  for (const inv of invocations) {
    for (const s of inv.series) {
      if (s.runId !== ctx.runId) continue;
      const key = `${s.op}\u0000${s.target}`;
      let acc = rows.get(key);
      if (!acc) {
        acc = { op: s.op, target: s.target, latency: new Histogram(), lag: new Histogram(), errors: new Map(), answeredBy: new Map(), skipped: 0 };
        rows.set(key, acc);
      }
      acc.latency.merge(s.latency);
      acc.lag.merge(s.lag);
      for (const [cls, n] of s.errors) acc.errors.set(cls, (acc.errors.get(cls) ?? 0) + n);
      for (const [role, n] of s.answeredBy) acc.answeredBy.set(role, (acc.answeredBy.get(role) ?? 0) + n);
      acc.skipped += s.skipped;
    }
    for (const m of inv.messages) {
      if (m.runId !== ctx.runId) continue;
      dwell.merge(m.dwell);
      okMsgs += m.ok;
      failedMsgs += m.failed;
      invalidMsgs += m.invalid;
    }
  }
  const seconds = ctx.durationMs / 1000;
  const operations: OpSummary[] = [...rows.values()]
    .sort((a, b) => a.target.localeCompare(b.target) || a.op.localeCompare(b.op))
    .map((a) => {
      const errors = [...a.errors.values()].reduce((x, y) => x + y, 0);
      return {
        op: a.op,
        target: a.target,
        ok: a.latency.count,
        errors,
        errorsByClass: Object.fromEntries([...a.errors].sort(([x], [y]) => x.localeCompare(y))),
        skipped: a.skipped,
        throughput: seconds > 0 ? a.latency.count / seconds : 0,
        latency: histogramStats(a.latency),
        scheduleLag: histogramStats(a.lag),
        answeredBy: { primary: a.answeredBy.get('primary') ?? 0, standby: a.answeredBy.get('standby') ?? 0 },
      };
    });
  return assemble(ctx, 'local', operations, {
    ok: okMsgs, failed: failedMsgs, invalid: invalidMsgs, dwell: histogramStats(dwell),
  });
}

/** Totals, achieved rate and the rest, from the rows: shared by the local and CloudWatch paths. */
export function assemble(
  ctx: RunContext,
  source: RunSummary['source'],
  operations: OpSummary[],
  messages: { ok: number; failed: number; invalid: number; dwell: Stats | null },
): RunSummary {
  const ok = operations.reduce((s, o) => s + o.ok, 0);
  const errors = operations.reduce((s, o) => s + o.errors, 0);
  const skipped = operations.reduce((s, o) => s + o.skipped, 0);
  const attempted = ok + errors;
  const seconds = ctx.durationMs / 1000;
  const rate = seconds > 0 ? attempted / seconds : 0;
  return {
    version: 1,
    runId: ctx.runId,
    source,
    workload: ctx.workload,
    mode: ctx.mode,
    mix: ctx.mix,
    startedAt: new Date(ctx.startedAt).toISOString(),
    durationMs: ctx.durationMs,
    interrupted: ctx.interrupted,
    target: { rate: ctx.rate, averageRate: ctx.averageRate, statements: ctx.plannedStatements },
    achieved: {
      statements: attempted,
      rate,
      rateErrorPct: ctx.averageRate > 0 ? (100 * (rate - ctx.averageRate)) / ctx.averageRate : 0,
    },
    totals: { ok, errors, skipped, errorRatePct: attempted > 0 ? (100 * errors) / attempted : 0 },
    operations,
    messages: { sent: ctx.messagesSent, ...messages, deadLettered: ctx.deadLettered },
    ...(ctx.send ? { send: ctx.send } : {}),
    ...(ctx.replicaLag !== undefined ? { replicaLag: ctx.replicaLag } : {}),
    notes: ctx.notes ?? [],
    ...(ctx.failover ? { failover: ctx.failover } : {}),
  };
}
