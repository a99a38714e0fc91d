import { Histogram } from './histogram';
import type { InvocationMetrics, MessageFacts, OpSeries, SecondMetrics, ServerRole } from './types';
import type { Target, WorkloadName } from '../workloads/catalog';

/** Gathers what one invocation measures; {@link finish} hands it to the sink in one piece. */
export class Collector {
  private readonly series = new Map<string, OpSeries>();
  private readonly messages = new Map<string, MessageFacts>();

  /** The series for one (run, operation, target); created on first use. */
  op(runId: string, workload: WorkloadName, op: string, target: Target): OpSeries {
    const key = `${runId}\u0000${op}\u0000${target}`;
    let s = this.series.get(key);
    if (!s) {
      s = { runId, workload, op, target, latency: new Histogram(), lag: new Histogram(), errors: new Map(), answeredBy: new Map(), skipped: 0, perSecond: new Map(), outages: [], bySecond: new Map() };
      this.series.set(key, s);
    }
    return s;
  }

  run(runId: string): MessageFacts {
    let m = this.messages.get(runId);
    if (!m) {
      m = { runId, dwell: new Histogram(), ok: 0, failed: 0, invalid: 0 };
      this.messages.set(runId, m);
    }
    return m;
  }

  finish(at: number = Date.now()): InvocationMetrics {
    return { at, series: [...this.series.values()], messages: [...this.messages.values()] };
  }
}

/** The `perSecond` entry for epoch second `key`, created on first use. */
function countsAt(s: OpSeries, key: number): { ok: number; errors: number } {
  let c = s.perSecond.get(key);
  if (!c) s.perSecond.set(key, (c = { ok: 0, errors: 0 }));
  return c;
}

/**
 * The per-second bucket of `s` for epoch ms `at`, or undefined for a series built by hand (no
 * `bySecond`). One Map lookup per statement: the bucket also holds this second's `perSecond` entry.
 */
function bucketAt(s: OpSeries, at: number): SecondMetrics | undefined {
  const bySecond = s.bySecond;
  if (!bySecond) return undefined;
  const key = Math.floor(at / 1000);
  let b = bySecond.get(key);
  if (!b) {
    b = { counts: undefined, latency: new Histogram(), lag: new Histogram(), errors: new Map(), answeredBy: { primary: 0, standby: 0 }, skipped: 0 };
    bySecond.set(key, b);
  }
  return b;
}

/** This second's ok/errors counts: the bucket's, or the `perSecond` entry it then shares. */
function countsOf(s: OpSeries, b: SecondMetrics | undefined, at: number): { ok: number; errors: number } {
  if (b?.counts) return b.counts;
  const c = countsAt(s, Math.floor(at / 1000));
  if (b) b.counts = c;
  return c;
}

/**
 * A statement that succeeded at `at` (epoch ms) after `latencyMs`, answered by a `role` server;
 * `lagMs`, for a slice statement, is how late it started.
 */
export function recordSuccess(s: OpSeries, latencyMs: number, role: ServerRole, at: number = Date.now(), lagMs?: number): void {
  s.latency.record(latencyMs);
  s.answeredBy.set(role, (s.answeredBy.get(role) ?? 0) + 1);
  const b = bucketAt(s, at);
  countsOf(s, b, at).ok += 1;
  if (b) {
    b.latency.record(latencyMs);
    b.answeredBy[role] += 1;
  }
  if (lagMs !== undefined) {
    s.lag.record(lagMs);
    b?.lag.record(lagMs);
  }
  const open = s.outages[s.outages.length - 1];
  if (open && open.to === null) open.to = at;
}

/**
 * A statement that failed at `at` (epoch ms) with an error of SQLSTATE class `errorClass`;
 * `lagMs` when it was a slice statement that had started.
 */
export function recordError(s: OpSeries, errorClass: string, at: number = Date.now(), lagMs?: number): void {
  s.errors.set(errorClass, (s.errors.get(errorClass) ?? 0) + 1);
  const b = bucketAt(s, at);
  countsOf(s, b, at).errors += 1;
  b?.errors.set(errorClass, (b.errors.get(errorClass) ?? 0) + 1);
  if (lagMs !== undefined) {
    s.lag.record(lagMs);
    b?.lag.record(lagMs);
  }
  const last = s.outages[s.outages.length - 1];
  if (!last || last.to !== null) s.outages.push({ from: at, to: null });
}

/** A slice statement skipped at `at` (epoch ms): it could not start in time. Not in `perSecond`. */
export function recordSkip(s: OpSeries, at: number = Date.now()): void {
  s.skipped += 1;
  const b = bucketAt(s, at);
  if (b) b.skipped += 1;
}
