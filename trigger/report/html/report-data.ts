/**
 * What the HTML report draws, from one run's record or two (a comparison): every chart's data on
 * one time axis, seconds since the load started, so two runs line up by their load's start. Pure:
 * the page's script only hands these arrays to uPlot.
 */
import { ERROR_CLASS_NAMES, SERVER_ROLES, type ErrorClass } from '../../../handlers/contract';
import { DATABASE_METRIC_NAMES, DATABASE_METRICS, type DatabaseMetric, type Samples } from '../database';
import type { RunRecord, StepStats, Timeline } from '../run-record';

/** One line of a chart. */
export interface ChartSeries {
  readonly label: string;
  readonly color: string;
  /** Canvas dash pattern; absent for a solid line. */
  readonly dash?: readonly number[];
  readonly width: number;
  /** The value of each x (null: no value there). */
  readonly values: readonly (number | null)[];
  /** Counts per step are drawn as steps (the value holds for the whole step); others as lines. */
  readonly stepped?: boolean;
  /** Sparse data (a point per message) is drawn as points. */
  readonly points?: boolean;
  /** The right-hand axis, when the chart has one. */
  readonly right?: boolean;
}

/** One run's lines on its own x values (seconds since its load started). */
export interface ChartTable {
  readonly x: readonly number[];
  readonly series: readonly ChartSeries[];
}

export interface ChartSpec {
  readonly id: string;
  readonly title: string;
  /** The left axis' label, with its unit. */
  readonly yLabel: string;
  /** The right axis' label, for series with `right`. */
  readonly y2Label?: string;
  /** A logarithmic left axis (latencies: a failover's seconds beside a normal run's milliseconds). */
  readonly log?: boolean;
  readonly group: 'load' | 'database';
  /**
   * A table per run (one, or A and B of a comparison). The page joins them on one x axis with
   * uPlot.join, which tells a step without a value (a gap) from an x that only the other run has.
   */
  readonly tables: readonly ChartTable[];
}

/** A stretch to shade on every chart: a drill's fault. */
export interface Shade {
  readonly from: number;
  readonly to: number;
  readonly label: string;
}

export interface ReportData {
  /** The x range every chart shows, seconds since the load started: the runs' timelines, database included. */
  readonly range: readonly [number, number];
  readonly shades: readonly Shade[];
  readonly charts: readonly ChartSpec[];
}

/**
 * Colours: one per operation (the same in every chart), one per error class, one per server.
 * Okabe-Ito's colour-blind-safe palette, dark enough for a light background.
 */
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#7F3C8D', '#5D6D7E'];
const ROLE_COLOR = { primary: '#0072B2', standby: '#009E73' } as const;
const RUN_DASH: ReadonlyArray<readonly number[] | undefined> = [undefined, [7, 4]];
/** Latency lines: p99 bold, p90 dashed, p50 thin (a comparison draws p99 and p50 only); `at` indexes StepStats. */
const P99 = { at: 3, name: 'p99', width: 2.25 } as const;
const P90 = { at: 2, name: 'p90', width: 1.25, dash: [5, 3] } as const;
const P50 = { at: 1, name: 'p50', width: 1.25 } as const;

interface RunView {
  readonly record: RunRecord;
  /** A, B in a comparison; empty for one run. */
  readonly tag: string;
  readonly dash: readonly number[] | undefined;
}

const secondsSince = (r: RunRecord, ms: number): number => Math.round(ms - r.facts.loadStartAt) / 1000;

/** The x of each step of a timeline: its start, seconds since the load started. */
function stepX(r: RunRecord, startMs: number, stepSeconds: number, steps: number): number[] {
  return Array.from({ length: steps }, (_, i) => secondsSince(r, startMs + i * stepSeconds * 1000));
}

const sumSteps = (arrays: ReadonlyArray<readonly number[]>, steps: number): number[] =>
  Array.from({ length: steps }, (_, i) => arrays.reduce((a, xs) => a + (xs[i] ?? 0), 0));

const stat = (xs: readonly (StepStats | null)[], k: number): Array<number | null> => xs.map((s) => (s ? s[k]! : null));

const perSecond = (xs: readonly number[], t: Timeline): number[] => xs.map((v) => Math.round((v / t.stepSeconds) * 1000) / 1000);

