/**
 * Two saved runs side by side (`report --compare A B`): per operation and target the throughput,
 * p50, p99, max and errors of A and of B and how B differs, the whole run's rate and error rate,
 * the staleness probe; and, for CI, whether B is worse than A by more than allowed
 * (`--max-regression`). Pure: summaries in, a comparison out.
 */
import type { RegressionLimit } from '../options/regression';
import { formatDuration } from '../options/duration';
import type { RunSummary, Stats } from './summary';

export type CompareMetric = 'tps' | 'p50' | 'p90' | 'p99' | 'max' | 'errors' | 'rate' | 'error rate';

export interface CompareRow {
  /** An operation, `all` for the whole run, or `staleness` for the probe. */
  readonly op: string;
  /** The operation's target; `-` for the whole run and the probe. */
  readonly target: string;
  readonly metric: CompareMetric;
  readonly unit: '/s' | 'ms' | '' | '%';
  readonly a: number | null;
  readonly b: number | null;
  /** (b - a) / a in percent; for `error rate`, b - a in percentage points; null when a is 0 or either is missing. */
  readonly change: number | null;
}

export interface RunLabel {
  readonly runId: string;
  readonly description: string;
}

export interface Comparison {
  readonly a: RunLabel;
  readonly b: RunLabel;
  readonly rows: readonly CompareRow[];
  /** Operations (op/target) measured in only one of the runs. */
  readonly onlyInA: readonly string[];
  readonly onlyInB: readonly string[];
}

export interface RegressionResult {
  readonly limit: string;
  readonly ok: boolean;
  /** What was found, e.g. "+20.0% (select/reader)". */
  readonly actual: string;
}

function label(s: RunSummary): RunLabel {
  return {
    runId: s.runId,
    description: `${s.workload}, ${s.mode} mode, ${s.mix}, ${s.planned.rate}/s for ${formatDuration(s.durationMs)}, ${s.source === 'local' ? 'local' : 'AWS'}, from ${s.startedAt}`,
  };
}

const pct = (a: number | null, b: number | null): number | null => (a === null || b === null || a === 0 ? null : (100 * (b - a)) / a);

/** Compare B with A. */
export function compareRuns(a: RunSummary, b: RunSummary): Comparison {
  const rows: CompareRow[] = [];
  const errorRate = (s: RunSummary): number => s.totals.errorRatePct;
  rows.push({ op: 'all', target: '-', metric: 'rate', unit: '/s', a: a.achieved.rate, b: b.achieved.rate, change: pct(a.achieved.rate, b.achieved.rate) });
  rows.push({ op: 'all', target: '-', metric: 'error rate', unit: '%', a: errorRate(a), b: errorRate(b), change: errorRate(b) - errorRate(a) });
  const key = (o: { op: string; target: string }): string => `${o.op}/${o.target}`;
  for (const oa of a.operations) {
    const ob = b.operations.find((o) => key(o) === key(oa));
    if (!ob) continue;
    const lat = (s: Stats | null, k: 'p50' | 'p99' | 'max'): number | null => (s ? s[k] : null);
    const row = (metric: CompareMetric, unit: CompareRow['unit'], x: number | null, y: number | null): CompareRow =>
      ({ op: oa.op, target: oa.target, metric, unit, a: x, b: y, change: pct(x, y) });
    rows.push(row('tps', '/s', oa.throughput, ob.throughput));
    for (const k of ['p50', 'p99', 'max'] as const) rows.push(row(k, 'ms', lat(oa.latency, k), lat(ob.latency, k)));
    rows.push(row('errors', '', oa.errors, ob.errors));
  }
  const sa = a.staleness?.ms ?? null;
  const sb = b.staleness?.ms ?? null;
  if (sa || sb) {
    for (const k of ['p50', 'p99', 'max'] as const) rows.push({ op: 'staleness', target: '-', metric: k, unit: 'ms', a: sa?.[k] ?? null, b: sb?.[k] ?? null, change: pct(sa?.[k] ?? null, sb?.[k] ?? null) });
  }
  const keysA = a.operations.map(key);
  const keysB = b.operations.map(key);
  return { a: label(a), b: label(b), rows, onlyInA: keysA.filter((k) => !keysB.includes(k)), onlyInB: keysB.filter((k) => !keysA.includes(k)) };
}

