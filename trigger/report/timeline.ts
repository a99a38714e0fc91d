/**
 * The local backend's measurements: the worker's per-invocation metrics (each statement recorded
 * once, in the second it finished) merged into the run's timeline and whole-run distributions.
 */
import { ERROR_CLASS_NAMES, type ErrorClass, type ServerRole } from '../../handlers/contract';
import { emptySecond, mergeSecond } from '../../handlers/metrics/collector';
import { Histogram } from '../../handlers/metrics/histogram';
import type { InvocationMetrics } from '../../handlers/metrics/types';
import type { Target } from '../../handlers/workloads/catalog';
import { round } from '../round';
import type { StepStats, Timeline, TimelineSeries } from './run-record';
import { histogramStats, type Measured } from './summary';

/** A histogram's step statistics, to the microsecond. */
export function stepStats(h: Histogram): StepStats | null {
  if (h.count === 0) return null;
  return [h.count, round(h.percentile(50), 3), round(h.percentile(90), 3), round(h.percentile(99), 3), round(h.max, 3)];
}

interface SeriesAcc {
  readonly op: string;
  readonly target: Target;
  readonly latency: Histogram;
  readonly lag: Histogram;
  readonly seconds: Map<number, { latency: Histogram; lag: Histogram; errors: Map<ErrorClass, number>; answeredBy: Record<ServerRole, number>; skipped: number }>;
}

/** Series in report order: by target, then operation. */
export function byTargetThenOp(a: { op: string; target: string }, b: { op: string; target: string }): number {
  return a.target.localeCompare(b.target) || a.op.localeCompare(b.op);
}

/**
 * The run's timeline (one-second steps) and distributions from the invocations of run `runId`
 * (others are ignored), covering at least [fromMs, toMs).
 */
export function measureInvocations(invocations: readonly InvocationMetrics[], runId: string, fromMs: number, toMs: number): Measured {
  const series = new Map<string, SeriesAcc>();
  const dwell = new Histogram();
  const messageSeconds = new Map<number, { ok: number; failed: number; invalid: number; duplicate: number; deadLettered: number; senderAheadMs: number; dwell: Histogram }>();
  const staleness = new Histogram();
  let probed = false;
  const markerSeconds = new Map<number, { ms: Histogram; unseen: number; failed: number }>();
  let first = Math.floor(fromMs / 1000);
  let last = Math.max(first, Math.ceil(toMs / 1000) - 1);
  for (const inv of invocations) {
    for (const s of inv.series) {
      if (s.runId !== runId) continue;
      const key = `${s.op}\u0000${s.target}`;
      let acc = series.get(key);
      if (!acc) series.set(key, (acc = { op: s.op, target: s.target, latency: new Histogram(), lag: new Histogram(), seconds: new Map() }));
      for (const [sec, b] of s.seconds) {
        first = Math.min(first, sec);
        last = Math.max(last, sec);
        let to = acc.seconds.get(sec);
        if (!to) acc.seconds.set(sec, (to = emptySecond()));
        mergeSecond(to, b);
        acc.latency.merge(b.latency);
        acc.lag.merge(b.lag);
      }
    }
    for (const p of inv.staleness ?? []) {
      if (p.runId !== runId) continue;
      probed = true;
      for (const [sec, b] of p.seconds) {
        first = Math.min(first, sec);
        last = Math.max(last, sec);
        let to = markerSeconds.get(sec);
        if (!to) markerSeconds.set(sec, (to = { ms: new Histogram(), unseen: 0, failed: 0 }));
        to.ms.merge(b.staleness);
        to.unseen += b.unseen;
        to.failed += b.failed;
        staleness.merge(b.staleness);
      }
    }
    const sec = Math.floor(inv.at / 1000);
    for (const m of inv.messages) {
      if (m.runId !== runId) continue;
      first = Math.min(first, sec);
      last = Math.max(last, sec);
      let to = messageSeconds.get(sec);
      if (!to) messageSeconds.set(sec, (to = { ok: 0, failed: 0, invalid: 0, duplicate: 0, deadLettered: 0, senderAheadMs: 0, dwell: new Histogram() }));
      to.ok += m.ok;
      to.failed += m.failed;
      to.invalid += m.invalid;
      to.duplicate += m.duplicate;
      to.deadLettered += m.deadLettered;
      to.senderAheadMs = Math.max(to.senderAheadMs, m.senderAheadMs);
      to.dwell.merge(m.dwell);
      dwell.merge(m.dwell);
    }
  }
  const steps = last - first + 1;
  const each = <T>(f: (sec: number) => T): T[] => Array.from({ length: steps }, (_, i) => f(first + i));
  const accs = [...series.values()].sort(byTargetThenOp);
  const timelineSeries = accs.map((a): TimelineSeries => {
    const errors: Partial<Record<ErrorClass, number[]>> = {};
    for (const cls of ERROR_CLASS_NAMES) {
      if ([...a.seconds.values()].some((b) => b.errors.has(cls))) errors[cls] = each((sec) => a.seconds.get(sec)?.errors.get(cls) ?? 0);
    }
    return {
      op: a.op,
      target: a.target,
      ok: each((sec) => a.seconds.get(sec)?.latency.count ?? 0),
      errors,
      skipped: each((sec) => a.seconds.get(sec)?.skipped ?? 0),
      latency: each((sec) => { const b = a.seconds.get(sec); return b ? stepStats(b.latency) : null; }),
      scheduleLag: each((sec) => { const b = a.seconds.get(sec); return b ? stepStats(b.lag) : null; }),
      answeredBy: { primary: each((sec) => a.seconds.get(sec)?.answeredBy.primary ?? 0), standby: each((sec) => a.seconds.get(sec)?.answeredBy.standby ?? 0) },
    };
  });
  const timeline: Timeline = {
    startMs: first * 1000,
    stepSeconds: 1,
    steps,
    series: timelineSeries,
    ...(probed ? {
      staleness: {
        ms: each((sec) => { const b = markerSeconds.get(sec); return b ? stepStats(b.ms) : null; }),
        unseen: each((sec) => markerSeconds.get(sec)?.unseen ?? 0),
        failed: each((sec) => markerSeconds.get(sec)?.failed ?? 0),
      },
    } : {}),
    messages: {
      ok: each((sec) => messageSeconds.get(sec)?.ok ?? 0),
      failed: each((sec) => messageSeconds.get(sec)?.failed ?? 0),
      invalid: each((sec) => messageSeconds.get(sec)?.invalid ?? 0),
      duplicate: each((sec) => messageSeconds.get(sec)?.duplicate ?? 0),
      deadLettered: each((sec) => messageSeconds.get(sec)?.deadLettered ?? 0),
      dwell: each((sec) => { const m = messageSeconds.get(sec); return m ? stepStats(m.dwell) : null; }),
      senderAheadMs: each((sec) => round(messageSeconds.get(sec)?.senderAheadMs ?? 0, 3)),
    },
  };
  return {
    timeline,
    distributions: {
      series: accs.map((a) => ({ op: a.op, target: a.target, latency: histogramStats(a.latency), scheduleLag: histogramStats(a.lag) })),
      dwell: histogramStats(dwell),
      ...(probed ? { staleness: histogramStats(staleness) } : {}),
    },
  };
}
