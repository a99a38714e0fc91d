import { expect } from 'chai';
import { sideOrder } from '../../bench/figures/pgbench-ratio';

describe('pgbench ratio: the order of each round', () => {
  it('starts each round with the next side, so over three rounds each side goes first once', () => {
    const sides = ['pgbench', 'worker', 'bare'];
    expect([0, 1, 2, 3].map((i) => sideOrder(sides, i))).to.deep.equal([
      ['pgbench', 'worker', 'bare'],
      ['worker', 'bare', 'pgbench'],
      ['bare', 'pgbench', 'worker'],
      ['pgbench', 'worker', 'bare'],
    ]);
  });
});
