/**
 * How far one run's figure could have landed: a bootstrap interval over its rounds.
 *
 * A figure made of rounds (the median of pgbenchRatio's round ratios, side by side's pooled
 * percentiles) is one draw of the machine's weather. Resampling the rounds with replacement, many
 * times, and taking the figure of each resample shows how much it rests on a few of them: a p99
 * ratio of 1.3 whose interval is 0.9-6 was decided by one or two rounds; one whose interval is
 * 1.2-1.4 says the rounds agree. Percentile bootstrap (Efron & Tibshirani, "An Introduction to the
 * Bootstrap", ch. 13): the interval is the middle `level` of the resampled figures. It is this run's
 * spread, not a confidence interval on the true ratio: a resample leaves out about a third of the
 * rounds and never holds a round the run did not have (a stall that hit no round), and with 8-20
 * rounds its coverage for a pooled p99 is not known. Below {@link MIN_ROUNDS} rounds there is none.
 *
 * Seeded: the same rounds give the same interval.
 */
import { Histogram } from '../../handlers/metrics/histogram';
import { median } from './report';

export interface BootstrapOptions {
  /** @default 2000 */
  readonly resamples?: number;
  /** The share of the resampled figures the interval holds. @default 0.95 */
  readonly level?: number;
  /** @default 1 */
  readonly seed?: number;
  /**
   * A stratum per round: each resample draws within each stratum as many rounds as it has (so a
   * design that alternates which side goes first stays balanced in every resample). @default one stratum
   */
  readonly strata?: readonly number[];
}

/** Fewer rounds than this give no interval: with 1 or 2 it is only their min and max. */
export const MIN_ROUNDS = 6;

export interface Interval {
  readonly lo: number;
  readonly hi: number;
}

/** An interval as the log and the table show it ("n/a" where there is none). */
export function showInterval(i: Interval | null, digits = 3): string {
  return i ? `${i.lo.toFixed(digits)}-${i.hi.toFixed(digits)}` : 'n/a';
}

/** mulberry32: a small, seeded 32-bit generator; plenty for picking rounds. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The value at quantile q (0-1) of sorted xs, interpolated between neighbours. */
function quantile(sorted: readonly number[], q: number): number {
  const at = q * (sorted.length - 1);
  const i = Math.floor(at);
  const frac = at - i;
  return i + 1 < sorted.length ? sorted[i]! + (sorted[i + 1]! - sorted[i]!) * frac : sorted[i]!;
}

/**
 * The percentile-bootstrap interval of each figure `statistic` computes from `n` rounds, or null
 * where there is none: fewer than {@link MIN_ROUNDS} rounds, or so many resamples without a finite
 * figure (a side with nothing to divide by) that an end of the interval is not finite.
 * `statistic` gets, per round, how many times the resample picked it (the counts add up to n).
 */
export function bootstrap<K extends string>(n: number, statistic: (picks: Uint32Array) => Record<K, number>, opts: BootstrapOptions = {}): Record<K, Interval | null> {
  const resamples = opts.resamples ?? 2000;
  const level = opts.level ?? 0.95;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`bootstrap needs at least one round, got ${n}`);
  if (!(level > 0 && level < 1)) throw new RangeError(`level must be between 0 and 1, got ${level}`);
  if (!Number.isInteger(resamples) || resamples < 1) throw new RangeError(`resamples must be a positive integer, got ${resamples}`);
  if (opts.strata && opts.strata.length !== n) throw new RangeError(`strata must name one stratum per round: ${opts.strata.length} for ${n} rounds`);
  const byStratum = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const key = opts.strata?.[i] ?? 0;
    if (!byStratum.has(key)) byStratum.set(key, []);
    byStratum.get(key)!.push(i);
  }
  const groups = [...byStratum.values()];
  const random = generator(opts.seed ?? 1);
  const picks = new Uint32Array(n);
  const seen = new Map<K, { finite: number[]; other: number }>();
  for (let b = 0; b < resamples; b++) {
    picks.fill(0);
    for (const g of groups) for (let i = 0; i < g.length; i++) picks[g[Math.floor(random() * g.length)]!]! += 1;
    for (const [k, v] of Object.entries(statistic(picks)) as Array<[K, number]>) {
      let xs = seen.get(k);
      if (!xs) seen.set(k, (xs = { finite: [], other: 0 }));
      // NaN would leave a sort unsorted without a word; Infinity has no place in an interpolation.
      if (Number.isFinite(v)) xs.finite.push(v);
      else xs.other += 1;
    }
  }
  const out = {} as Record<K, Interval | null>;
  const tail = (1 - level) / 2;
  for (const [k, { finite, other }] of seen) {
    if (n < MIN_ROUNDS || other > tail * resamples) {
      out[k] = null;
      continue;
    }
    // At most one tail's worth of resamples had no finite figure: the interval is read from the rest.
    finite.sort((a, z) => a - z);
    out[k] = { lo: quantile(finite, tail), hi: quantile(finite, 1 - tail) };
  }
  return out;
}

/** The median of the picked values (each counted as often as it was picked). */
export function pickedMedian(values: readonly number[], picks: Uint32Array): number {
  return median(values.flatMap((v, i) => Array<number>(picks[i]!).fill(v)));
}

/** The rounds' histograms merged, round i counted picks[i] times: a resample's pooled side. */
export function pickedMerge(rounds: readonly Histogram[], picks: Uint32Array): Histogram {
  const merged = new Histogram();
  rounds.forEach((h, i) => { for (let c = 0; c < picks[i]!; c++) merged.merge(h); });
  return merged;
}
