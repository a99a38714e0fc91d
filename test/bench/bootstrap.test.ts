import { expect } from 'chai';
import { bootstrap, pickedMedian, RoundHistograms } from '../../bench/lib/bootstrap';
import { Histogram } from '../../handlers/metrics/histogram';

/** A histogram of `n` values spread over lo..hi ms, deterministic. */
function spread(n: number, lo: number, hi: number, skew = 1): Histogram {
  const h = new Histogram();
  for (let i = 0; i < n; i++) h.record(lo + (hi - lo) * Math.pow((i + 0.5) / n, skew));
  return h;
}

describe('bootstrap interval over rounds', () => {
  it('reads from rounds each picked once the same percentiles as their merged histogram', () => {
    const rounds = [spread(500, 1, 4), spread(700, 2, 30, 3), spread(300, 0.5, 2), spread(40, 100, 400)];
    const merged = new Histogram();
    for (const r of rounds) merged.merge(r);
    const all = new RoundHistograms(rounds);
    const once = new Uint32Array(rounds.length).fill(1);
    for (const p of [1, 50, 90, 99, 99.9, 100]) expect(all.percentile(p, once), `p${p}`).to.equal(merged.percentile(p));
  });

  it('counts a round picked twice twice', () => {
    const rounds = [spread(100, 1, 1), spread(100, 9, 9)];
    const all = new RoundHistograms(rounds);
    // Three parts of the 9 ms round to one of the 1 ms round: the median is 9 ms.
    expect(all.percentile(50, Uint32Array.from([1, 3]))).to.be.closeTo(9, 9 * 0.01);
    expect(all.percentile(50, Uint32Array.from([3, 1]))).to.be.closeTo(1, 0.01);
  });

  it('gives the same interval for the same rounds (seeded)', () => {
    const xs = [0.61, 0.72, 0.55, 0.9, 0.77, 0.68, 0.81, 0.59];
    const stat = (picks: Uint32Array) => ({ m: pickedMedian(xs, picks) });
    expect(bootstrap(xs.length, stat)).to.deep.equal(bootstrap(xs.length, stat));
  });

  it('is narrow when the rounds agree and wide when they do not', () => {
    const agree = [1.29, 1.31, 1.3, 1.32, 1.28, 1.3, 1.31, 1.29, 1.3, 1.3];
    const differ = [0.6, 1.9, 0.8, 1.5, 0.7, 2.4, 1.1, 0.5, 1.7, 1.0];
    const width = (xs: number[]) => { const i = bootstrap(xs.length, (picks) => ({ m: pickedMedian(xs, picks) })).m; return i.hi - i.lo; };
    expect(width(agree)).to.be.at.most(0.03);
    expect(width(differ)).to.be.at.least(0.5);
  });

  it('holds the median of the rounds, within their range', () => {
    const xs = [0.61, 0.72, 0.55, 0.9, 0.77, 0.68, 0.81, 0.59];
    const { m } = bootstrap(xs.length, (picks) => ({ m: pickedMedian(xs, picks) }));
    expect(m.lo).to.be.at.most(0.695).and.at.least(0.55);
    expect(m.hi).to.be.at.least(0.695).and.at.most(0.9);
  });

  it('refuses a series without rounds, in one line', () => {
    expect(() => bootstrap(0, () => ({ m: 1 }))).to.throw(RangeError, 'bootstrap needs at least one round, got 0');
  });
});
