/**
 * What a failover cost the clients, from what the workers measured: client-visible downtime for
 * writes and for reads (first failure to first success), errors by SQLSTATE class, and how long
 * until the achieved rate was back to target. Pure: the same metrics give the same analysis.
 *
 * The input is per target (writer, reader): statements finished per wall-clock second, and, when
 * the source has them, the exact outage windows the worker records (first failure to first
 * success within one invocation, in ms). The local engine's in-memory metrics have both
 * ({@link outageInputOf}); a source with only per-second counts (CloudWatch at 1-second
 * resolution) still gives an answer, to the second.
 */
import type { InvocationMetrics } from '../../handlers/metrics/types';
import type { Target } from '../../handlers/workloads/catalog';

/** Statements finished in one wall-clock second. */
export interface SecondCounts {
  readonly ok: number;
  readonly errors: number;
}

/** What was measured for one target. */
export interface TargetSeries {
  /** Epoch second -> statements that succeeded / failed in it. */
  readonly perSecond: ReadonlyMap<number, SecondCounts>;
  /** Exact outage windows (epoch ms; `to` null when no success followed in that invocation). Empty when unknown. */
  readonly outages: ReadonlyArray<{ readonly from: number; readonly to: number | null }>;
  /** Failed statements by SQLSTATE class over the whole run. */
  readonly errorsByClass: Readonly<Record<string, number>>;
}

export type OutageInput = Readonly<Record<Target, TargetSeries>>;

/** The client-visible outage of one target. */
export interface TargetOutage {
  /** Epoch ms of the first failure at or after the failover began; null when nothing failed. */
  readonly firstFailureAt: number | null;
  /**
   * Epoch ms of the first success after the outage: by then every client (worker invocation) that
   * had failed had succeeded again. Null when the outage had not ended by the end of the data.
   */
  readonly firstSuccessAfter: number | null;
  /** firstSuccessAfter - firstFailureAt; 0 when nothing failed; null when it never ended. */
  readonly downtimeMs: number | null;
  /** 'ms' from the worker's own outage windows; 'second' when only per-second counts were there. */
  readonly resolution: 'ms' | 'second';
  /** Statements of this target that failed during the run. */
  readonly failedStatements: number;
  readonly errorsByClass: Readonly<Record<string, number>>;
}

export interface OutageAnalysis {
  /** Epoch ms the failover was started. */
  readonly failoverAt: number;
  /** Statements per second the run asked for. */
  readonly targetRate: number;
  readonly writes: TargetOutage;
  readonly reads: TargetOutage;
  /** Failed statements by SQLSTATE class, both targets. */
  readonly errorsBySqlstateClass: Readonly<Record<string, number>>;
  /** Successful statements per second over the full seconds before the failover, or null. */
  readonly baselineRate: number | null;
  /**
   * ms from the failover to the end of the first full second, after the rate dipped, in which the
   * successful statements reached the target (less `tolerance`) and stayed there for
   * `holdSeconds`; 0 when the rate never dipped; null when it never recovered within the data.
   */
  readonly recoveredToTargetAfterMs: number | null;
  /** Successful and failed statements per second (both targets), for a chart or a table. */
  readonly timeline: ReadonlyArray<{ readonly at: number; readonly ok: number; readonly errors: number }>;
}

export interface OutageOptions {
  /** Epoch ms the load started (for the baseline and the first full second). */
  readonly loadStartAt?: number;
  /** Epoch ms the load ended (the last, partial second is left out). */
  readonly loadEndAt?: number;
  /** Share of the target rate a second may fall short by and still count as "at target". @default 0.1 */
  readonly tolerance?: number;
  /** Consecutive seconds at target needed to call the rate recovered. @default 2 */
  readonly holdSeconds?: number;
  /** Outage windows that start within this many ms of the current one's end are the same outage (flapping). @default 1000 */
  readonly mergeGapMs?: number;
}

