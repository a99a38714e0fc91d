/**
 * What a fault (a failover, a server down) cost the clients, from the run's timeline: the
 * client-visible downtime of writes and of reads, the errors by class, and how long until the
 * successful statements were back at the planned rate. Pure: the same timeline gives the same
 * analysis, from the local engine or from CloudWatch, to the step (one second).
 */
import type { ErrorClass } from '../../handlers/contract';
import type { Target } from '../../handlers/workloads/catalog';
import type { Timeline } from '../report/run-record';

/** The client-visible outage of one target. */
export interface TargetOutage {
  /** Epoch ms of the first failure at or after the fault began (its step's start, or the fault's start); null when nothing failed. */
  readonly firstFailureAt: number | null;
  /** Epoch ms of the start of the first step, after the failures, with successes and no failure; null when none came. */
  readonly firstSuccessAfter: number | null;
  /** firstSuccessAfter - firstFailureAt; 0 when nothing failed; null when the outage had not ended by the end of the data. */
  readonly downtimeMs: number | null;
  /** Statements of this target that failed during the run. */
  readonly failedStatements: number;
  readonly errorsByClass: Readonly<Partial<Record<ErrorClass, number>>>;
}

export interface OutageAnalysis {
  /** Epoch ms the fault began. */
  readonly faultAt: number;
  /** Statements per second the run planned at full rate. */
  readonly plannedRate: number;
  /** The timeline's step, s: the resolution of every time below. */
  readonly stepSeconds: number;
  readonly writes: TargetOutage;
  readonly reads: TargetOutage;
  /** Failed statements by error class, both targets. */
  readonly errorsByClass: Readonly<Partial<Record<ErrorClass, number>>>;
  /** Successful statements per second over the full seconds before the fault, or null. */
  readonly baselineRate: number | null;
  /**
   * ms from the fault to the end of the first full step, after the rate dipped, from which the
   * successful statements held the planned rate (less `tolerance`) for `holdSteps` steps; 0 when
   * the rate never dipped; null when it never recovered within the data.
   */
  readonly recoveredAfterMs: number | null;
}

export interface OutageOptions {
  /** Epoch ms the load started and ended: only steps wholly inside count for the rate. */
  readonly loadStartAt: number;
  readonly loadEndAt: number;
  /** Share of the planned rate a step may fall short by and still count as "at plan". @default 0.1 */
  readonly tolerance?: number;
  /** Consecutive steps at plan needed to call the rate recovered. @default 2 */
  readonly holdSteps?: number;
}

interface TargetSteps {
  readonly ok: number[];
  readonly errors: number[];
  readonly errorsByClass: Partial<Record<ErrorClass, number>>;
}

/** Per target, the successes and failures of each step, summed over its operations. */
function byTarget(t: Timeline): Record<Target, TargetSteps> {
  const empty = (): TargetSteps => ({ ok: new Array<number>(t.steps).fill(0), errors: new Array<number>(t.steps).fill(0), errorsByClass: {} });
  const out: Record<Target, TargetSteps> = { reader: empty(), writer: empty() };
  for (const s of t.series) {
    const acc = out[s.target];
    s.ok.forEach((n, i) => { acc.ok[i]! += n; });
    for (const [cls, counts] of Object.entries(s.errors) as Array<[ErrorClass, number[]]>) {
      counts.forEach((n, i) => { acc.errors[i]! += n; });
      acc.errorsByClass[cls] = (acc.errorsByClass[cls] ?? 0) + counts.reduce((a, b) => a + b, 0);
    }
  }
  return out;
}

