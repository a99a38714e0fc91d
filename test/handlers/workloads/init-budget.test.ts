import { expect } from 'chai';
import { initStatementTimeoutMs, largestScaleWithin } from '../../../handlers/workloads/tpcb';

describe('tpcb init budget: how long an init may run, and the largest scale a deploy can load', () => {
  it('allows an init 60 s plus 3 s per scale unit (10 times the 0.3 s measured per unit)', () => {
    expect([1, 100, 1000].map(initStatementTimeoutMs)).to.deep.equal([63_000, 360_000, 3_060_000]);
  });

  it('sizes the largest scale whose whole budget fits in the time there is, and none when even scale 1 does not fit', () => {
    // The deploy-time init's 14 minutes (app/config.ts, DEPLOY_INIT_BUDGET_MS).
    const budgetMs = 14 * 60_000;
    expect(largestScaleWithin(budgetMs)).to.equal(260);
    expect(initStatementTimeoutMs(260)).to.be.at.most(budgetMs);
    expect(initStatementTimeoutMs(261)).to.be.above(budgetMs);
    expect(largestScaleWithin(30_000)).to.equal(0);
  });
});
