/**
 * A log-bucketed latency histogram. Each value is stored as the centre of its bucket, and buckets
 * grow by a fixed ratio, so any percentile read from it is within {@link RELATIVE_PRECISION} of the
 * raw value. CloudWatch receives the bucket centres as `Values` with their `Counts`, and computes
 * its percentiles from those, so its numbers carry the same precision.
 */

/** Bucket growth ratio minus one: 2% wide buckets, so at most 1% from the raw value. */
export const BUCKET_GROWTH = 0.02;
export const RELATIVE_PRECISION = BUCKET_GROWTH / 2;
/** Values at or under this (ms) share the first bucket. */
export const MIN_VALUE_MS = 0.001;

const LOG_GROWTH = Math.log1p(BUCKET_GROWTH);

/** The bucket index of a value (ms). */
export function bucketOf(ms: number): number {
  if (!(ms > MIN_VALUE_MS)) return 0;
  return Math.ceil(Math.log(ms / MIN_VALUE_MS) / LOG_GROWTH);
}

/** The value that stands for a bucket: the geometric centre of its bounds. */
export function bucketValue(index: number): number {
  if (index <= 0) return MIN_VALUE_MS;
  return MIN_VALUE_MS * Math.pow(1 + BUCKET_GROWTH, index - 0.5);
}

/** The serialisable form: bucket representative values and their counts, ascending. */
export interface HistogramData {
  readonly values: number[];
  readonly counts: number[];
}

export class Histogram {
  private readonly buckets = new Map<number, number>();
  private n = 0;
  private total = 0;
  private sumSquares = 0;
  private maxValue = 0;
  private minValue = Infinity;

  /** Record one value (ms). Negative values are clamped to 0. */
  record(ms: number, times = 1): void {
    const v = ms > 0 ? ms : 0;
    const b = bucketOf(v);
    this.buckets.set(b, (this.buckets.get(b) ?? 0) + times);
    this.n += times;
    this.total += v * times;
    this.sumSquares += v * v * times;
    if (v > this.maxValue) this.maxValue = v;
    if (v < this.minValue) this.minValue = v;
  }

  get count(): number { return this.n; }
  get sum(): number { return this.total; }
  /** Exact maximum of the recorded values. */
  get max(): number { return this.n ? this.maxValue : 0; }
  get min(): number { return this.n ? this.minValue : 0; }
  get mean(): number { return this.n ? this.total / this.n : 0; }
  get stddev(): number {
    if (this.n < 2) return 0;
    const m = this.mean;
    return Math.sqrt(Math.max(0, this.sumSquares / this.n - m * m));
  }

  /** Number of distinct buckets in use (CloudWatch takes at most 150 values per datum). */
  get distinct(): number { return this.buckets.size; }

  /**
   * The p-th percentile (0-100), nearest-rank, as CloudWatch computes it from Values/Counts.
   * The result is the bucket centre, clamped to the exact min and max.
   */
  percentile(p: number): number {
    if (this.n === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.n));
    let seen = 0;
    for (const b of [...this.buckets.keys()].sort((a, z) => a - z)) {
      seen += this.buckets.get(b)!;
      if (seen >= rank) return Math.min(this.maxValue, Math.max(this.minValue, bucketValue(b)));
    }
    return this.maxValue;
  }

  merge(other: Histogram): void {
    for (const [b, c] of other.buckets) this.buckets.set(b, (this.buckets.get(b) ?? 0) + c);
    this.n += other.n;
    this.total += other.total;
    this.sumSquares += other.sumSquares;
    if (other.n) {
      this.maxValue = Math.max(this.maxValue, other.maxValue);
      this.minValue = Math.min(this.minValue, other.minValue);
    }
  }

  /** Bucket centres and counts, ascending by value. */
  toData(): HistogramData {
    const keys = [...this.buckets.keys()].sort((a, z) => a - z);
    return { values: keys.map(bucketValue), counts: keys.map((k) => this.buckets.get(k)!) };
  }

  /** Rebuild from CloudWatch-style values/counts (e.g. read back for a report). */
  static fromData(data: HistogramData): Histogram {
    const h = new Histogram();
    data.values.forEach((v, i) => h.record(v, data.counts[i] ?? 0));
    return h;
  }
}
