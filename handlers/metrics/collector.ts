import { errorClassFor, SERVER_ROLES, type ServerRole } from '../contract';
import { Histogram } from './histogram';
import type { InvocationMetrics, MessageFacts, OpSeries, SecondMetrics, StalenessSecond, StalenessSeries } from './types';
import type { Target, WorkloadName } from '../workloads/catalog';

/**
 * Gathers what one invocation measures; {@link finish} hands it to the sink at the end, and a long
 * invocation hands over the seconds that are over on the way ({@link takeFinished}).
 */
export class Collector {
  private readonly series = new Map<string, OpSeries>();
  private readonly messages = new Map<string, MessageFacts>();
  private readonly probes = new Map<string, StalenessSeries>();

  /** The series for one (run, operation, target); created on first use. */
  op(runId: string, workload: WorkloadName, op: string, target: Target): OpSeries {
    const key = `${runId}\u0000${op}\u0000${target}`;
    let s = this.series.get(key);
    if (!s) {
      s = { runId, workload, op, target, seconds: new Map() };
      this.series.set(key, s);
    }
    return s;
  }

  /** The message facts of one run in this invocation; created on first use. */
  run(runId: string): MessageFacts {
    let m = this.messages.get(runId);
    if (!m) {
      m = { runId, dwell: new Histogram(), ok: 0, failed: 0, invalid: 0, duplicate: 0, deadLettered: 0, senderAheadMs: 0 };
      this.messages.set(runId, m);
    }
    return m;
  }

  /** The staleness markers of one run in this invocation; created on first use. */
  staleness(runId: string): StalenessSeries {
    let s = this.probes.get(runId);
    if (!s) this.probes.set(runId, (s = { runId, seconds: new Map() }));
    return s;
  }

  /**
   * Take out every second that is over at `now` (epoch ms): statements are recorded in the second
   * they end in, so nothing more lands in an earlier one, and those seconds can be published while
   * the invocation runs on. A statement recorded late into a second already taken starts that
   * second afresh, to be published later: CloudWatch adds up the datums of one second whichever
   * request brought them. Message facts stay until {@link finish}. Undefined when nothing is over.
   */
  takeFinished(now: number): InvocationMetrics | undefined {
    const before = Math.floor(now / 1000);
    const take = <B>(seconds: Map<number, B>): Map<number, B> => {
      const out = new Map<number, B>();
      for (const [sec, b] of seconds) {
        if (sec < before) {
          out.set(sec, b);
          seconds.delete(sec);
        }
      }
      return out;
    };
    const series = [...this.series.values()].map((s) => ({ ...s, seconds: take(s.seconds) })).filter((s) => s.seconds.size > 0);
    const staleness = [...this.probes.values()].map((p) => ({ ...p, seconds: take(p.seconds) })).filter((p) => p.seconds.size > 0);
    if (!series.length && !staleness.length) return undefined;
    return { at: now, series, messages: [], ...(staleness.length ? { staleness } : {}) };
  }

  /** Put back what {@link takeFinished} took when publishing it failed: the final publish carries it. */
  putBack(m: InvocationMetrics): void {
    for (const s of m.series) {
      const into = this.op(s.runId, s.workload, s.op, s.target);
      for (const [sec, b] of s.seconds) mergeSecond(secondOf(into, sec * 1000), b);
    }
    for (const p of m.staleness ?? []) {
      const into = this.staleness(p.runId);
      for (const [sec, b] of p.seconds) {
        const to = markerSecond(into, sec * 1000);
        to.staleness.merge(b.staleness);
        to.unseen += b.unseen;
        to.failed += b.failed;
      }
    }
  }

  finish(at: number): InvocationMetrics {
    return {
      at, series: [...this.series.values()], messages: [...this.messages.values()],
      ...(this.probes.size ? { staleness: [...this.probes.values()] } : {}),
    };
  }
}

/** The bucket of `s` for the wall-clock second of epoch ms `at`, created on first use. */
function secondOf(s: OpSeries, at: number): SecondMetrics {
  const key = Math.floor(at / 1000);
  let b = s.seconds.get(key);
  if (!b) {
    b = emptySecond();
    s.seconds.set(key, b);
  }
  return b;
}

/** One second of one operation with nothing recorded yet. */
export function emptySecond(): SecondMetrics {
  return { latency: new Histogram(), lag: new Histogram(), errors: new Map(), answeredBy: { primary: 0, standby: 0 }, skipped: 0 };
}

/** Add second `from` to second `to`: what two invocations (or two publishes) measured in the same second. */
export function mergeSecond(to: SecondMetrics, from: SecondMetrics): void {
  to.latency.merge(from.latency);
  to.lag.merge(from.lag);
  for (const [cls, n] of from.errors) to.errors.set(cls, (to.errors.get(cls) ?? 0) + n);
  for (const role of SERVER_ROLES) to.answeredBy[role] += from.answeredBy[role];
  to.skipped += from.skipped;
}

/**
 * A statement that succeeded at `at` (epoch ms) after `latencyMs`, answered by a `role` server;
 * `lagMs`, for a slice statement, is how late it started.
 */
export function recordSuccess(s: OpSeries, latencyMs: number, role: ServerRole, at: number, lagMs?: number): void {
  const b = secondOf(s, at);
  b.latency.record(latencyMs);
  b.answeredBy[role] += 1;
  if (lagMs !== undefined) b.lag.record(lagMs);
}

/**
 * A statement that failed at `at` (epoch ms) with an error of SQLSTATE class `sqlstateClass`
 * ("08", "25", ..., or "client"), counted under its published class (contract.ts); `lagMs` when it
 * was a slice statement that had started.
 */
export function recordError(s: OpSeries, sqlstateClass: string, at: number, lagMs?: number): void {
  const b = secondOf(s, at);
  const cls = errorClassFor(sqlstateClass);
  b.errors.set(cls, (b.errors.get(cls) ?? 0) + 1);
  if (lagMs !== undefined) b.lag.record(lagMs);
}

/** A slice statement skipped at `at` (epoch ms): it could not start in time. */
export function recordSkip(s: OpSeries, at: number): void {
  secondOf(s, at).skipped += 1;
}

function markerSecond(s: StalenessSeries, at: number): StalenessSecond {
  const key = Math.floor(at / 1000);
  let b = s.seconds.get(key);
  if (!b) s.seconds.set(key, (b = { staleness: new Histogram(), unseen: 0, failed: 0 }));
  return b;
}

/** A staleness marker seen on the reader at `at` (epoch ms), `ms` after its commit was acknowledged. */
export function recordStaleness(s: StalenessSeries, ms: number, at: number): void {
  markerSecond(s, at).staleness.record(ms);
}

/** A marker that was not seen in time (`unseen`) or not written (`failed`), at `at` (epoch ms). */
export function recordMarkerLost(s: StalenessSeries, outcome: 'unseen' | 'failed', at: number): void {
  markerSecond(s, at)[outcome] += 1;
}
