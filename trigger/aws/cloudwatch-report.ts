import {
  GetMetricDataCommand,
  ListMetricsCommand,
  type CloudWatchClient,
  type MetricDataQuery,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import type { Target, WorkloadName } from '../../handlers/workloads/catalog';
import { operationsOf, projectCatalog } from '../../handlers/workloads/project';
import type { OutageInput } from '../drills/outage';
import { assemble, type OpSummary, type RunContext, type RunSummary, type Stats } from '../report/summary';

export interface MetricsWindow {
  readonly namespace: string;
  readonly runId: string;
  /** Epoch ms; the query window is widened to whole minutes around it. */
  readonly startMs: number;
  readonly endMs: number;
}

const DIST_STATS = ['p50', 'p90', 'p99', 'Maximum', 'SampleCount', 'Average'] as const;

type Dims = Record<string, string>;

/** Builds GetMetricData queries and reads their single values back by key. */
class QuerySet {
  readonly queries: MetricDataQuery[] = [];
  private readonly keys: string[] = [];

  constructor(private readonly namespace: string, private readonly period: number) {}

  add(key: string, metric: string, dims: Dims, stat: string): void {
    this.keys.push(key);
    this.queries.push({
      Id: `q${this.queries.length}`,
      ReturnData: true,
      MetricStat: {
        Metric: { Namespace: this.namespace, MetricName: metric, Dimensions: Object.entries(dims).map(([Name, Value]) => ({ Name, Value })) },
        Period: this.period,
        Stat: stat,
      },
    });
  }

  keyOf(id: string): string | undefined {
    return this.keys[Number(id.slice(1))];
  }
}

/** The window as GetMetricData wants it: whole minutes, one period covering the whole run. */
export function queryWindow(startMs: number, endMs: number): { start: Date; end: Date; period: number } {
  const start = Math.floor(startMs / 60_000) * 60_000;
  const end = Math.max(start + 60_000, Math.ceil(endMs / 60_000) * 60_000);
  return { start: new Date(start), end: new Date(end), period: (end - start) / 1000 };
}

/** Every (operation, target) a run of these workloads can have produced. */
function opTargets(workloads: readonly WorkloadName[]): { op: string; target: Target }[] {
  const out: { op: string; target: Target }[] = [];
  for (const w of workloads) {
    for (const { op, target: own } of operationsOf(w)) {
      // An op runs on its own endpoint; a statements message may also aim it at the other one.
      out.push({ op, target: own }, { op, target: own === 'reader' ? 'writer' : 'reader' });
    }
  }
  return out;
}

async function errorDimensions(cw: CloudWatchClient, w: MetricsWindow): Promise<Dims[]> {
  const out: Dims[] = [];
  let NextToken: string | undefined;
  do {
    const res = await cw.send(new ListMetricsCommand({
      Namespace: w.namespace, MetricName: 'Errors', Dimensions: [{ Name: 'RunId', Value: w.runId }], ...(NextToken ? { NextToken } : {}),
    }));
    for (const m of res.Metrics ?? []) out.push(Object.fromEntries((m.Dimensions ?? []).map((d) => [d.Name!, d.Value!])));
    NextToken = res.NextToken;
  } while (NextToken);
  return out;
}

/** Every result of the queries, page by page, 500 queries to a call (GetMetricData's limit). */
async function* results(cw: CloudWatchClient, qs: QuerySet, start: Date, end: Date): AsyncGenerator<{ key: string; result: MetricDataResult }> {
  for (let i = 0; i < qs.queries.length; i += 500) {
    let NextToken: string | undefined;
    do {
      const res = await cw.send(new GetMetricDataCommand({
        MetricDataQueries: qs.queries.slice(i, i + 500), StartTime: start, EndTime: end, ScanBy: 'TimestampAscending',
        ...(NextToken ? { NextToken } : {}),
      }));
      for (const result of res.MetricDataResults ?? []) {
        const key = qs.keyOf(result.Id!);
        if (key !== undefined) yield { key, result };
      }
      NextToken = res.NextToken;
    } while (NextToken);
  }
}

async function fetchValues(cw: CloudWatchClient, qs: QuerySet, start: Date, end: Date): Promise<Map<string, number>> {
  const values = new Map<string, number>();
  for await (const { key, result } of results(cw, qs, start, end)) {
    const v = result.Values ?? [];
    if (v.length) values.set(key, v.length === 1 ? v[0]! : combine(key, v));
  }
  return values;
}

/** Several datapoints for one query (a window CloudWatch split): add counts, take the worst of the rest. */
function combine(key: string, v: number[]): number {
  return /\|(SampleCount|Sum)$/.test(key) ? v.reduce((a, b) => a + b, 0) : Math.max(...v);
}

function statsFrom(values: Map<string, number>, prefix: string): Stats | null {
  const count = values.get(`${prefix}|SampleCount`) ?? 0;
  if (!count) return null;
  const g = (s: string): number => values.get(`${prefix}|${s}`) ?? 0;
  return { count, avg: g('Average'), stddev: null, p50: g('p50'), p90: g('p90'), p99: g('p99'), max: g('Maximum') };
}

/**
 * Read a run's metrics back from CloudWatch (GetMetricData: p50/p90/p99, Maximum, SampleCount,
 * Average, Sum over one period spanning the run) into the same summary a local run produces.
 *
 * CloudWatch keeps `Answered` per target, not per operation: when a target has several
 * operations, its answered-by counts are shared out in proportion to their successes.
 */
export async function readRunFromCloudWatch(cw: CloudWatchClient, w: MetricsWindow, ctx: RunContext): Promise<RunSummary> {
  const { start, end, period } = queryWindow(w.startMs, w.endMs);
  const qs = new QuerySet(w.namespace, period);
  const workloads = projectCatalog().has(ctx.workload) ? [ctx.workload] : projectCatalog().names;
  const pairs = opTargets(workloads);
  for (const { op, target } of pairs) {
    const dims = { RunId: w.runId, Operation: op, Target: target };
    for (const s of DIST_STATS) {
      qs.add(`lat|${op}|${target}|${s}`, 'Latency', dims, s);
      qs.add(`lag|${op}|${target}|${s}`, 'ScheduleLag', dims, s);
    }
    qs.add(`skip|${op}|${target}|Sum`, 'Skipped', dims, 'Sum');
  }
  for (const target of ['reader', 'writer'] as const) {
    for (const server of ['primary', 'standby'] as const) qs.add(`ans|${target}|${server}|Sum`, 'Answered', { RunId: w.runId, Target: target, Server: server }, 'Sum');
  }
  for (const s of DIST_STATS) qs.add(`dwell|${s}`, 'QueueDwell', { RunId: w.runId }, s);
  for (const outcome of ['ok', 'failed', 'invalid'] as const) qs.add(`msg|${outcome}|Sum`, 'Messages', { RunId: w.runId, Outcome: outcome }, 'Sum');
  const errorDims = await errorDimensions(cw, w);
  for (const d of errorDims) {
    if (d.Operation && d.Target && d.ErrorClass) qs.add(`err|${d.Operation}|${d.Target}|${d.ErrorClass}|Sum`, 'Errors', d, 'Sum');
  }

  const values = await fetchValues(cw, qs, start, end);
  const seconds = ctx.durationMs / 1000;
  const rows: OpSummary[] = [];
  for (const { op, target } of pairs) {
    const latency = statsFrom(values, `lat|${op}|${target}`);
    const errorsByClass: Record<string, number> = {};
    for (const d of errorDims) {
      if (d.Operation !== op || d.Target !== target || !d.ErrorClass) continue;
      const n = values.get(`err|${op}|${target}|${d.ErrorClass}|Sum`) ?? 0;
      if (n) errorsByClass[d.ErrorClass] = (errorsByClass[d.ErrorClass] ?? 0) + n;
    }
    const errors = Object.values(errorsByClass).reduce((a, b) => a + b, 0);
    const skipped = values.get(`skip|${op}|${target}|Sum`) ?? 0;
    if (!latency && !errors && !skipped) continue;
    const ok = latency?.count ?? 0;
    rows.push({
      op, target, ok, errors, errorsByClass, skipped,
      throughput: seconds > 0 ? ok / seconds : 0,
      latency, scheduleLag: statsFrom(values, `lag|${op}|${target}`),
      answeredBy: { primary: 0, standby: 0 },
    });
  }
  rows.sort((a, b) => a.target.localeCompare(b.target) || a.op.localeCompare(b.op));
  const operations = rows.map((r): OpSummary => {
    const sameTarget = rows.filter((x) => x.target === r.target);
    const okTotal = sameTarget.reduce((s, x) => s + x.ok, 0);
    const share = okTotal > 0 ? r.ok / okTotal : 0;
    const g = (server: string): number => Math.round((values.get(`ans|${r.target}|${server}|Sum`) ?? 0) * share);
    return { ...r, answeredBy: { primary: g('primary'), standby: g('standby') } };
  });
  const dwell = statsFrom(values, 'dwell');
  const shared = operations.some((o) => operations.filter((x) => x.target === o.target).length > 1);
  return assemble(
    { ...ctx, notes: [...(ctx.notes ?? []), ...(shared ? ['CloudWatch records who answered per target; rows on the same target share it by their successes'] : [])] },
    'cloudwatch',
    operations,
    {
      ok: values.get('msg|ok|Sum') ?? 0,
      failed: values.get('msg|failed|Sum') ?? 0,
      invalid: values.get('msg|invalid|Sum') ?? 0,
      dwell,
    },
  );
}

/**
 * SQLSTATE classes a failover makes clients see ("08" connection lost, "57" server shutting down,
 * "25" read-only transaction on a demoted writer, "40" rollback, "53" resources, "XX" internal,
 * "client" anything else). Their per-second errors are asked for even when ListMetrics does not
 * list them yet: it can take minutes to show a metric first published during the run.
 */
export const FAILOVER_ERROR_CLASSES = ['08', '25', '40', '53', '57', 'XX', 'client'] as const;

/** The window at 1-second resolution: whole seconds around it. */
export function secondWindow(startMs: number, endMs: number): { start: Date; end: Date } {
  const start = Math.floor(startMs / 1000) * 1000;
  return { start: new Date(start), end: new Date(Math.max(start + 1000, Math.ceil(endMs / 1000) * 1000)) };
}

/** Each query's datapoints by epoch second, summed over pages. */
async function fetchSeries(cw: CloudWatchClient, qs: QuerySet, start: Date, end: Date): Promise<Map<string, Map<number, number>>> {
  const series = new Map<string, Map<number, number>>();
  for await (const { key, result } of results(cw, qs, start, end)) {
    let m = series.get(key);
    if (!m) series.set(key, (m = new Map()));
    (result.Timestamps ?? []).forEach((t, j) => {
      const v = result.Values?.[j];
      if (v === undefined || !Number.isFinite(v)) return;
      const sec = Math.floor(new Date(t).getTime() / 1000);
      m!.set(sec, (m!.get(sec) ?? 0) + v);
    });
  }
  return series;
}

/**
 * A run's statements per wall-clock second and target, read back from CloudWatch at 1-second
 * resolution (GetMetricData, Period 1; CloudWatch keeps it 3 hours), as the failover analysis
 * takes it: successes are the SampleCount of `Latency`, summed over the operations of a target;
 * failures the Sum of `Errors` over operations and SQLSTATE classes (the classes ListMetrics knows
 * for the run, and {@link FAILOVER_ERROR_CLASSES}). The workers' exact outage windows do not
 * reach CloudWatch, so `outages` is empty and the analysis is to the second.
 */
export async function readPerSecondFromCloudWatch(cw: CloudWatchClient, w: MetricsWindow, workload: string): Promise<OutageInput> {
  const { start, end } = secondWindow(w.startMs, w.endMs);
  const qs = new QuerySet(w.namespace, 1);
  const workloads = projectCatalog().has(workload) ? [workload] : projectCatalog().names;
  const pairs = opTargets(workloads);
  const listed = await errorDimensions(cw, w);
  for (const { op, target } of pairs) {
    const dims = { RunId: w.runId, Operation: op, Target: target };
    qs.add(`ok|${target}|${op}`, 'Latency', dims, 'SampleCount');
    const classes = new Set<string>(FAILOVER_ERROR_CLASSES);
    for (const d of listed) if (d.Operation === op && d.Target === target && d.ErrorClass) classes.add(d.ErrorClass);
    for (const cls of classes) qs.add(`err|${target}|${op}|${cls}`, 'Errors', { ...dims, ErrorClass: cls }, 'Sum');
  }
  const series = await fetchSeries(cw, qs, start, end);
  const acc = {
    writer: { perSecond: new Map<number, { ok: number; errors: number }>(), outages: [], errorsByClass: {} as Record<string, number> },
    reader: { perSecond: new Map<number, { ok: number; errors: number }>(), outages: [], errorsByClass: {} as Record<string, number> },
  };
  for (const [key, points] of series) {
    const [kind, target, , cls] = key.split('|') as ['ok' | 'err', Target, string, string | undefined];
    const t = acc[target];
    for (const [sec, v] of points) {
      if (!v) continue;
      let b = t.perSecond.get(sec);
      if (!b) t.perSecond.set(sec, (b = { ok: 0, errors: 0 }));
      if (kind === 'ok') b.ok += v;
      else {
        b.errors += v;
        t.errorsByClass[cls!] = (t.errorsByClass[cls!] ?? 0) + v;
      }
    }
  }
  return acc;
}
