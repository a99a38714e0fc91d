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
});
