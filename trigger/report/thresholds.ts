import type { Threshold } from '../options/threshold';
import type { OpSummary, RunSummary } from './summary';

export interface ThresholdResult {
  readonly threshold: string;
  readonly ok: boolean;
  /** What was measured, e.g. "12.3 ms (select/reader)" or "0.21%". */
  readonly actual: string;
}

function rowsFor(summary: RunSummary, scope: string | undefined): readonly OpSummary[] {
  if (!scope) return summary.operations;
  return summary.operations.filter((o) => o.op === scope || o.target === scope);
}

function passes(t: Threshold, value: number): boolean {
  return t.op === '<' ? value < t.value : value <= t.value;
}

/**
 * Check each threshold against a summary. Latency thresholds hold for every matching row (the
 * worst one is reported); a threshold that matches no measured row fails, since a gate that
 * passes on no data would pass a run that never ran. For the same reason an incomplete summary
 * (not every message's outcome is in) fails every threshold, with the reason.
 */
export function evaluateThresholds(summary: RunSummary, thresholds: readonly Threshold[]): ThresholdResult[] {
  return thresholds.map((t): ThresholdResult => {
    if (summary.incomplete !== null) return { threshold: t.text, ok: false, actual: `not checked: the summary is incomplete (${summary.incomplete})` };
    if (t.metric === 'rate') {
      const err = Math.abs(summary.achieved.rateErrorPct);
      return { threshold: t.text, ok: summary.achieved.statements > 0 && passes(t, err), actual: `${fmt(summary.achieved.rateErrorPct, 2)}%` };
    }
    if (t.metric === 'dlq') {
      const n = summary.messages.deadLettered;
      // Unknown is not zero: a gate that passes without looking would pass a broken worker.
      if (n === null) return { threshold: t.text, ok: false, actual: "unknown: this run's record has no dead-letter count (saved by an older version)" };
      return { threshold: t.text, ok: passes(t, n), actual: `${n}` };
    }
    const rows = rowsFor(summary, t.scope);
    if (t.metric === 'errors') {
      const errors = rows.reduce((s, o) => s + o.errors, 0);
      const attempted = rows.reduce((s, o) => s + o.ok + o.errors, 0);
      if (attempted === 0) return { threshold: t.text, ok: false, actual: `no statements${t.scope ? ` for ${t.scope}` : ''}` };
      if (t.unit === 'count') return { threshold: t.text, ok: passes(t, errors), actual: `${errors}` };
      const pct = (100 * errors) / attempted;
      return { threshold: t.text, ok: passes(t, pct), actual: `${fmt(pct, 2)}% (${errors} of ${attempted})` };
    }
    let worst: { value: number; row: OpSummary } | undefined;
    for (const row of rows) {
      if (!row.latency) continue;
      const value = row.latency[t.metric];
      if (!worst || value > worst.value) worst = { value, row };
    }
    if (!worst) return { threshold: t.text, ok: false, actual: `no latency measured${t.scope ? ` for ${t.scope}` : ''}` };
    return { threshold: t.text, ok: passes(t, worst.value), actual: `${fmt(worst.value, 2)} ms (${worst.row.op}/${worst.row.target})` };
  });
}

function fmt(x: number, digits: number): string {
  return x.toFixed(digits);
}
