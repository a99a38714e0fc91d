import { expect } from 'chai';
import { PreciseWait, SPIN_MS, type WaitPrimitives } from '../../handlers/precise-wait';

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
    // The turns are counted as what they cost: about the timer's earliness.
    expect(wait.stats.turnMs).to.be.within(0.75, 0.85);
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
  function flowing(ioMs: number, earlyMs: number): { sim: ReturnType<typeof simulated>; wait: PreciseWait; cancelled: () => number } {
    const sim = simulated({ earlyMs });
    let cancelled = 0;
    const wait = new PreciseWait({
      ...sim,
      now: () => sim.t,
      timer: async (ms, cancel) => {
        sim.timers++;
        const end = sim.t + Math.max(0.05, ms - earlyMs);
        while (sim.t < end) {
          if (cancel?.aborted) {
            cancelled++;
            return;
          }
          sim.t = Math.min(end, sim.t + ioMs);
          wait.nudge();
          // The next answer comes in a later turn of the loop.
          await new Promise((resolve) => setImmediate(resolve));
        }
      },
    });
    return { sim, wait, cancelled: () => cancelled };
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

  /** Simulated time that can also block the thread: a futex sleep that wakes `slackMs` after its timeout. */
  function blocking(opts: { earlyMs: number; slackMs: number; turnMs?: number }): ReturnType<typeof simulated> & { blocks: number[] } {
    const sim = Object.assign(simulated(opts), { blocks: [] as number[] });
    return Object.assign(sim, {
      block: (ms: number) => {
        sim.blocks.push(ms);
        sim.t += ms + opts.slackMs;
      },
      // Reading the clock in the last spin takes time, as a real one does.
      now: () => (sim.t += 0.001),
    });
  }

  it('with nothing in flight, blocks until just before its moment and spins the rest: on time, without turning', async () => {
    const sim = blocking({ earlyMs: 0.8, slackMs: 0.05 });
    const wait = new PreciseWait(sim);
    const due = sim.t + 20;
    await wait.until(due);
    expect(sim.t).to.be.at.least(due);
    expect(sim.t - due).to.be.below(0.01);
    expect(sim.turns).to.equal(0);
    expect(sim.blocks).to.have.length(1);
    expect(wait.stats).to.include({ blocked: 1, precise: 0, coarse: 0 });
    // Only the spin is CPU: at most SPIN_MS a wait, instead of the timer's earliness in turns.
    expect(wait.stats.turnMs).to.be.within(SPIN_MS - 0.06, SPIN_MS + 0.01);
  });

  it('blocks only in its last stretch, after a timer: never for the whole wait', async () => {
    const sim = blocking({ earlyMs: 0, slackMs: 0.05 });
    const wait = new PreciseWait(sim, { fineMs: 1.5 });
    const due = sim.t + 100;
    await wait.until(due);
    expect(sim.timers).to.be.at.least(1);
    expect(sim.blocks).to.have.length(1);
    expect(sim.blocks[0]).to.be.at.most(1.5);
    expect(sim.t).to.be.at.least(due);
  });

  it('with blocking to finish on, a timer that fires late still leaves the wait on time: it is aimed a millisecond early', async () => {
    // Timers 0.4 ms late: aimed at the moment itself, every wait would end late, on its timer.
    const sim = blocking({ earlyMs: -0.4, slackMs: 0.05 });
    const wait = new PreciseWait(sim);
    const due = sim.t + 20;
    await wait.until(due);
    expect(sim.t - due).to.be.below(0.01);
    expect(wait.stats).to.include({ blocked: 1, coarse: 0 });
  });

  it('a wait far off is not one that counts on answers, even right after one: its timer is aimed early and it blocks on time', async () => {
    const sim = blocking({ earlyMs: -0.4, slackMs: 0.05 });
    const wait = new PreciseWait(sim);
    wait.nudge();
    const due = sim.t + 20;
    await wait.until(due);
    expect(sim.t - due).to.be.below(0.01);
    expect(wait.stats).to.include({ blocked: 1, coarse: 0, nudged: 0 });
  });

  it('spends no budget turning while it waits with a transaction in flight or beside another wait', async () => {
    const sim = blocking({ earlyMs: 0, slackMs: 0.05, turnMs: 0.01 });
    const wait = new PreciseWait(sim);
    const release = wait.hold();
    await wait.until(sim.t + 20);
    expect(sim.turns).to.equal(0);
    release();
    await Promise.all([wait.until(sim.t + 20), wait.until(sim.t + 20)]);
    expect(sim.turns).to.equal(0);
    expect(sim.blocks).to.deep.equal([]);
  });

  it('with a transaction in flight that is answering, aims its timer early and ends on the first answer after its moment, though the timer would fire late', async () => {
    // Timers 0.4 ms late; answers every 0.1 ms while a timer runs.
    const { sim, wait, cancelled } = flowing(0.1, -0.4);
    const release = wait.hold();
    wait.nudge();
    const due = sim.t + 20;
    await wait.until(due);
    expect(sim.t).to.be.at.least(due);
    expect(sim.t - due).to.be.below(0.1 + 1e-9);
    expect(sim.turns).to.equal(0);
    expect(wait.stats).to.include({ nudged: 1, coarse: 0, precise: 0 });
    // The last stretch's timer lost to the answer: cleared, not left to wake the loop later.
    await new Promise((r) => setImmediate(r));
    expect(cancelled()).to.equal(1);
    release();
  });

  it('with a transaction in flight that is answering, blocks for the rest as soon as that transaction ends before the moment', async () => {
    const sim = blocking({ earlyMs: 0, slackMs: 0.05 });
    let timers = 0;
    const wait: PreciseWait = new PreciseWait({ ...sim, timer: async (ms: number) => {
      timers++;
      if (timers === 1) {
        // The first timer, aimed a millisecond early, fires on time; the transaction's last answer came 2 ms before.
        sim.t += ms - 2;
        wait.nudge();
        sim.t += 2;
      } else {
        // The one waiting on answers would fire well after the moment.
        await new Promise((r) => setTimeout(r, 5));
        sim.t += 10;
      }
    } });
    const release = wait.hold();
    wait.nudge();
    const due = sim.t + 20;
    const done = wait.until(due);
    for (let i = 0; timers < 2 && i < 1000; i++) await new Promise((r) => setImmediate(r));
    release();
    await done;
    expect(sim.t).to.be.at.least(due);
    expect(sim.t - due).to.be.below(0.1);
    expect(wait.stats).to.include({ blocked: 1, coarse: 0, precise: 0 });
  });

  it('does not count on a transaction in flight that has not answered lately (a long statement, a probe\'s poll): one timer, aimed at the moment', async () => {
    const sim = blocking({ earlyMs: 0.8, slackMs: 0.05, turnMs: 0.01 });
    const wait = new PreciseWait(sim);
    const release = wait.hold();
    wait.nudge();
    sim.t += 6;
    const due = sim.t + 20;
    await wait.until(due);
    expect(sim.timers).to.equal(1);
    expect(sim.t).to.be.at.least(due);
    expect(wait.stats).to.include({ precise: 1, nudged: 0 });
    release();
  });

  it('when the answers it counted on do not come before its timer, turns the rest instead of waiting on them again', async () => {
    const sim = blocking({ earlyMs: 0.8, slackMs: 0.05, turnMs: 0.01 });
    let timers = 0;
    const wait: PreciseWait = new PreciseWait({ ...sim, timer: async (ms: number) => {
      timers++;
      if (timers === 1) {
        // Aimed a millisecond early, it fires 1.2 ms before the moment; the transaction's last answer came 2 ms before that.
        sim.t += ms - 0.2 - 2;
        wait.nudge();
        sim.t += 2;
      } else {
        // No answer after that; timers fire 0.8 ms early.
        sim.t += Math.max(0.05, ms - 0.8);
      }
    } });
    const release = wait.hold();
    wait.nudge();
    const due = sim.t + 20;
    await wait.until(due);
    expect(sim.t).to.be.at.least(due);
    expect(timers).to.equal(2);
    expect(wait.stats).to.include({ precise: 1, coarse: 0, nudged: 0 });
    release();
  });

  it('with nothing in flight and no way to block, aims its timer at the moment though an answer came lately: one timer, the rest turned', async () => {
    const sim = simulated({ earlyMs: 0.8, turnMs: 0.01 });
    const wait = new PreciseWait(sim);
    // The last transaction answered 2 ms ago and has ended: no answer is coming.
    wait.nudge();
    sim.t += 2;
    const due = sim.t + 20;
    await wait.until(due);
    expect(sim.timers).to.equal(1);
    expect(sim.t).to.be.at.least(due);
    expect(wait.stats).to.include({ precise: 1, nudged: 0 });
  });

  it('aims no earlier than its fine stretch: with none, one timer at the moment', async () => {
    const sim = blocking({ earlyMs: 0, slackMs: 0.05 });
    const wait = new PreciseWait(sim, { fineMs: 0 });
    const due = sim.t + 20;
    await wait.until(due);
    expect(sim.timers).to.equal(1);
    expect(sim.t).to.be.at.least(due);
  });

  it('does not block when its last stretch begins closer to the moment than the spin: it spins', async () => {
    // The timer lands 0.05 ms before the moment, inside the 0.1 ms spin.
    const sim = blocking({ earlyMs: 0, slackMs: 0.05 });
    const wait = new PreciseWait({ ...sim, timer: async (ms: number) => { sim.timers++; sim.t += ms + 1 - 0.05; } });
    const due = sim.t + 20;
    await wait.until(due);
    expect(sim.blocks).to.deep.equal([]);
    expect(sim.t).to.be.at.least(due);
    expect(wait.stats.blocked).to.equal(1);
  });

  it('pays its spin from the turning budget: once spent, the next wait blocks to its moment itself', async () => {
    const sim = blocking({ earlyMs: 0.8, slackMs: 0 });
    const wait = new PreciseWait(sim, { turnShare: 0, burstMs: 0.05 });
    await wait.until(sim.t + 20);
    const spent = wait.stats.turnMs;
    expect(spent).to.be.above(0.05);
    const due = sim.t + 20;
    await wait.until(due);
    // No budget left: the futex wakes at the moment, no spin.
    expect(sim.blocks).to.have.length(2);
    expect(sim.t).to.be.at.least(due);
    expect(wait.stats.turnMs - spent).to.be.below(0.01);
  });

  it('never blocks while a transaction is in flight: its answers must be handled as they come', async () => {
    const sim = blocking({ earlyMs: 0.8, slackMs: 0.05, turnMs: 0.01 });
    const wait = new PreciseWait(sim);
    const release = wait.hold();
    await wait.until(sim.t + 20);
    expect(sim.blocks).to.deep.equal([]);
    expect(wait.stats).to.include({ blocked: 0, precise: 1 });
    release();
    await wait.until(sim.t + 20);
    expect(sim.blocks).to.have.length(1);
  });

  it('never blocks while another wait is in progress: that one\'s moment may come first', async () => {
    const sim = blocking({ earlyMs: 0.8, slackMs: 0.05, turnMs: 0.01 });
    const wait = new PreciseWait(sim);
    // Two slices due at the same moment: neither may stop the other's turns by blocking.
    const due = sim.t + 20;
    await Promise.all([wait.until(due), wait.until(due)]);
    expect(sim.blocks).to.deep.equal([]);
    expect(sim.t - due).to.be.below(0.05);
    expect(wait.stats).to.include({ blocked: 0, precise: 2 });
  });

  it('blocks again only once every transaction that held it has ended', async () => {
    const sim = blocking({ earlyMs: 0.8, slackMs: 0.05, turnMs: 0.01 });
    const wait = new PreciseWait(sim);
    const first = wait.hold();
    const second = wait.hold();
    first();
    // Releasing twice must not count for the other transaction.
    first();
    await wait.until(sim.t + 20);
    expect(sim.blocks).to.deep.equal([]);
    second();
    await wait.until(sim.t + 20);
    expect(sim.blocks).to.have.length(1);
  });

  it('a wait counting on an answer blocks for the rest as soon as the last transaction in flight ends', async () => {
    const sim = blocking({ earlyMs: 0.8, slackMs: 0.05 });
    // A timer that would fire well after the moment: only the end of the transaction can make this wait precise.
    const wait = new PreciseWait({ ...sim, timer: async () => { await new Promise((r) => setTimeout(r, 5)); sim.t += 10; } });
    const release = wait.hold();
    wait.nudge();
    const due = sim.t + 1;
    const done = wait.until(due);
    // The transaction ends (its last answer came before the moment): no nudge will follow.
    await new Promise((r) => setImmediate(r));
    release();
    await done;
    expect(sim.t).to.be.at.least(due);
    expect(sim.t - due).to.be.below(0.1);
    expect(sim.blocks).to.have.length(1);
    expect(wait.stats).to.include({ blocked: 1, coarse: 0 });
  });

  it('with the turn budget spent, blocks to the moment itself rather than spinning', async () => {
    const sim = blocking({ earlyMs: 0.8, slackMs: 0.05 });
    const wait = new PreciseWait(sim, { turnShare: 0, burstMs: 0 });
    const due = sim.t + 20;
    await wait.until(due);
    expect(sim.t).to.be.at.least(due);
    expect(sim.blocks).to.have.length(1);
    expect(sim.t - sim.blocks[0]! - 0.05).to.be.at.most(due);
    expect(wait.stats.turnMs).to.be.below(0.01);
  });

  it('refuses a share outside 0-1', () => {
    const sim = simulated({ earlyMs: 0 });
    expect(() => new PreciseWait(sim, { turnShare: 1.5 })).to.throw(RangeError, /turnShare must be within 0-1, got 1.5/);
    expect(() => new PreciseWait(sim, { turnShare: -0.1 })).to.throw(RangeError, /turnShare must be within 0-1, got -0.1/);
  });

  it('accepts the bounds: a whole core to turn, no burst, no fine stretch', () => {
    const sim = simulated({ earlyMs: 0 });
    expect(() => new PreciseWait(sim, { turnShare: 1, burstMs: 0, fineMs: 0 })).not.to.throw();
  });

  it('refuses a negative burst or fine stretch, naming it', () => {
    const sim = simulated({ earlyMs: 0 });
    expect(() => new PreciseWait(sim, { burstMs: -1 })).to.throw(RangeError, /^burstMs must be at least 0, got -1$/);
    expect(() => new PreciseWait(sim, { fineMs: -2 })).to.throw(RangeError, /^fineMs must be at least 0, got -2$/);
  });

  it('returns at once for a moment that is now', async () => {
    const sim = simulated({ earlyMs: 0.5 });
    const wait = new PreciseWait(sim);
    await wait.until(sim.t);
    expect(wait.stats).to.include({ precise: 0, coarse: 0, blocked: 0, nudged: 0 });
  });

  it('turns only from its budget: spent turning time leaves less, and it refills at its share of the time passed', async () => {
    const sim = simulated({ earlyMs: 0.9, turnMs: 0.01 });
    const wait = new PreciseWait(sim, { turnShare: 0.05, burstMs: 2 });
    // Each wait turns about 0.9 ms and refills 0.25: the 2 ms burst pays for three (the last overdraws it).
    for (let k = 0; k < 3; k++) await wait.until(sim.t + 5);
    expect(wait.stats).to.include({ precise: 3, coarse: 0 });
    // Right after, the budget is spent...
    await wait.until(sim.t + 1.2);
    expect(wait.stats.coarse).to.equal(1);
    // ...and 10 ms later it has refilled by 0.5 ms (5% of the time passed), enough for one more.
    sim.t += 10;
    await wait.until(sim.t + 5);
    expect(wait.stats.precise).to.equal(4);
  });

  it('after its clock steps back (a resync between waits), turns from the budget it had, not one in debt', async () => {
    const sim = simulated({ earlyMs: 0.9, turnMs: 0.01 });
    const wait = new PreciseWait(sim, { turnShare: 0.05, burstMs: 2 });
    sim.t -= 3_000;
    wait.clockStepped(-3_000);
    await wait.until(sim.t + 5);
    expect(wait.stats).to.include({ precise: 1, coarse: 0 });
  });

  it('after its clock steps back, a nudge from before the step is as long ago as it was: not one just now', async () => {
    const sim = simulated({ earlyMs: 0.9, turnMs: 0.01 });
    const wait = new PreciseWait(sim);
    wait.nudge();
    sim.t += 10;
    sim.t -= 3_000;
    wait.clockStepped(-3_000);
    await wait.until(sim.t + 5);
    expect(wait.stats).to.include({ precise: 1, coarse: 0 });
  });

  it('pays several spins from one budget before it is spent', async () => {
    const sim = blocking({ earlyMs: 0.8, slackMs: 0 });
    const wait = new PreciseWait(sim, { turnShare: 0, burstMs: 1 });
    for (let k = 0; k < 3; k++) await wait.until(sim.t + 20);
    // Three spins of about 0.1 ms each fit in the 1 ms burst.
    expect(wait.stats.turnMs).to.be.within(0.2, 0.35);
  });

  it('with a transaction in flight and the budget spent, sleeps once on a timer: no rapid re-arming', async () => {
    const sim = blocking({ earlyMs: 0, slackMs: 0.05 });
    const wait = new PreciseWait(sim, { turnShare: 0, burstMs: 0 });
    wait.hold();
    await wait.until(sim.t + 1);
    expect(sim.timers).to.equal(1);
    expect(wait.stats.coarse).to.equal(1);
  });

  it('counting on an answer that does not come, ends on its timer, late, and says so', async () => {
    const sim = simulated({ earlyMs: -0.3 });
    const wait = new PreciseWait(sim);
    wait.hold();
    wait.nudge();
    const due = sim.t + 1;
    await wait.until(due);
    expect(sim.t).to.be.at.least(due);
    expect(sim.t - due).to.be.below(0.5);
    expect(sim.timers).to.equal(1);
    expect(wait.stats).to.include({ coarse: 1, nudged: 0 });
  });

  it('ended by the last transaction finishing at or after its moment, counts as ended on an answer', async () => {
    const sim = blocking({ earlyMs: 0.8, slackMs: 0.05 });
    const wait = new PreciseWait({ ...sim, timer: () => new Promise<void>(() => undefined) });
    const release = wait.hold();
    wait.nudge();
    const due = sim.t + 1;
    const done = wait.until(due);
    await new Promise((r) => setImmediate(r));
    sim.t = due + 0.02;
    release();
    await done;
    expect(sim.blocks).to.deep.equal([]);
    expect(wait.stats).to.include({ nudged: 1, coarse: 0, blocked: 0 });
  });

  it('is not woken by a transaction ending while another is still in flight', async () => {
    const sim = blocking({ earlyMs: 0.8, slackMs: 0.05 });
    let timers = 0;
    const wait = new PreciseWait({ ...sim, timer: async (ms: number) => { timers++; await new Promise((r) => setTimeout(r, 2)); sim.t += ms; } });
    const first = wait.hold();
    wait.hold();
    wait.nudge();
    const due = sim.t + 1;
    const done = wait.until(due);
    await new Promise((r) => setImmediate(r));
    first();
    await done;
    // One timer, the one the wait set: ending the first transaction did not make it start over.
    expect(timers).to.equal(1);
    expect(sim.t).to.be.at.least(due);
  });

  it('a wait counting on answers is still ended by a nudge after a blocking wait ended on time', async () => {
    const sim = blocking({ earlyMs: 0.8, slackMs: 0.05 });
    const wait = new PreciseWait({ ...sim, timer: async (ms: number) => { await new Promise((r) => setTimeout(r, 2)); sim.t += Math.max(0.05, ms - 0.8); } });
    await wait.until(sim.t + 20);
    const release = wait.hold();
    wait.nudge();
    const due = sim.t + 1;
    const done = wait.until(due);
    await new Promise((r) => setImmediate(r));
    sim.t = due + 0.01;
    wait.nudge();
    await done;
    release();
    expect(wait.stats).to.include({ blocked: 1, nudged: 1, coarse: 0 });
  });
});