export function analyseOutage(t: Timeline, faultAt: number, plannedRate: number, o: OutageOptions): OutageAnalysis {
  if (!Number.isFinite(faultAt)) throw new TypeError(`faultAt must be epoch ms, got ${faultAt}`);
  if (!(plannedRate > 0)) throw new TypeError(`plannedRate must be > 0, got ${plannedRate}`);
  const tolerance = o.tolerance ?? 0.1;
  const holdSteps = o.holdSteps ?? 2;
  const stepMs = t.stepSeconds * 1000;
  const targets = byTarget(t);
  const startOf = (i: number): number => t.startMs + i * stepMs;
  const okAt = (i: number): number => (targets.reader.ok[i] ?? 0) + (targets.writer.ok[i] ?? 0);
  // Whole steps of the load only: a partial first or last step would look like a dip.
  const first = Math.max(0, Math.ceil((o.loadStartAt - t.startMs) / stepMs));
  const end = Math.min(t.steps, Math.floor((o.loadEndAt - t.startMs) / stepMs));
  const faultStep = Math.floor((faultAt - t.startMs) / stepMs);

  const before: number[] = [];
  for (let i = first; i < Math.min(faultStep, end); i++) before.push(okAt(i) / t.stepSeconds);
  const baselineRate = before.length ? before.reduce((a, b) => a + b, 0) / before.length : null;

  const atPlan = (i: number): boolean => okAt(i) / t.stepSeconds >= plannedRate * (1 - tolerance);
  let recoveredAfterMs: number | null = 0;
  let dip: number | undefined;
  for (let i = Math.max(faultStep, first); i < end && dip === undefined; i++) if (!atPlan(i)) dip = i;
  if (dip !== undefined) {
    recoveredAfterMs = null;
    for (let i = dip + 1; i < end; i++) {
      let held = true;
      for (let k = 0; k < holdSteps && i + k < end; k++) held &&= atPlan(i + k);
      if (held) {
        recoveredAfterMs = Math.max(0, startOf(i + 1) - faultAt);
        break;
      }
    }
  }

  const errorsByClass: Partial<Record<ErrorClass, number>> = {};
  for (const target of [targets.writer, targets.reader]) {
    for (const [cls, n] of Object.entries(target.errorsByClass) as Array<[ErrorClass, number]>) errorsByClass[cls] = (errorsByClass[cls] ?? 0) + n;
  }
  const outage = (s: TargetSteps): TargetOutage => {
    const base = { failedStatements: s.errors.reduce((a, b) => a + b, 0), errorsByClass: s.errorsByClass };
    let failing: number | undefined;
    for (let i = Math.max(0, faultStep); i < t.steps && failing === undefined; i++) if (s.errors[i]! > 0) failing = i;
    if (failing === undefined) return { ...base, firstFailureAt: null, firstSuccessAfter: null, downtimeMs: 0 };
    let back: number | undefined;
    for (let i = failing + 1; i < t.steps && back === undefined; i++) if (s.ok[i]! > 0 && s.errors[i] === 0) back = i;
    const from = Math.max(faultAt, startOf(failing));
    const to = back === undefined ? null : startOf(back);
    return { ...base, firstFailureAt: from, firstSuccessAfter: to, downtimeMs: to === null ? null : to - from };
  };
  return {
    faultAt,
    plannedRate,
    stepSeconds: t.stepSeconds,
    writes: outage(targets.writer),
    reads: outage(targets.reader),
    errorsByClass,
    baselineRate,
    recoveredAfterMs,
  };
}

/** The analysis as a few lines for the summary. */
export function formatOutage(a: OutageAnalysis): string[] {
  const resolution = a.stepSeconds === 1 ? 'to the second' : `to ${a.stepSeconds} s`;
  const s = (ms: number | null): string => (ms === null ? 'not over by the end of the run' : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`);
  const target = (name: string, t: TargetOutage): string => (t.firstFailureAt === null
    ? `${name}: no client-visible failure`
    : `${name}: down ${s(t.downtimeMs)} (${resolution}), ${t.failedStatements} failed statements${Object.keys(t.errorsByClass).length ? ` (${classes(t.errorsByClass)})` : ''}`);
  return [
    `  ${target('writes', a.writes)}`,
    `  ${target('reads', a.reads)}`,
    `  errors by class: ${Object.keys(a.errorsByClass).length ? classes(a.errorsByClass) : 'none'}`,
    `  rate back to plan (${a.plannedRate}/s): ${a.recoveredAfterMs === null ? 'not within the run' : a.recoveredAfterMs === 0 ? 'it never dropped' : `${s(a.recoveredAfterMs)} after the fault began`}`
      + (a.baselineRate !== null ? `; before it: ${a.baselineRate.toFixed(0)}/s` : ''),
  ];
}

/** "08: 5, 57: 1": by class, in order (an object puts "57" before "08": integer-like keys first). */
function classes(o: Readonly<Partial<Record<ErrorClass, number>>>): string {
  return Object.entries(o).sort(([a], [b]) => a.localeCompare(b)).map(([c, n]) => `${c}: ${n}`).join(', ');
}
