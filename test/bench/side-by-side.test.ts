import { expect } from 'chai';
import { behind } from '../../bench/figures/side-by-side';

const round = (workerSkipped: number, pgbenchSkipped: number) => ({ worker: { skipped: workerSkipped }, pgbench: { skipped: pgbenchSkipped } }) as Parameters<typeof behind>[0][number];

describe('side by side with pgbench: the table note', () => {
  it('says in how many rounds a side fell behind its schedule, and how many transactions it skipped', () => {
    expect(behind([round(0, 0), round(925, 0), round(379, 4)])).to.equal('; worker fell behind in 2 of 3 rounds (skipped 925, 379); pgbench fell behind in 1 of 3 rounds (skipped 4)');
  });

  it('adds nothing when both sides kept their schedule', () => {
    expect(behind([round(0, 0), round(0, 0)])).to.equal('');
  });
});
