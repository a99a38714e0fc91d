/**
 * How far one run's figure could have landed: a bootstrap interval over its rounds.
 *
 * A figure made of rounds (the median of pgbenchRatio's round ratios, side by side's pooled
 * percentiles) is one draw of the machine's weather. Resampling the rounds with replacement, many
 * times, and taking the figure of each resample shows how much it rests on a few rounds: a p99
 * ratio of 1.3 whose interval is 0.9-6 says one stall decided it; one whose interval is 1.2-1.4
 * says the rounds agree. Percentile bootstrap (Efron & Tibshirani, "An Introduction to the
 * Bootstrap", ch. 13): the interval is the middle `level` of the resampled figures. With 8-20
 * rounds it is rough, and it cannot show what the run never met (a stall that hit no round), so it
 * is a spread of this run, not a guarantee about the next.
 *
 * Seeded: the same rounds give the same interval.
 */
import type { Histogram } from '../../handlers/metrics/histogram';

export interface BootstrapOptions {
  /** @default 2000 */
  readonly resamples?: number;
  /** The share of the resampled figures the interval holds. @default 0.95 */
  readonly level?: number;
  /** @default 1 */
  readonly seed?: number;
}

export interface Interval {
  readonly lo: number;
  readonly hi: number;
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
 * The percentile-bootstrap interval of each figure `statistic` computes from `n` rounds.
 * `statistic` gets, per round, how many times the resample picked it (the counts add up to n).
 */
export function bootstrap<K extends string>(n: number, statistic: (picks: Uint32Array) => Record<K, number>, opts: BootstrapOptions = {}): Record<K, Interval> {
  const resamples = opts.resamples ?? 2000;
  const level = opts.level ?? 0.95;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`bootstrap needs at least one round, got ${n}`);
  if (!(level > 0 && level < 1)) throw new RangeError(`level must be between 0 and 1, got ${level}`);
  if (!Number.isInteger(resamples) || resamples < 1) throw new RangeError(`resamples must be a positive integer, got ${resamples}`);
  const random = generator(opts.seed ?? 1);
  const picks = new Uint32Array(n);
  const seen = new Map<K, number[]>();
  for (let b = 0; b < resamples; b++) {
    picks.fill(0);
    for (let i = 0; i < n; i++) picks[Math.floor(random() * n)]! += 1;
    for (const [k, v] of Object.entries(statistic(picks)) as Array<[K, number]>) {
      let xs = seen.get(k);
      if (!xs) seen.set(k, (xs = []));
      xs.push(v);
    }
  }
  const out = {} as Record<K, Interval>;
  for (const [k, xs] of seen) {
    xs.sort((a, z) => a - z);
    out[k] = { lo: quantile(xs, (1 - level) / 2), hi: quantile(xs, 1 - (1 - level) / 2) };
  }
  return out;
}

/** The median of the picked values (each counted as often as it was picked). */
export function pickedMedian(values: readonly number[], picks: Uint32Array): number {
  const xs: number[] = [];
  values.forEach((v, i) => { for (let c = 0; c < picks[i]!; c++) xs.push(v); });
  xs.sort((a, z) => a - z);
  const mid = xs.length >> 1;
  return xs.length % 2 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
}

/**
 * Several histograms (one per round) on one axis of bucket values, so that the percentile of any
 * weighted sum of them, as {@link Histogram.percentile} would read it from their merge, is one pass
 * over an array instead of merging Maps.
 */
export class RoundHistograms {
  private readonly values: number[];
  private readonly counts: Float64Array[];
  private readonly mins: number[];
  private readonly maxes: number[];
  private readonly sum: Float64Array;

  constructor(rounds: readonly Histogram[]) {
    const data = rounds.map((h) => h.toData());
    this.values = [...new Set(data.flatMap((d) => d.values))].sort((a, z) => a - z);
    const index = new Map(this.values.map((v, i) => [v, i]));
    this.counts = data.map((d) => {
      const c = new Float64Array(this.values.length);
      d.values.forEach((v, i) => { c[index.get(v)!] = d.counts[i]!; });
      return c;
    });
    this.mins = rounds.map((h) => (h.count ? h.min : Infinity));
    this.maxes = rounds.map((h) => (h.count ? h.max : -Infinity));
    this.sum = new Float64Array(this.values.length);
  }

  /** The p-th percentile (nearest rank, bucket value clamped to the exact min and max) of the rounds merged, round i counted picks[i] times. */
  percentile(p: number, picks: Uint32Array): number {
    this.sum.fill(0);
    let n = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let r = 0; r < this.counts.length; r++) {
      const k = picks[r]!;
      if (!k) continue;
      const c = this.counts[r]!;
      for (let i = 0; i < c.length; i++) {
        if (c[i]) { this.sum[i]! += k * c[i]!; n += k * c[i]!; }
      }
      if (this.mins[r]! < min) min = this.mins[r]!;
      if (this.maxes[r]! > max) max = this.maxes[r]!;
    }
    if (n === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * n));
    let seen = 0;
    for (let i = 0; i < this.sum.length; i++) {
      seen += this.sum[i]!;
      if (seen >= rank) return Math.min(max, Math.max(min, this.values[i]!));
    }
    return max;
  }
}
