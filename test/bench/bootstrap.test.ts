import { expect } from 'chai';
import { bootstrap, pickedMedian, pickedMerge } from '../../bench/lib/bootstrap';
import { Histogram } from '../../handlers/metrics/histogram';

/** A histogram of `n` values spread over lo..hi ms, deterministic. */
function spread(n: number, lo: number, hi: number, skew = 1): Histogram {
  const h = new Histogram();
  for (let i = 0; i < n; i++) h.record(lo + (hi - lo) * Math.pow((i + 0.5) / n, skew));
  return h;
}

const medianOf = (xs: readonly number[]) => (picks: Uint32Array) => ({ m: pickedMedian(xs, picks) });

describe('bootstrap interval over rounds', () => {
  it('pools a round picked twice twice, and leaves out a round not picked', () => {
    const rounds = [spread(100, 1, 1), spread(100, 9, 9)];
    // Three parts of the 9 ms round to one of the 1 ms round: the median is 9 ms.
    expect(pickedMerge(rounds, Uint32Array.from([1, 3])).percentile(50)).to.be.closeTo(9, 9 * 0.01);
    expect(pickedMerge(rounds, Uint32Array.from([3, 1])).percentile(50)).to.be.closeTo(1, 0.01);
    expect(pickedMerge(rounds, Uint32Array.from([0, 2])).min).to.be.closeTo(9, 9 * 0.01);
  });

  it('takes the median of the picked values, each as often as it was picked', () => {
    expect(pickedMedian([1, 2, 10], Uint32Array.from([0, 1, 2]))).to.equal(10);
    expect(pickedMedian([1, 2, 10], Uint32Array.from([2, 0, 2]))).to.equal(5.5);
  });

  it('gives the same interval for the same rounds and seed, and another for another seed', () => {
    const xs = [0.61, 0.72, 0.55, 0.9, 0.77, 0.68, 0.81, 0.59];
    expect(bootstrap(xs.length, medianOf(xs))).to.deep.equal(bootstrap(xs.length, medianOf(xs)));
    expect(bootstrap(xs.length, medianOf(xs), { seed: 2, resamples: 200 })).not.to.deep.equal(bootstrap(xs.length, medianOf(xs), { seed: 1, resamples: 200 }));
  });

  it('is narrow when the rounds agree and wide when they do not', () => {
    const agree = [1.29, 1.31, 1.3, 1.32, 1.28, 1.3, 1.31, 1.29, 1.3, 1.3];
    const differ = [0.6, 1.9, 0.8, 1.5, 0.7, 2.4, 1.1, 0.5, 1.7, 1.0];
    const width = (xs: number[]) => { const i = bootstrap(xs.length, medianOf(xs)).m!; return i.hi - i.lo; };
    expect(width(agree)).to.be.at.most(0.03);
    expect(width(differ)).to.be.at.least(0.5);
  });

  it('gives none below six rounds, where it would only be their min and max', () => {
    expect(bootstrap(5, medianOf([0.6, 0.7, 0.8, 0.9, 1.0])).m).to.equal(null);
    expect(bootstrap(6, medianOf([0.6, 0.7, 0.8, 0.9, 1.0, 1.1])).m).not.to.equal(null);
  });

  it('gives none when more than a tail of the resamples had no finite figure, and reads the rest otherwise', () => {
    // A third of the resamples leave round 0 out: nothing to divide by.
    expect(bootstrap(6, (picks) => ({ r: picks[0] ? 1 : NaN })).r).to.equal(null);
    // Round 0 picked 5 times or more out of 20: under 0.3% of the resamples.
    const rare = bootstrap(20, (picks) => ({ r: picks[0]! >= 5 ? Infinity : 1 + picks[0]! / 10 })).r!;
    expect(Number.isFinite(rare.lo) && Number.isFinite(rare.hi)).to.equal(true);
    expect(rare.hi).to.be.at.most(1.4);
  });

  it('keeps each stratum\'s number of rounds in every resample', () => {
    const strata = [0, 1, 0, 1, 0, 1, 0, 1, 0];
    const inFirst = (picks: Uint32Array) => ({ n: strata.reduce((a, s, i) => a + (s === 0 ? picks[i]! : 0), 0) });
    expect(bootstrap(strata.length, inFirst, { strata }).n).to.deep.equal({ lo: 5, hi: 5 });
    expect(bootstrap(strata.length, inFirst).n).not.to.deep.equal({ lo: 5, hi: 5 });
  });

  it('refuses a series without rounds, in one line', () => {
    expect(() => bootstrap(0, () => ({ m: 1 }))).to.throw(RangeError, 'bootstrap needs at least one round, got 0');
  });
});