/** Collect a run's series from the worker's per-invocation metrics. */
export function outageInputOf(invocations: readonly InvocationMetrics[], runId?: string): OutageInput {
  const acc = {
    writer: { perSecond: new Map<number, { ok: number; errors: number }>(), outages: [] as Array<{ from: number; to: number | null }>, errorsByClass: {} as Record<string, number> },
    reader: { perSecond: new Map<number, { ok: number; errors: number }>(), outages: [] as Array<{ from: number; to: number | null }>, errorsByClass: {} as Record<string, number> },
  };
  for (const inv of invocations) {
    for (const s of inv.series) {
      if (runId !== undefined && s.runId !== runId) continue;
      const t = acc[s.target];
      for (const [sec, c] of s.perSecond) {
        const b = t.perSecond.get(sec) ?? { ok: 0, errors: 0 };
        b.ok += c.ok;
        b.errors += c.errors;
        t.perSecond.set(sec, b);
      }
      t.outages.push(...s.outages.map((o) => ({ from: o.from, to: o.to })));
      for (const [cls, n] of s.errors) t.errorsByClass[cls] = (t.errorsByClass[cls] ?? 0) + n;
    }
  }
  return acc;
}

/** {@link analyseOutageOf} on the worker's per-invocation metrics (of one run, when `runId` is given). */
export function analyseOutage(
  invocations: readonly InvocationMetrics[],
  failoverAt: number,
  targetRate: number,
  opts: OutageOptions & { readonly runId?: string } = {},
): OutageAnalysis {
  return analyseOutageOf(outageInputOf(invocations, opts.runId), failoverAt, targetRate, opts);
}

export function analyseOutageOf(input: OutageInput, failoverAt: number, targetRate: number, opts: OutageOptions = {}): OutageAnalysis {
  if (!Number.isFinite(failoverAt)) throw new TypeError(`failoverAt must be epoch ms, got ${failoverAt}`);
  if (!(targetRate > 0)) throw new TypeError(`targetRate must be > 0, got ${targetRate}`);
  const tolerance = opts.tolerance ?? 0.1;
  const holdSeconds = opts.holdSeconds ?? 2;
  const mergeGapMs = opts.mergeGapMs ?? 1000;

  const total = new Map<number, { ok: number; errors: number }>();
  for (const t of [input.writer, input.reader]) {
    for (const [sec, c] of t.perSecond) {
      const b = total.get(sec) ?? { ok: 0, errors: 0 };
      b.ok += c.ok;
      b.errors += c.errors;
      total.set(sec, b);
    }
  }
  const seconds = [...total.keys()].sort((a, b) => a - b);
  // Full seconds only: the ones the load covered from start to end.
  const firstFull = opts.loadStartAt !== undefined ? Math.ceil(opts.loadStartAt / 1000) : (seconds[0] ?? 0) + 1;
  const endFull = opts.loadEndAt !== undefined ? Math.floor(opts.loadEndAt / 1000) : (seconds[seconds.length - 1] ?? 0);
  const okAt = (sec: number): number => total.get(sec)?.ok ?? 0;

  const failoverSecond = Math.floor(failoverAt / 1000);
  const before: number[] = [];
  for (let s = firstFull; s < failoverSecond && s < endFull; s++) before.push(okAt(s));
  const baselineRate = before.length ? before.reduce((a, b) => a + b, 0) / before.length : null;

  const atTarget = (sec: number): boolean => okAt(sec) >= targetRate * (1 - tolerance);
  let recoveredToTargetAfterMs: number | null = null;
  let dip: number | undefined;
  for (let s = Math.max(failoverSecond, firstFull); s < endFull; s++) {
    if (!atTarget(s)) {
      dip = s;
      break;
    }
  }
  if (dip === undefined) {
    recoveredToTargetAfterMs = 0;
  } else {
    for (let s = dip + 1; s < endFull; s++) {
      let held = true;
      for (let k = 0; k < holdSeconds && s + k < endFull; k++) held &&= atTarget(s + k);
      if (held) {
        recoveredToTargetAfterMs = Math.max(0, (s + 1) * 1000 - failoverAt);
        break;
      }
    }
  }

  const errorsBySqlstateClass: Record<string, number> = {};
  for (const t of [input.writer, input.reader]) {
    for (const [cls, n] of Object.entries(t.errorsByClass)) errorsBySqlstateClass[cls] = (errorsBySqlstateClass[cls] ?? 0) + n;
  }
  return {
    failoverAt,
    targetRate,
    writes: targetOutage(input.writer, failoverAt, mergeGapMs),
    reads: targetOutage(input.reader, failoverAt, mergeGapMs),
    errorsBySqlstateClass: sortKeys(errorsBySqlstateClass),
    baselineRate,
    recoveredToTargetAfterMs,
    timeline: seconds.map((s) => ({ at: s * 1000, ok: total.get(s)!.ok, errors: total.get(s)!.errors })),
  };
}

