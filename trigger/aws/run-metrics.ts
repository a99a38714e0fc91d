/**
 * A run's metrics, read back from CloudWatch with GetMetricData. Every query is built from the
 * contract (handlers/contract.ts): the run's operations and targets, every error class of the
 * bounded set, both server roles, every message outcome. Nothing is discovered at run time: a
 * metric first published during the run can take up to 15 minutes to be listed, while
 * GetMetricData returns its datapoints at once (the contract cites the AWS documentation).
 *
 * Limits (API Reference, GetMetricData and MetricStat,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricStat.html): 500
 * queries and 100,800 datapoints per call (more pages follow NextToken). 1-second datapoints are
 * kept 3 hours; a window that starts earlier must be read at 60 s (up to 15 days), 300 s (up to
 * 63 days) or 3600 s, or no datapoints come back at all.
 */
import { GetMetricDataCommand, type CloudWatchClient, type MetricDataQuery, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import {
  answeredDimensions, dwellDimensions, ERROR_CLASS_NAMES, errorDimensions, markerDimensions, MESSAGE_OUTCOMES, messageDimensions, METRIC,
  SERVER_ROLES, stalenessDimensions, statementDimensions, type Dimension, type ErrorClass, type MessageOutcome, type MetricName, type ServerRole,
} from '../../handlers/contract';
import type { Target } from '../../handlers/workloads/catalog';
import type { StepStats, Timeline, TimelineSeries } from '../report/run-record';
import type { Distributions, Measured, Stats } from '../report/summary';
import { byTargetThenOp } from '../report/timeline';
import { round } from '../round';

/** One run's metrics: its namespace, its RunId, and the window (epoch ms) to read. */
export interface MetricsWindow {
  readonly namespace: string;
  readonly runId: string;
  readonly startMs: number;
  readonly endMs: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * The finest step CloudWatch still has for a window starting at `startMs`, read at `now`: 1 s for
 * the last 3 hours (a little less, so the call does not cross the line), then 60, 300, 3600 s.
 */
export function stepSecondsFor(startMs: number, now: number): number {
  const age = now - startMs;
  if (age < 3 * HOUR - 5 * 60_000) return 1;
  if (age < 15 * DAY) return 60;
  if (age < 63 * DAY) return 300;
  return 3600;
}

/** What one query asks for, so that its result can be put where it belongs without parsing ids. */
type Want =
  | { readonly kind: 'latency' | 'lag'; readonly op: string; readonly target: Target; readonly stat: Stat }
  | { readonly kind: 'skipped'; readonly op: string; readonly target: Target }
  | { readonly kind: 'errors'; readonly op: string; readonly target: Target; readonly cls: ErrorClass }
  | { readonly kind: 'answered'; readonly op: string; readonly target: Target; readonly server: ServerRole }
  | { readonly kind: 'dwell' | 'staleness'; readonly stat: Stat }
  | { readonly kind: 'clock' }
  | { readonly kind: 'markers'; readonly outcome: 'unseen' | 'failed' }
  | { readonly kind: 'messages'; readonly outcome: MessageOutcome };

/** The statistics a distribution is read with. */
const STEP_STATS = ['SampleCount', 'p50', 'p90', 'p99', 'Maximum'] as const;
const RUN_STATS = [...STEP_STATS, 'Average'] as const;
type Stat = (typeof RUN_STATS)[number];

/** GetMetricData queries with what each one is for. */
class Queries {
  readonly queries: MetricDataQuery[] = [];
  readonly wants = new Map<string, Want>();

  constructor(private readonly namespace: string, private readonly period: number) {}

  add(want: Want, metric: MetricName, dimensions: Dimension[], stat: string): void {
    const Id = `q${this.queries.length}`;
    this.wants.set(Id, want);
    this.queries.push({ Id, ReturnData: true, MetricStat: { Metric: { Namespace: this.namespace, MetricName: metric, Dimensions: dimensions }, Period: this.period, Stat: stat } });
  }
}

/** Every result of the queries, page by page, 500 queries to a call (GetMetricData's limit). */
async function* results(cw: CloudWatchClient, qs: Queries, start: Date, end: Date): AsyncGenerator<{ want: Want; result: MetricDataResult }> {
  for (let i = 0; i < qs.queries.length; i += 500) {
    let NextToken: string | undefined;
    do {
      const res = await cw.send(new GetMetricDataCommand({
        MetricDataQueries: qs.queries.slice(i, i + 500), StartTime: start, EndTime: end, ScanBy: 'TimestampAscending',
        ...(NextToken ? { NextToken } : {}),
      }));
      for (const result of res.MetricDataResults ?? []) {
        const want = qs.wants.get(result.Id ?? '');
        if (want) yield { want, result };
      }
      NextToken = res.NextToken;
    } while (NextToken);
  }
}

/** [start, end) widened to whole `unitMs`. */
function aligned(startMs: number, endMs: number, unitMs: number): { start: number; end: number } {
  const start = Math.floor(startMs / unitMs) * unitMs;
  return { start, end: Math.max(start + unitMs, Math.ceil(endMs / unitMs) * unitMs) };
}

/** Each query's values by step index (several datapoints of one step, over pages, add up). */
async function readSteps(cw: CloudWatchClient, qs: Queries, start: number, end: number, stepMs: number): Promise<Map<Want, Map<number, number>>> {
  const out = new Map<Want, Map<number, number>>();
  for await (const { want, result } of results(cw, qs, new Date(start), new Date(end))) {
    let m = out.get(want);
    if (!m) out.set(want, (m = new Map()));
    (result.Timestamps ?? []).forEach((t, j) => {
      const v = result.Values?.[j];
      if (v === undefined || !Number.isFinite(v)) return;
      const i = Math.floor((new Date(t).getTime() - start) / stepMs);
      const statOf = 'stat' in want ? want.stat : want.kind === 'clock' ? 'Maximum' : 'Sum';
      m!.set(i, statOf === 'SampleCount' || statOf === 'Sum' ? (m!.get(i) ?? 0) + v : Math.max(m!.get(i) ?? -Infinity, v));
    });
  }
  return out;
}

/** The run's operations on their targets: what its statements were filed under. */
export type Operations = ReadonlyArray<{ readonly op: string; readonly target: Target }>;

/**
 * The run's timeline and distributions, read at the finest step CloudWatch still keeps for the
 * window (see {@link stepSecondsFor}): the same {@link Measured} a local run produces.
 */
export async function readMeasured(cw: CloudWatchClient, w: MetricsWindow, operations: Operations, now: number): Promise<Measured> {
  const stepSeconds = stepSecondsFor(w.startMs, now);
  const [timeline, distributions] = await Promise.all([
    readTimeline(cw, w, operations, stepSeconds),
    readDistributions(cw, w, operations, Math.max(60, stepSeconds)),
  ]);
  // Rows that ran: those with any statement in the timeline; the probe's when it ran.
  const { staleness, ...rest } = distributions;
  return {
    timeline,
    distributions: {
      ...rest,
      series: distributions.series.filter((d) => timeline.series.some((s) => s.op === d.op && s.target === d.target)),
      ...(timeline.staleness ? { staleness: staleness ?? null } : {}),
    },
  };
}

async function readTimeline(cw: CloudWatchClient, w: MetricsWindow, operations: Operations, stepSeconds: number): Promise<Timeline> {
  const stepMs = stepSeconds * 1000;
  const { start, end } = aligned(w.startMs, w.endMs, stepMs);
  const steps = (end - start) / stepMs;
  const qs = new Queries(w.namespace, stepSeconds);
  for (const { op, target } of operations) {
    const dims = statementDimensions(w.runId, op, target);
    for (const stat of STEP_STATS) {
      qs.add({ kind: 'latency', op, target, stat }, METRIC.latency, dims, stat);
      qs.add({ kind: 'lag', op, target, stat }, METRIC.scheduleLag, dims, stat);
    }
    qs.add({ kind: 'skipped', op, target }, METRIC.skipped, dims, 'Sum');
    for (const cls of ERROR_CLASS_NAMES) qs.add({ kind: 'errors', op, target, cls }, METRIC.errors, errorDimensions(w.runId, op, target, cls), 'Sum');
    for (const server of SERVER_ROLES) qs.add({ kind: 'answered', op, target, server }, METRIC.answered, answeredDimensions(w.runId, op, target, server), 'Sum');
  }
  for (const stat of STEP_STATS) qs.add({ kind: 'dwell', stat }, METRIC.queueDwell, dwellDimensions(w.runId), stat);
  for (const outcome of MESSAGE_OUTCOMES) qs.add({ kind: 'messages', outcome }, METRIC.messages, messageDimensions(w.runId, outcome), 'Sum');
  qs.add({ kind: 'clock' }, METRIC.senderClockAhead, dwellDimensions(w.runId), 'Maximum');
  for (const stat of STEP_STATS) qs.add({ kind: 'staleness', stat }, METRIC.staleness, stalenessDimensions(w.runId), stat);
  for (const outcome of ['unseen', 'failed'] as const) qs.add({ kind: 'markers', outcome }, METRIC.markers, markerDimensions(w.runId, outcome), 'Sum');

  const values = await readSteps(cw, qs, start, end, stepMs);
  const find = (f: (want: Want) => boolean): Map<number, number> => {
    for (const [want, m] of values) if (f(want)) return m;
    return new Map();
  };
  const counts = (m: Map<number, number>): number[] => Array.from({ length: steps }, (_, i) => m.get(i) ?? 0);
  const stats = (pick: (stat: Stat) => Map<number, number>): Array<StepStats | null> => {
    const [count, p50, p90, p99, max] = STEP_STATS.map(pick) as [Map<number, number>, Map<number, number>, Map<number, number>, Map<number, number>, Map<number, number>];
    return Array.from({ length: steps }, (_, i): StepStats | null => {
      const n = count.get(i) ?? 0;
      return n > 0 ? [n, round(p50.get(i) ?? 0, 3), round(p90.get(i) ?? 0, 3), round(p99.get(i) ?? 0, 3), round(max.get(i) ?? 0, 3)] : null;
    });
  };
  const series: TimelineSeries[] = [];
  for (const { op, target } of operations) {
    const mine = (kind: Want['kind']) => (want: Want): boolean => want.kind === kind && 'op' in want && want.op === op && want.target === target;
    const errors: Partial<Record<ErrorClass, number[]>> = {};
    for (const cls of ERROR_CLASS_NAMES) {
      const m = find((want) => mine('errors')(want) && want.kind === 'errors' && want.cls === cls);
      if ([...m.values()].some((v) => v > 0)) errors[cls] = counts(m);
    }
    const s: TimelineSeries = {
      op, target,
      ok: counts(find((want) => mine('latency')(want) && 'stat' in want && want.stat === 'SampleCount')),
      errors,
      skipped: counts(find(mine('skipped'))),
      latency: stats((stat) => find((want) => mine('latency')(want) && 'stat' in want && want.stat === stat)),
      scheduleLag: stats((stat) => find((want) => mine('lag')(want) && 'stat' in want && want.stat === stat)),
      answeredBy: {
        primary: counts(find((want) => mine('answered')(want) && want.kind === 'answered' && want.server === 'primary')),
        standby: counts(find((want) => mine('answered')(want) && want.kind === 'answered' && want.server === 'standby')),
      },
    };
    const any = (xs: readonly number[]): boolean => xs.some((x) => x > 0);
    if (any(s.ok) || any(s.skipped) || Object.keys(errors).length) series.push(s);
  }
  const outcome = (o: MessageOutcome): number[] => counts(find((want) => want.kind === 'messages' && want.outcome === o));
  const marker = (o: 'unseen' | 'failed'): number[] => counts(find((want) => want.kind === 'markers' && want.outcome === o));
  const staleness = {
    ms: stats((stat) => find((want) => want.kind === 'staleness' && want.stat === stat)),
    unseen: marker('unseen'),
    failed: marker('failed'),
  };
  const probed = staleness.ms.some((x) => x !== null) || [...staleness.unseen, ...staleness.failed].some((x) => x > 0);
  return {
    startMs: start,
    stepSeconds,
    steps,
    series: series.sort(byTargetThenOp),
    ...(probed ? { staleness } : {}),
    messages: {
      ok: outcome('ok'), failed: outcome('failed'), invalid: outcome('invalid'), duplicate: outcome('duplicate'), deadLettered: outcome('deadLettered'),
      dwell: stats((stat) => find((want) => want.kind === 'dwell' && want.stat === stat)),
      senderAheadMs: counts(find((want) => want.kind === 'clock')).map((v) => round(v, 3)),
    },
  };
}

/** Whole-window statistics: one period spanning the window, whole `unitSeconds` around it. */
async function readDistributions(cw: CloudWatchClient, w: MetricsWindow, operations: Operations, unitSeconds: number): Promise<Distributions> {
  const { start, end } = aligned(w.startMs, w.endMs, unitSeconds * 1000);
  const qs = new Queries(w.namespace, (end - start) / 1000);
  for (const { op, target } of operations) {
    const dims = statementDimensions(w.runId, op, target);
    for (const stat of RUN_STATS) {
      qs.add({ kind: 'latency', op, target, stat }, METRIC.latency, dims, stat);
      qs.add({ kind: 'lag', op, target, stat }, METRIC.scheduleLag, dims, stat);
    }
  }
  for (const stat of RUN_STATS) {
    qs.add({ kind: 'dwell', stat }, METRIC.queueDwell, dwellDimensions(w.runId), stat);
    qs.add({ kind: 'staleness', stat }, METRIC.staleness, stalenessDimensions(w.runId), stat);
  }
  const values = await readSteps(cw, qs, start, end, end - start);
  const statsOf = (f: (want: Want) => boolean): Stats | null => {
    const g = (stat: Stat): number => {
      for (const [want, m] of values) if (f(want) && 'stat' in want && want.stat === stat) return m.get(0) ?? 0;
      return 0;
    };
    const count = g('SampleCount');
    return count > 0 ? { count, avg: g('Average'), stddev: null, p50: g('p50'), p90: g('p90'), p99: g('p99'), max: g('Maximum') } : null;
  };
  return {
    series: operations.map(({ op, target }) => ({
      op, target,
      latency: statsOf((want) => want.kind === 'latency' && want.op === op && want.target === target),
      scheduleLag: statsOf((want) => want.kind === 'lag' && want.op === op && want.target === target),
    })),
    dwell: statsOf((want) => want.kind === 'dwell'),
    staleness: statsOf((want) => want.kind === 'staleness'),
  };
}

/**
 * How the worker ended a run's messages, summed over the window: one query per outcome, for `init`
 * and for knowing when a run's metrics are all in.
 */
export async function readMessageOutcomes(cw: CloudWatchClient, w: MetricsWindow): Promise<Record<MessageOutcome, number>> {
  const { start, end } = aligned(w.startMs, w.endMs, 60_000);
  const qs = new Queries(w.namespace, (end - start) / 1000);
  for (const outcome of MESSAGE_OUTCOMES) qs.add({ kind: 'messages', outcome }, METRIC.messages, messageDimensions(w.runId, outcome), 'Sum');
  const values = await readSteps(cw, qs, start, end, end - start);
  const out = Object.fromEntries(MESSAGE_OUTCOMES.map((o) => [o, 0])) as Record<MessageOutcome, number>;
  for (const [want, m] of values) if (want.kind === 'messages') out[want.outcome] += m.get(0) ?? 0;
  return out;
}
