import { Histogram } from './histogram';
import type { InvocationMetrics, MessageFacts, OpSeries, ServerRole } from './types';
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
      s = { runId, workload, op, target, latency: new Histogram(), lag: new Histogram(), errors: new Map(), answeredBy: new Map(), skipped: 0, perSecond: new Map(), outages: [] };
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

function second(s: OpSeries, at: number): { ok: number; errors: number } {
  const key = Math.floor(at / 1000);
  let b = s.perSecond.get(key);
  if (!b) s.perSecond.set(key, (b = { ok: 0, errors: 0 }));
  return b;
}

/** A statement that succeeded at `at` (epoch ms) after `latencyMs`, answered by a `role` server. */
export function recordSuccess(s: OpSeries, latencyMs: number, role: ServerRole, at: number = Date.now()): void {
  s.latency.record(latencyMs);
  s.answeredBy.set(role, (s.answeredBy.get(role) ?? 0) + 1);
  second(s, at).ok += 1;
  const open = s.outages[s.outages.length - 1];
  if (open && open.to === null) open.to = at;
}

/** A statement that failed at `at` (epoch ms) with an error of SQLSTATE class `errorClass`. */
export function recordError(s: OpSeries, errorClass: string, at: number = Date.now()): void {
  s.errors.set(errorClass, (s.errors.get(errorClass) ?? 0) + 1);
  second(s, at).errors += 1;
  const last = s.outages[s.outages.length - 1];
  if (!last || last.to !== null) s.outages.push({ from: at, to: null });
}
