import { expect } from 'chai';
import { PreciseWait, type WaitPrimitives } from '../../handlers/precise-wait';

/**
 * Simulated time for PreciseWait: a timer fires `earlyMs` before (negative: after) the time asked
 * for, as Node's millisecond timers do, and each event-loop turn takes `turnMs`.
 */
function simulated(opts: { earlyMs: number | (() => number); turnMs?: number; start?: number }): WaitPrimitives & { t: number; timers: number; turns: number } {
  const early = typeof opts.earlyMs === 'function' ? opts.earlyMs : () => opts.earlyMs as number;
  const sim = {
    t: opts.start ?? 1_000_000,
    timers: 0,
    turns: 0,
    now: () => sim.t,
    timer: async (ms: number) => {
      sim.timers++;
      // However early it runs, a timer fires in a later turn of the loop than the one that set it.
      sim.t += Math.max(0.05, ms - early());
    },
    turn: async () => {
      sim.turns++;
      sim.t += opts.turnMs ?? 0.005;
    },
  };
  return sim;
}

describe('precise wait', () => {
  it('ends on time when the timer fires early: the rest of the wait is spent in turns', async () => {
    const sim = simulated({ earlyMs: 0.8, turnMs: 0.005 });
    const wait = new PreciseWait(sim);
    const due = sim.t + 20;
    await wait.until(due);
    expect(sim.t).to.be.at.least(due);
    expect(sim.t - due).to.be.below(0.005 + 1e-9);
    expect(wait.stats).to.include({ precise: 1, coarse: 0 });
  });

  it('never ends before its moment, whatever the timer does', async () => {
    let i = 0;
    // Timers that fire anywhere from 1.4 ms early to 0.6 ms late.
    const sim = simulated({ earlyMs: () => 1.4 - ((i++ * 0.37) % 2), turnMs: 0.01 });
    const wait = new PreciseWait(sim, { turnShare: 0.05 });
    for (let k = 0; k < 2_000; k++) {
      const due = sim.t + 0.5 + (k % 7);
      await wait.until(due);
      expect(sim.t).to.be.at.least(due);
    }
  });

  it('spends at most its share of one core turning, over a simulated minute at a high rate', async () => {
    // 1,000 waits a second, each timer 0.9 ms early: precise waits would turn 90% of the time.
    const sim = simulated({ earlyMs: 0.9, turnMs: 0.01 });
    const wait = new PreciseWait(sim, { turnShare: 0.1, burstMs: 50 });
    const start = sim.t;
    for (let due = start + 1; due <= start + 60_000; due += 1) await wait.until(due);
    const elapsed = sim.t - start;
    expect(wait.stats.turnMs).to.be.at.most(0.1 * elapsed + 50 + 1);
    // The budget is spent on as many precise waits as it allows; the rest end on a timer.
    expect(wait.stats.precise).to.be.above(0);
    expect(wait.stats.coarse).to.be.above(0);
    expect(wait.stats.precise + wait.stats.coarse).to.equal(60_000);
  });

  it('with the budget spent, ends on a timer: late by up to a millisecond, not early', async () => {
    const sim = simulated({ earlyMs: 0.6 });
    const wait = new PreciseWait(sim, { turnShare: 0, burstMs: 0 });
    const due = sim.t + 10;
    await wait.until(due);
    expect(sim.turns).to.equal(0);
    expect(sim.t).to.be.at.least(due);
    expect(wait.stats).to.include({ precise: 0, coarse: 1 });
  });

  it('does not turn while the moment is further off than a timer can be early', async () => {
    const sim = simulated({ earlyMs: 0, turnMs: 0.01 });
    const wait = new PreciseWait(sim, { fineMs: 1.5 });
    await wait.until(sim.t + 100);
    // A timer that fires on time needs no turns at all.
    expect(sim.turns).to.equal(0);
    expect(sim.timers).to.equal(1);
  });

  it('returns at once for a moment already past', async () => {
    const sim = simulated({ earlyMs: 0.5 });
    const wait = new PreciseWait(sim);
    await wait.until(sim.t - 5);
    expect(sim.timers + sim.turns).to.equal(0);
    expect(wait.stats).to.include({ precise: 0, coarse: 0 });
  });

  /**
   * Simulated time where database answers arrive every `ioMs` while a timer runs, each one nudging
   * the wait, as the worker does; a timer fires `earlyMs` early.
   */
  function flowing(ioMs: number, earlyMs: number): { sim: ReturnType<typeof simulated>; wait: PreciseWait } {
    const sim = simulated({ earlyMs });
    const wait = new PreciseWait({
      ...sim,
      now: () => sim.t,
      timer: async (ms) => {
        sim.timers++;
        const end = sim.t + Math.max(0.05, ms - earlyMs);
        while (sim.t < end) {
          sim.t = Math.min(end, sim.t + ioMs);
          wait.nudge();
          // The next answer comes in a later turn of the loop.
          await new Promise((resolve) => setImmediate(resolve));
        }
      },
    });
    return { sim, wait };
  }

  it('while answers flow, ends on the first one after its moment, without turning', async () => {
    const { sim, wait } = flowing(0.1, 0.9);
    wait.nudge();
    const due = sim.t + 0.73;
    await wait.until(due);
    const endedAt = sim.t;
    expect(endedAt).to.be.at.least(due);
    expect(endedAt - due).to.be.below(0.1 + 1e-9);
    expect(sim.turns).to.equal(0);
    expect(wait.stats).to.include({ nudged: 1, precise: 0, coarse: 0, turnMs: 0 });
  });

  it('is not ended by a nudge before its moment', async () => {
    const sim = simulated({ earlyMs: 0.9, turnMs: 0.01 });
    const wait = new PreciseWait(sim);
    wait.nudge();
    const due = sim.t + 1;
    const done = wait.until(due);
    wait.nudge();
    await done;
    expect(sim.t).to.be.at.least(due);
  });

  it('refuses a share outside 0-1', () => {
    const sim = simulated({ earlyMs: 0 });
    expect(() => new PreciseWait(sim, { turnShare: 1.5 })).to.throw(RangeError, /turnShare must be within 0-1, got 1.5/);
  });
});
