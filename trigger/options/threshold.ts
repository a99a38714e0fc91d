import { UsageError } from '../errors';

export type LatencyMetric = 'p50' | 'p90' | 'p99' | 'max' | 'avg';
export type ThresholdMetric = LatencyMetric | 'errors' | 'rate' | 'dlq';

/**
 * A pass/fail criterion, k6-style: a breach makes the exit code non-zero so CI can gate on it.
 * - latency (`p50`, `p90`, `p99`, `max`, `avg`): ms, checked for every operation and target;
 * - `errors`: failed statements, as a share of attempted ones (`%`) or as a count;
 * - `rate`: how far the achieved rate may be from the target, in percent, either way;
 * - `dlq`: messages of this run that went to the dead-letter queue, a count, as the workers count
 *   them (failed on their last receive, filed under the message's own run id): what the pipeline's
 *   smoke test gates on. The queue's older contents, and other runs' messages reaching it during
 *   this run, do not count.
 * A `scope:` prefix (an operation name, or `reader` / `writer`) narrows a latency or error
 * threshold to matching rows.
 */
export interface Threshold {
  /** The text as given, for messages. */
  readonly text: string;
  readonly metric: ThresholdMetric;
  readonly scope?: string;
  readonly op: '<' | '<=';
  readonly value: number;
  /** `percent` for error rate and rate error; `ms` for latency; `count` for an error or dead-letter count. */
  readonly unit: 'ms' | 'percent' | 'count';
}

const LATENCY = ['p50', 'p90', 'p99', 'max', 'avg'];
const EXAMPLES = 'e.g. "p99<50ms", "select:p90<=20ms", "errors<1%", "rate<2%", "dlq<1"';

export function parseThreshold(text: string): Threshold {
  const m = /^\s*(?:([A-Za-z][\w-]*):)?\s*([A-Za-z0-9]+)\s*(<=|<)\s*(\d+(?:\.\d+)?)\s*(ms|s|%)?\s*$/.exec(text);
  if (!m) throw new UsageError(`--threshold "${text}" is not metric<value: use ${EXAMPLES}`);
  const [, scope, rawMetric, op, num, unit] = m;
  const metric = rawMetric!.toLowerCase();
  const value = Number(num);
  const base = { text: text.trim(), op: op as '<' | '<=', ...(scope ? { scope: scope.toLowerCase() } : {}) };
  if (LATENCY.includes(metric)) {
    if (unit === '%') throw new UsageError(`--threshold "${text}": ${metric} is a latency; give ms or s, e.g. ${metric}<50ms`);
    return { ...base, metric: metric as LatencyMetric, value: unit === 's' ? value * 1000 : value, unit: 'ms' };
  }
  if (metric === 'errors') {
    if (unit === 'ms' || unit === 's') throw new UsageError(`--threshold "${text}": errors is a share (errors<1%) or a count (errors<10), not a time`);
    return { ...base, metric: 'errors', value, unit: unit === '%' ? 'percent' : 'count' };
  }
  if (metric === 'rate') {
    if (unit !== '%') throw new UsageError(`--threshold "${text}": rate is the achieved rate's distance from the target in percent, e.g. rate<2%`);
    if (scope) throw new UsageError(`--threshold "${text}": rate applies to the whole run; drop "${scope}:"`);
    return { ...base, metric: 'rate', value, unit: 'percent' };
  }
  if (metric === 'dlq') {
    if (unit !== undefined) throw new UsageError(`--threshold "${text}": dlq counts this run's dead-lettered messages; give a count, e.g. dlq<1`);
    if (scope) throw new UsageError(`--threshold "${text}": dlq applies to the whole run; drop "${scope}:"`);
    return { ...base, metric: 'dlq', value, unit: 'count' };
  }
  throw new UsageError(`--threshold "${text}": unknown metric "${rawMetric}" (known: ${[...LATENCY, 'errors', 'rate', 'dlq'].join(', ')}); ${EXAMPLES}`);
}
