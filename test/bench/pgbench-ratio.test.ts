import { expect } from 'chai';
import { effectiveElapsedMs, medianInterval, sideOrder } from '../../bench/figures/pgbench-ratio';

describe('pgbench ratio: the order of each round', () => {
  const sides = ['pgbench', 'worker', 'bare'];
  const rounds = (n: number) => Array.from({ length: n }, (_, i) => sideOrder(sides, i));

  it('puts each side first in two of every six rounds', () => {
    const firsts = rounds(6).map((o) => o[0]);
    expect(sides.map((s) => firsts.filter((f) => f === s).length)).to.deep.equal([2, 2, 2]);
  });

  it('runs pgbench before the worker in exactly half of any even number of rounds', () => {
    for (const n of [2, 4, 8, 20]) {
      const before = rounds(n).filter((o) => o.indexOf('pgbench') < o.indexOf('worker')).length;
      expect(before, `${n} rounds`).to.equal(n / 2);
    }
  });

  it('runs every side once in every round', () => {
    for (const o of rounds(6)) expect([...o].sort()).to.deep.equal([...sides].sort());
  });

  it('alternates two sides', () => {
    expect([0, 1, 2].map((i) => sideOrder(['pgbench', 'worker'], i))).to.deep.equal([['pgbench', 'worker'], ['worker', 'pgbench'], ['pgbench', 'worker']]);
  });
});

describe('pgbench ratio: the worker\'s elapsed time', () => {
  it('counts each invocation at its own rate when they end at different times', () => {
    // 10 messages in 2,000 ms and 10 in 2,500 ms: 0.005 + 0.004 = 0.009 messages/ms, 20 messages.
    expect(effectiveElapsedMs([{ messages: 10, ms: 2000 }, { messages: 10, ms: 2500 }])).to.be.closeTo(20 / 0.009, 1e-9);
  });

  it('is the common time when every invocation ends together', () => {
    expect(effectiveElapsedMs([{ messages: 7, ms: 2100 }, { messages: 9, ms: 2100 }])).to.be.closeTo(2100, 1e-9);
  });
});

describe('pgbenchRatio: how far the median of the rounds could have landed', () => {
  it('straddles the 0.70 floor when the rounds do, though the median meets it', () => {
    // Eight rounds of a run like those on the 2-core VM: median 0.735.
    const { ratio } = medianInterval([0.70, 0.82, 0.83, 1.09, 0.63, 0.54, 0.75, 0.72], [true, false, true, false, true, false, true, false]);
    expect(ratio!.lo).to.be.below(0.7);
    expect(ratio!.hi).to.be.above(0.75);
  });
});
