import { expect } from 'chai';
import { behind, pooledRatios } from '../../bench/figures/side-by-side';
import { Histogram } from '../../handlers/metrics/histogram';

const round = (workerSkipped: number, pgbenchSkipped: number) => ({ worker: { skipped: workerSkipped }, pgbench: { skipped: pgbenchSkipped } }) as Parameters<typeof behind>[0][number];

describe('side by side with pgbench: the table note', () => {
  it('says in how many rounds a side fell behind its schedule, and how many transactions it skipped', () => {
    expect(behind([round(0, 0), round(925, 0), round(379, 4)])).to.equal('; worker fell behind in 2 of 3 rounds (skipped 925, 379); pgbench fell behind in 1 of 3 rounds (skipped 4)');
  });

  it('adds nothing when both sides kept their schedule', () => {
    expect(behind([round(0, 0), round(0, 0)])).to.equal('');
  });
});

describe('side by side with pgbench: the figure over all rounds', () => {
  /** A side's pooled histograms: `n` transactions of `ms` latency and `lag` schedule lag each. */
  const side = (...parts: Array<{ n: number; ms: number; lag: number }>) => {
    const latency = new Histogram();
    const lag = new Histogram();
    for (const p of parts) {
      latency.record(p.ms, p.n);
      lag.record(p.lag, p.n);
    }
    return { latency, lag };
  };

  it('counts a stall that held up 2% of one side\'s transactions in its p99, though it hit one round of ten', () => {
    // pgbench: ten calm rounds. The worker: the same, but one round's stall held 40 of its 2,000 transactions for 100 ms.
    const pgbench = side({ n: 2000, ms: 2, lag: 0.1 });
    const worker = side({ n: 1960, ms: 2, lag: 0.1 }, { n: 40, ms: 100, lag: 98 });
    const r = pooledRatios(worker, pgbench);
    expect(r.latencyRatioP99).to.be.closeTo(50, 50 * 0.02);
    expect(r.lagRatioP99).to.be.closeTo(980, 980 * 0.02);
  });

  it('gives 1 for each ratio when both sides measured the same', () => {
    const r = pooledRatios(side({ n: 990, ms: 2, lag: 0.1 }, { n: 10, ms: 9, lag: 4 }), side({ n: 990, ms: 2, lag: 0.1 }, { n: 10, ms: 9, lag: 4 }));
    expect(r).to.deep.equal({ latencyRatioP50: 1, latencyRatioP99: 1, lagRatioP99: 1 });
  });
});
