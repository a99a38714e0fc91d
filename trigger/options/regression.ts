import { UsageError } from '../errors';

export type RegressionMetric = 'p50' | 'p90' | 'p99' | 'max' | 'errors' | 'rate';

/**
 * How much worse run B may be than run A (`report --compare A B --max-regression p99=10%`):
 * - `p50`, `p90`, `p99`, `max`: latency of any operation, up by at most N% or by at most a time
 *   (`p99=5ms`);
 * - `errors`: the error rate up by at most N percentage points (`errors=1%`), or the failed
 *   statements up by at most a count (`errors=10`);
 * - `rate`: the achieved rate down by at most N%.
 */
export interface RegressionLimit {
  /** The text as given, for messages. */
  readonly text: string;
  readonly metric: RegressionMetric;
  readonly value: number;
  /** `percent` of A's value (errors: percentage points), `ms` of latency, or a `count` of errors. */
  readonly unit: 'percent' | 'ms' | 'count';
}

const EXAMPLES = 'e.g. p99=10%, max=50ms, errors=1%, rate=5%';

/** One `--max-regression` value; several may be given at once, comma-separated. */
export function parseRegressionLimits(text: string): RegressionLimit[] {
  return text.split(',').filter((t) => t.trim() !== '').map(parseOne);
}

function parseOne(text: string): RegressionLimit {
  const m = /^\s*([A-Za-z0-9]+)\s*=\s*(\d+(?:\.\d+)?)\s*(%|ms|s)?\s*$/.exec(text);
  if (!m) throw new UsageError(`--max-regression "${text}" is not metric=limit: use ${EXAMPLES}`);
  const [, raw, num, unit] = m;
  const metric = raw!.toLowerCase();
  const value = Number(num);
  const base = { text: text.trim() };
  if (['p50', 'p90', 'p99', 'max'].includes(metric)) {
    if (!unit) throw new UsageError(`--max-regression "${text}": give ${metric} as a share (${metric}=10%) or a time (${metric}=5ms)`);
    return unit === '%' ? { ...base, metric: metric as RegressionMetric, value, unit: 'percent' } : { ...base, metric: metric as RegressionMetric, value: unit === 's' ? value * 1000 : value, unit: 'ms' };
  }
  if (metric === 'errors') {
    if (unit === 'ms' || unit === 's') throw new UsageError(`--max-regression "${text}": errors is percentage points of the error rate (errors=1%) or a count (errors=10), not a time`);
    return { ...base, metric: 'errors', value, unit: unit === '%' ? 'percent' : 'count' };
  }
  if (metric === 'rate') {
    if (unit !== '%') throw new UsageError(`--max-regression "${text}": rate is how far the achieved rate may drop, in percent, e.g. rate=5%`);
    return { ...base, metric: 'rate', value, unit: 'percent' };
  }
  throw new UsageError(`--max-regression "${text}": unknown metric "${raw}" (known: p50, p90, p99, max, errors, rate); ${EXAMPLES}`);
}