const signed = (x: number, digits = 1): string => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;

/**
 * Check each limit: latency limits hold for every operation both runs measured (the worst is
 * reported); a limit with nothing to compare fails, as a gate that passes on no data would pass
 * a run that never ran.
 */
export function evaluateRegressions(a: RunSummary, b: RunSummary, limits: readonly RegressionLimit[]): RegressionResult[] {
  return limits.map((l): RegressionResult => {
    if (l.metric === 'rate') {
      const change = pct(a.achieved.rate, b.achieved.rate);
      if (change === null) return { limit: l.text, ok: false, actual: 'no rate measured in A' };
      return { limit: l.text, ok: -change <= l.value, actual: `${signed(change)}% (${a.achieved.rate.toFixed(1)}/s -> ${b.achieved.rate.toFixed(1)}/s)` };
    }
    if (l.metric === 'errors') {
      if (l.unit === 'count') {
        const d = b.totals.errors - a.totals.errors;
        return { limit: l.text, ok: d <= l.value, actual: `${d >= 0 ? '+' : ''}${d} failed statements (${a.totals.errors} -> ${b.totals.errors})` };
      }
      const d = b.totals.errorRatePct - a.totals.errorRatePct;
      return { limit: l.text, ok: d <= l.value, actual: `${signed(d, 2)} points (${a.totals.errorRatePct.toFixed(2)}% -> ${b.totals.errorRatePct.toFixed(2)}%)` };
    }
    const metric = l.metric;
    let worst: { by: number; text: string } | undefined;
    for (const oa of a.operations) {
      const ob = b.operations.find((o) => o.op === oa.op && o.target === oa.target);
      if (!oa.latency || !ob?.latency) continue;
      const x = oa.latency[metric];
      const y = ob.latency[metric];
      const by = l.unit === 'percent' ? (x > 0 ? (100 * (y - x)) / x : y > 0 ? Infinity : 0) : y - x;
      const text = `${l.unit === 'percent' ? `${Number.isFinite(by) ? signed(by) : '+inf'}%` : `${signed(by, 2)} ms`} (${oa.op}/${oa.target}: ${x.toFixed(2)} -> ${y.toFixed(2)} ms)`;
      if (!worst || by > worst.by) worst = { by, text };
    }
    if (!worst) return { limit: l.text, ok: false, actual: `no operation with ${metric} latency in both runs` };
    return { limit: l.text, ok: worst.by <= l.value, actual: worst.text };
  });
}

function num(x: number | null, unit: CompareRow['unit']): string {
  if (x === null) return '-';
  if (unit === '') return String(Math.round(x));
  return x.toFixed(unit === '/s' ? 1 : 2);
}

/** One cell of the change column: a percentage, or percentage points for the error rate. */
export function changeText(r: CompareRow): string {
  if (r.change === null) return '-';
  return r.metric === 'error rate' ? `${signed(r.change, 2)} pt` : `${signed(r.change)}%`;
}

/** The comparison as text: one row per operation and metric, then the limits. */
export function formatComparison(c: Comparison, results: readonly RegressionResult[] = []): string {
  const out = [`A ${c.a.runId}: ${c.a.description}`, `B ${c.b.runId}: ${c.b.description}`, ''];
  const rows = c.rows.map((r) => [r.op, r.target, `${r.metric}${r.unit ? ` ${r.unit}` : ''}`, num(r.a, r.unit), num(r.b, r.unit), changeText(r)]);
  const header = ['operation', 'target', 'metric', 'A', 'B', 'B vs A'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((x, i) => (i < 3 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ').trimEnd();
  out.push(line(header), ...rows.map(line));
  if (c.onlyInA.length) out.push(`only in A: ${c.onlyInA.join(', ')}`);
  if (c.onlyInB.length) out.push(`only in B: ${c.onlyInB.join(', ')}`);
  if (results.length) {
    out.push('max regression (B against A):');
    for (const r of results) out.push(`  ${r.ok ? 'ok    ' : 'FAILED'} ${r.limit}: ${r.actual}`);
  }
  return out.join('\n');
}
