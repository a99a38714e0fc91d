import { expect } from 'chai';
import { behind, pooledIntervals, pooledRatios } from '../../bench/figures/side-by-side';
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

describe('side by side with pgbench: how far the pooled figure could have landed', () => {
  const calm = (n: number, ms: number, lagMs: number) => {
    const latency = new Histogram();
    const lag = new Histogram();
    latency.record(ms, n);
    lag.record(lagMs, n);
    return { latency, lag };
  };
  const withStall = (n: number, stalled: number) => {
    const latency = new Histogram();
    const lag = new Histogram();
    latency.record(2, n - stalled);
    latency.record(100, stalled);
    lag.record(0.1, n - stalled);
    lag.record(98, stalled);
    return { latency, lag };
  };

  it('reaches the stall\'s ratio when the p99 sits on the edge of one round\'s stall, though the figure is 1', () => {
    // Round 4: a stall held 20 of the worker's 200 transactions, 1% of the 2,000: p99 is just clear of it.
    const rounds = Array.from({ length: 10 }, (_, i) => ({ pgbench: calm(200, 2, 0.1), worker: i === 4 ? withStall(200, 20) : calm(200, 2, 0.1), pgbenchFirst: i % 2 === 0 }));
    const pool = (side: 'worker' | 'pgbench') => { const latency = new Histogram(); const lag = new Histogram(); for (const r of rounds) { latency.merge(r[side].latency); lag.merge(r[side].lag); } return { latency, lag }; };
    expect(pooledRatios(pool('worker'), pool('pgbench')).latencyRatioP99).to.equal(1);
    const i = pooledIntervals(rounds);
    expect(i.latencyRatioP99!.lo).to.be.closeTo(1, 0.02);
    expect(i.latencyRatioP99!.hi).to.be.closeTo(50, 50 * 0.02);
    expect(i.latencyRatioP50!.hi).to.be.closeTo(1, 0.02);
  });

  it('is the one ratio when every round measured the same', () => {
    const rounds = Array.from({ length: 8 }, (_, i) => ({ pgbench: calm(100, 2, 0.1), worker: calm(100, 2.6, 0.3), pgbenchFirst: i % 2 === 0 }));
    const i = pooledIntervals(rounds);
    expect(i.latencyRatioP50!.lo).to.be.closeTo(1.3, 0.03);
    expect(i.latencyRatioP50!.hi).to.equal(i.latencyRatioP50!.lo);
    expect(i.lagRatioP99!.lo).to.be.closeTo(3, 0.06);
  });

  it('keeps a round\'s two sides together, so weather both sides shared does not widen it', () => {
    // Each round's weather slows both sides alike (1x to 5x); the worker is 1.1 times pgbench in every round.
    const weather = [1, 5, 1.5, 3, 1, 4, 2, 1, 2.5, 1.2];
    const rounds = weather.map((f, i) => ({ pgbench: calm(300, 2 * f, 0.2 * f), worker: calm(300, 2.2 * f, 0.22 * f), pgbenchFirst: i % 2 === 0 }));
    const i = pooledIntervals(rounds);
    expect(i.latencyRatioP99!.lo).to.be.at.least(1.05);
    expect(i.latencyRatioP99!.hi).to.be.at.most(1.15);
  });
});
