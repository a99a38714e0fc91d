import { expect } from 'chai';
import { Histogram, RELATIVE_PRECISION, bucketOf, bucketValue } from '../../handlers/metrics/histogram';

function rawPercentile(sorted: number[], p: number): number {
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!;
}

describe('metrics: latency histogram', () => {
  it('stands for every value with a bucket centre within its relative precision', () => {
    for (let v = 0.01; v < 100_000; v *= 1.37) {
      const centre = bucketValue(bucketOf(v));
      expect(Math.abs(centre - v) / v).to.be.at.most(RELATIVE_PRECISION + 1e-9);
    }
  });

  it('gives percentiles that agree with the raw latencies within the precision', () => {
    // A skewed, latency-like distribution: mostly 1-3 ms with a long tail.
    const raw: number[] = [];
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 20_000; i++) raw.push(rand() < 0.95 ? 1 + 2 * rand() : 10 + 500 * rand() ** 3);
    const h = new Histogram();
    raw.forEach((v) => h.record(v));
    const sorted = [...raw].sort((a, b) => a - b);
    for (const p of [50, 90, 99, 99.9]) {
      const want = rawPercentile(sorted, p);
      expect(Math.abs(h.percentile(p) - want) / want, `p${p}`).to.be.at.most(RELATIVE_PRECISION + 1e-9);
    }
    expect(h.max).to.equal(sorted[sorted.length - 1]);
    expect(h.count).to.equal(raw.length);
  });

  it('merges and round-trips through CloudWatch-style values and counts without changing percentiles', () => {
    const a = new Histogram();
    const b = new Histogram();
    for (let i = 1; i <= 1000; i++) (i % 2 ? a : b).record(i / 10);
    a.merge(b);
    const back = Histogram.fromData(a.toData());
    expect(back.count).to.equal(1000);
    for (const p of [50, 90, 99]) expect(back.percentile(p)).to.be.closeTo(a.percentile(p), a.percentile(p) * RELATIVE_PRECISION * 2);
  });
  it('counts, sums and spreads exactly: mean, standard deviation, min and max, with repeated values', () => {
    const h = new Histogram();
    h.record(1);
    h.record(3, 3);
    expect([h.count, h.sum, h.mean, h.min, h.max]).to.deep.equal([4, 10, 2.5, 1, 3]);
    // Population stddev of 1, 3, 3, 3: sqrt(7 - 2.5^2).
    expect(h.stddev).to.be.closeTo(Math.sqrt(0.75), 1e-12);
    const two = new Histogram();
    two.record(1);
    two.record(3);
    expect(two.stddev).to.equal(1);
  });

  it('reads 0 for everything when empty, and a stddev of 0 for one value', () => {
    const empty = new Histogram();
    expect([empty.count, empty.sum, empty.mean, empty.min, empty.max, empty.stddev, empty.percentile(50), empty.distinct]).to.deep.equal([0, 0, 0, 0, 0, 0, 0, 0]);
    const one = new Histogram();
    one.record(7);
    expect([one.stddev, one.percentile(1), one.percentile(100)]).to.deep.equal([0, 7, 7]);
  });

  it('records a negative time as 0 (a clock step back), never as a negative latency', () => {
    const h = new Histogram();
    h.record(-5);
    h.record(2);
    expect([h.min, h.sum, h.percentile(50)]).to.deep.equal([0, 2, 0.001]);
  });

  it('puts 0 and everything up to a microsecond in the first bucket, read back as one microsecond', () => {
    const h = new Histogram();
    for (const v of [0, 0.0005, 0.001]) h.record(v);
    expect(h.toData()).to.deep.equal({ values: [0.001], counts: [3] });
    expect(h.distinct).to.equal(1);
  });

  it('reads percentiles in order of value whatever order the values came in', () => {
    const h = new Histogram();
    for (const v of [100, 50, 10, 5, 1]) h.record(v);
    expect([1, 40, 60, 80, 100].map((p) => h.percentile(p))).to.deep.equal([1, h.percentile(40), h.percentile(60), h.percentile(80), 100]);
    expect(h.percentile(40)).to.be.closeTo(5, 5 * RELATIVE_PRECISION);
    expect(h.percentile(60)).to.be.closeTo(10, 10 * RELATIVE_PRECISION);
    expect(h.percentile(80)).to.be.closeTo(50, 50 * RELATIVE_PRECISION);
    expect(h.toData().values).to.deep.equal([...h.toData().values].sort((a, b) => a - b));
  });

  it('keeps the exact minimum, maximum, sum and spread across a merge', () => {
    const a = new Histogram();
    const b = new Histogram();
    a.record(2);
    a.record(4);
    b.record(1);
    b.record(9);
    a.merge(b);
    a.merge(new Histogram());
    expect([a.count, a.sum, a.min, a.max]).to.deep.equal([4, 16, 1, 9]);
    expect(a.stddev).to.be.closeTo(Math.sqrt((4 + 16 + 1 + 81) / 4 - 16), 1e-12);
  });
});