/** The report's data for one run, or for two runs compared (A, then B). */
export function reportData(records: readonly RunRecord[]): ReportData {
  const runs: RunView[] = records.map((record, i) => ({ record, tag: records.length > 1 ? `${String.fromCharCode(65 + i)} ` : '', dash: RUN_DASH[i] }));
  // One colour per operation (and target) across every run, in the order they first appear.
  const opKeys = [...new Set(records.flatMap((r) => r.timeline.series.map((s) => `${s.op}/${s.target}`)))];
  const opColor = (key: string): string => PALETTE[opKeys.indexOf(key) % PALETTE.length]!;
  const classColor = (cls: ErrorClass): string => PALETTE[ERROR_CLASS_NAMES.indexOf(cls) % PALETTE.length]!;
  const compare = runs.length > 1;

  const charts: ChartSpec[] = [];
  const hasData = (tables: readonly ChartTable[]): boolean => tables.some((t) => t.series.some((s) => s.values.some((y) => y !== null)));
  const chart = (spec: Omit<ChartSpec, 'tables'>, each: (v: RunView, t: Timeline) => ChartSeries[]): void => {
    const tables = runs.map((v) => {
      const t = v.record.timeline;
      return { x: stepX(v.record, t.startMs, t.stepSeconds, t.steps), series: each(v, t) };
    }).filter((t) => t.series.length);
    if (hasData(tables)) charts.push({ ...spec, tables });
  };
  const line = (v: RunView, label: string, color: string, values: readonly (number | null)[], more: Partial<ChartSeries> = {}): ChartSeries => ({
    label: `${v.tag}${label}`, color, width: 1.5, values, ...(v.dash ? { dash: v.dash } : {}), ...more,
  });

  chart({ id: 'rate', title: 'Rate: planned and achieved', yLabel: 'statements / s', group: 'load' }, (v, t) => {
    const r = v.record;
    const attempted = sumSteps(t.series.flatMap((s) => [s.ok, ...Object.values(s.errors)]), t.steps);
    // The plan is per second of the load; drawn on the timeline's own steps.
    const planned = Array.from({ length: t.steps }, (_, i): number | null => {
      const sec = Math.floor(secondsSince(r, t.startMs + i * t.stepSeconds * 1000));
      if (t.stepSeconds !== 1) return null;
      return r.facts.plan.perSecond[sec] ?? null;
    });
    return [
      line(v, 'planned', '#5D6D7E', planned, { stepped: true, width: 1.25, dash: v.dash ?? [4, 3] }),
      line(v, 'achieved', '#0072B2', perSecond(attempted, t), { stepped: true, width: 2 }),
    ];
  });

  chart({ id: 'latency', title: 'Statement latency per operation', yLabel: 'ms (log scale)', log: true, group: 'load' }, (v, t) =>
    t.series.flatMap((s) => {
      const key = `${s.op}/${s.target}`;
      const pcts = compare ? [P99, P50] : [P99, P90, P50];
      return pcts.map((p) => {
        const dash = v.dash ?? ('dash' in p ? p.dash : undefined);
        return line(v, `${key} ${p.name}`, opColor(key), stat(s.latency, p.at), { width: p.width, ...(dash ? { dash } : {}) });
      });
    }));

  chart({ id: 'errors', title: 'Failed statements by SQLSTATE class', yLabel: 'failed statements / s', group: 'load' }, (v, t) => {
    const classes = ERROR_CLASS_NAMES.filter((c) => t.series.some((s) => s.errors[c]));
    if (!classes.length) return [line(v, 'all classes', '#5D6D7E', new Array<number>(t.steps).fill(0), { stepped: true })];
    return classes.map((c) => line(v, `class ${c}`, classColor(c), perSecond(sumSteps(t.series.map((s) => s.errors[c] ?? []), t.steps), t), { stepped: true, width: 2 }));
  });

  chart({ id: 'staleness', title: 'Replica staleness as clients see it', yLabel: 'ms (log scale)', y2Label: 'markers lost / s', log: true, group: 'load' }, (v, t) => {
    const st = t.staleness;
    if (!st) return [];
    return [
      line(v, 'max', '#D55E00', stat(st.ms, 4), { width: 1.25 }),
      line(v, 'p50', '#0072B2', stat(st.ms, 1), { width: 2 }),
      line(v, 'not seen in time', '#7F3C8D', perSecond(st.unseen, t), { stepped: true, right: true }),
      line(v, 'not written', '#5D6D7E', perSecond(st.failed, t), { stepped: true, right: true }),
    ];
  });

  chart({ id: 'answered', title: 'Who answered: server role', yLabel: 'statements / s', group: 'load' }, (v, t) =>
    SERVER_ROLES.map((role) => line(v, role, ROLE_COLOR[role], perSecond(sumSteps(t.series.map((s) => s.answeredBy[role]), t.steps), t), { stepped: true, width: 2 })));

  chart({ id: 'lag', title: 'Schedule lag (start - scheduled start)', yLabel: 'ms (log scale)', log: true, group: 'load' }, (v, t) =>
    t.series.flatMap((s) => {
      const key = `${s.op}/${s.target}`;
      return [
        line(v, `${key} p99`, opColor(key), stat(s.scheduleLag, 3), { width: 2.25 }),
        line(v, `${key} p50`, opColor(key), stat(s.scheduleLag, 1), { width: 1.25 }),
      ];
    }));

  chart({ id: 'dwell', title: 'Queue dwell (sent to received)', yLabel: 'ms (log scale)', log: true, group: 'load' }, (v, t) => [
    line(v, 'max', '#D55E00', stat(t.messages.dwell, 4), { points: true }),
    line(v, 'p50', '#0072B2', stat(t.messages.dwell, 1), { points: true }),
  ]);

  // The database's own metrics: one chart per metric, a line per server or instance.
  const serverNames = [...new Set(records.flatMap((r) => r.database?.servers.map((s) => s.name) ?? []))];
  const serverColor = (name: string): string => PALETTE[serverNames.indexOf(name) % PALETTE.length]!;
  const dbChart = (id: string, title: string, yLabel: string, each: (v: RunView) => ChartSeries[]): void => {
    const tables = runs.flatMap((v) => {
      const d = v.record.database;
      if (!d) return [];
      // Each sample holds for its step (a second locally, a minute from CloudWatch).
      const series = each(v).map((s) => ({ ...s, stepped: true }));
      return series.length ? [{ x: stepX(v.record, d.startMs, d.stepSeconds, d.steps), series }] : [];
    });
    if (hasData(tables)) charts.push({ id, title, yLabel, group: 'database', tables });
  };
  for (const m of DATABASE_METRIC_NAMES) {
    const info = DATABASE_METRICS[m];
    dbChart(`db-${m}`, databaseTitle(m), info.unit ? `${info.label} (${info.unit})` : info.label, (v) =>
      (v.record.database?.servers ?? []).flatMap((s) => (s.metrics[m] ? [line(v, `${s.name} (${s.role})`, serverColor(s.name), s.metrics[m] as Samples, { width: 2 })] : [])));
  }
  dbChart('db-worker', 'Worker function (AWS Lambda)', 'concurrent executions', (v) => {
    const w = v.record.database?.worker;
    if (!w) return [];
    return [
      line(v, 'concurrent executions', '#0072B2', w.concurrency, { width: 2 }),
      line(v, 'throttles', '#D55E00', w.throttles, { width: 2, right: true }),
    ];
  });
  const worker = charts.find((c) => c.id === 'db-worker');
  if (worker) charts[charts.indexOf(worker)] = { ...worker, y2Label: 'throttles / step' };

  // From the first step's start to the last step's end, of every run's timeline and database.
  let from = Infinity;
  let to = -Infinity;
  for (const v of runs) {
    const t = v.record.timeline;
    const d = v.record.database;
    for (const [startMs, stepSeconds, steps] of [[t.startMs, t.stepSeconds, t.steps], ...(d ? [[d.startMs, d.stepSeconds, d.steps]] : [])] as Array<[number, number, number]>) {
      from = Math.min(from, secondsSince(v.record, startMs));
      to = Math.max(to, secondsSince(v.record, startMs + steps * stepSeconds * 1000));
    }
  }
  const range: [number, number] = Number.isFinite(from) ? [from, to] : [0, 1];
  const shades = runs.flatMap((v) => {
    const e = v.record.facts.drill?.event;
    if (!e) return [];
    return [{ from: secondsSince(v.record, e.startedAt), to: secondsSince(v.record, e.completedAt), label: `${v.tag}${v.record.facts.drill!.kind}` }];
  });
  return { range, shades, charts };
}

function databaseTitle(m: DatabaseMetric): string {
  switch (m) {
    case 'capacity': return 'Aurora Serverless capacity';
    case 'cpu': return 'Database CPU';
    case 'connections': return 'Database connections';
    case 'commits': return 'Commits per second';
    case 'commitLatency': return 'Commit latency';
    case 'replicaLag': return 'Replica lag (as the servers report it)';
  }
}
