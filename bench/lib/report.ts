/**
 * Benchmark results: goals, pass/fail, the printed table and the JSON record. Pure functions.
 */

/** A goal: the value must be at least, at most, or within ± of zero. */
export type Goal =
  | { readonly kind: 'atLeast'; readonly limit: number }
  | { readonly kind: 'atMost'; readonly limit: number }
  | { readonly kind: 'within'; readonly limit: number };

export function describeGoal(g: Goal, unit: string): string {
  const u = unit ? ` ${unit}` : '';
  switch (g.kind) {
    case 'atLeast': return `>= ${formatNumber(g.limit)}${u}`;
    case 'atMost': return `<= ${formatNumber(g.limit)}${u}`;
    case 'within': return `within ±${formatNumber(g.limit)}${u}`;
  }
}

export function meets(g: Goal, value: number): boolean {
  switch (g.kind) {
    case 'atLeast': return value >= g.limit;
    case 'atMost': return value <= g.limit;
    case 'within': return Math.abs(value) <= g.limit;
  }
}

/** One printed line: a figure, possibly at one of several operating points. */
export interface Row {
  readonly figure: string;
  /** The operating point, e.g. "500/s". */
  readonly at?: string;
  readonly value: number | null;
  readonly unit: string;
  readonly goal?: Goal;
  /** null when not measured (an error, or skipped). */
  readonly pass: boolean | null;
  /** A few words on what was measured or why it failed. */
  readonly note?: string;
  /** CPU that processes this benchmark did not start took meanwhile, % of the machine: noise. */
  readonly othersCpuPct?: number;
}

/** What one figure contributes to results.json. */
export interface FigureRecord {
  readonly value: number | null;
  readonly unit: string;
  readonly goal?: string;
  readonly pass: boolean | null;
  readonly details: unknown;
}

export function makeRow(figure: string, value: number | null, unit: string, goal: Goal | undefined, extra: { at?: string; note?: string; othersCpuPct?: number } = {}): Row {
  return {
    figure, value, unit,
    ...(goal ? { goal } : {}),
    pass: value === null || !goal ? null : meets(goal, value),
    ...(extra.at ? { at: extra.at } : {}),
    ...(extra.note ? { note: extra.note } : {}),
    ...(extra.othersCpuPct !== undefined ? { othersCpuPct: Math.round(extra.othersCpuPct) } : {}),
  };
}

/**
 * A figure's record from its rows. Rows with a goal decide: the worst of them (the furthest from
 * its goal) is the headline value; rows without a goal (diagnostics) only add details.
 */
export function recordOf(rows: readonly Row[], details: unknown): FigureRecord {
  const judged = rows.filter((r) => r.goal);
  if (judged.length === 0) {
    const head = rows[0];
    return { value: head?.value ?? null, unit: head?.unit ?? '', pass: null, details };
  }
  const measured = judged.filter((r) => r.value !== null);
  const head = worst(measured.filter((r) => r.pass === false)) ?? worst(measured) ?? judged[0]!;
  return {
    value: head.value,
    unit: head.unit,
    goal: describeGoal(head.goal!, head.unit),
    pass: judged.some((r) => r.pass === null) ? null : judged.every((r) => r.pass === true),
    details,
  };
}

function worst(rows: readonly Row[]): Row | undefined {
  if (rows.length === 0) return undefined;
  const g = rows[0]!.goal;
  if (!g) return rows[0];
  const badness = (r: Row): number => {
    const v = r.value ?? 0;
    return g.kind === 'atLeast' ? -v : g.kind === 'atMost' ? v : Math.abs(v);
  };
  return [...rows].sort((a, b) => badness(b) - badness(a))[0];
}

export function formatNumber(x: number): string {
  const abs = Math.abs(x);
  if (abs >= 100_000) return Math.round(x).toLocaleString('en-US');
  if (abs >= 1000) return Math.round(x).toLocaleString('en-US');
  if (abs >= 100) return x.toFixed(0);
  if (abs >= 10) return x.toFixed(1);
  if (abs >= 1) return x.toFixed(2);
  return x.toFixed(3);
}

/** The table as aligned plain text. "others": the machine's CPU other processes took during that measurement. */
export function formatTable(rows: readonly Row[]): string {
  const cells = rows.map((r) => [
    r.at ? `${r.figure} (${r.at})` : r.figure,
    r.value === null ? 'n/a' : `${formatNumber(r.value)}${r.unit ? ` ${r.unit}` : ''}`,
    r.goal ? describeGoal(r.goal, r.unit) : '',
    r.pass === null ? (r.goal ? 'n/a' : '') : r.pass ? 'pass' : 'FAIL',
    r.othersCpuPct === undefined ? '' : `${r.othersCpuPct}%`,
    r.note ?? '',
  ]);
  const header = ['figure', 'value', 'goal', 'result', 'others', 'notes'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]): string => c.map((x, i) => (i === 1 ? x.padStart(widths[i]!) : x.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export { round } from '../../trigger/round';