function targetOutage(t: TargetSeries, failoverAt: number, mergeGapMs: number): TargetOutage {
  const failedStatements = [...t.perSecond.values()].reduce((n, c) => n + c.errors, 0);
  const base = { failedStatements, errorsByClass: sortKeys({ ...t.errorsByClass }) };
  const windows = t.outages.filter((w) => w.from >= failoverAt).sort((a, b) => a.from - b.from);
  if (windows.length > 0) {
    // The outage: the first window, and every window that opens within mergeGapMs of the end of
    // the ones before it (clients failing at different moments, or one flapping).
    const first = windows[0]!;
    let reach = first.to ?? first.from;
    let lastClosed: number | null = first.to;
    let lastOpen: number | null = first.to === null ? first.from : null;
    for (const w of windows.slice(1)) {
      if (w.from > reach + mergeGapMs) break;
      reach = Math.max(reach, w.to ?? w.from);
      if (w.to === null) lastOpen = Math.max(lastOpen ?? w.from, w.from);
      else lastClosed = Math.max(lastClosed ?? w.to, w.to);
    }
    if (lastOpen === null) {
      return { ...base, firstFailureAt: first.from, firstSuccessAfter: lastClosed, downtimeMs: lastClosed! - first.from, resolution: 'ms' };
    }
    // An invocation that ended while failing (a statements message, say) leaves its window open:
    // the first second with a success after it closes it, to the second.
    const sec = firstSecondWithSuccessAfter(t, lastOpen);
    const at = sec === undefined ? null : Math.max(lastClosed ?? 0, sec * 1000);
    return { ...base, firstFailureAt: first.from, firstSuccessAfter: at, downtimeMs: at === null ? null : at - first.from, resolution: 'second' };
  }
  // Per-second counts only: the first second with failures, to the first later second with a
  // success and no failures.
  const secs = [...t.perSecond.keys()].sort((a, b) => a - b).filter((s) => (s + 1) * 1000 > failoverAt);
  const failing = secs.find((s) => t.perSecond.get(s)!.errors > 0);
  if (failing === undefined) return { ...base, firstFailureAt: null, firstSuccessAfter: null, downtimeMs: 0, resolution: 'ms' };
  const back = secs.find((s) => s > failing && t.perSecond.get(s)!.ok > 0 && t.perSecond.get(s)!.errors === 0);
  const from = Math.max(failoverAt, failing * 1000);
  const to = back === undefined ? null : back * 1000;
  return { ...base, firstFailureAt: from, firstSuccessAfter: to, downtimeMs: to === null ? null : to - from, resolution: 'second' };
}

function firstSecondWithSuccessAfter(t: TargetSeries, at: number): number | undefined {
  return [...t.perSecond.keys()].sort((a, b) => a - b).find((s) => s > Math.floor(at / 1000) && t.perSecond.get(s)!.ok > 0);
}

function sortKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

/** The analysis as a few lines for the run summary. */
export function formatOutage(a: OutageAnalysis): string[] {
  const s = (ms: number | null): string => (ms === null ? 'not over by the end of the run' : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`);
  const target = (name: string, t: TargetOutage): string => (t.firstFailureAt === null
    ? `${name}: no client-visible failure`
    : `${name}: down ${s(t.downtimeMs)}${t.resolution === 'second' ? ' (to the second)' : ''}, ${t.failedStatements} failed statements${Object.keys(t.errorsByClass).length ? ` (${classes(t.errorsByClass)})` : ''}`);
  return [
    `failover drill at ${new Date(a.failoverAt).toISOString()}`,
    `  ${target('writes', a.writes)}`,
    `  ${target('reads', a.reads)}`,
    `  errors by SQLSTATE class: ${Object.keys(a.errorsBySqlstateClass).length ? classes(a.errorsBySqlstateClass) : 'none'}`,
    `  rate back to target (${a.targetRate}/s): ${a.recoveredToTargetAfterMs === null ? 'not within the run' : a.recoveredToTargetAfterMs === 0 ? 'it never dropped' : `${s(a.recoveredToTargetAfterMs)} after the failover began`}`
      + (a.baselineRate !== null ? `; before it: ${a.baselineRate.toFixed(0)}/s` : ''),
  ];
}

function classes(o: Readonly<Record<string, number>>): string {
  return Object.entries(o).map(([c, n]) => `${c}: ${n}`).join(', ');
}
