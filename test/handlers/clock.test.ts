import { expect } from 'chai';
import { getEventListeners } from 'node:events';
import { anchoredClock, CLOCK_STEP_MS, resyncWith, systemClock } from '../../handlers/clock';

/**
 * The two clocks a process reads, simulated: the wall clock (Date.now(): whole ms, set by NTP) and
 * the monotonic clock (performance.now(): sub-ms since process start). Every monotonic read takes
 * `readMs` of true time (so a spin ends), and `pauses` lists extra true time lost after the n-th
 * reads from now on (a GC pause or the thread descheduled between two reads).
 */
function clocks(origin: number) {
  const c = {
    /** True time, epoch ms. */
    real: origin,
    /** What the wall clock is off from true time (a step sets it). */
    wallError: 0,
    /** True time the monotonic clock did not count (a suspended machine). */
    missed: 0,
    readMs: 0.0002,
    pauses: [] as number[],
    wall: () => Math.floor(c.real + c.wallError),
    mono: () => {
      const m = c.real - origin - c.missed;
      c.real += c.readMs + (c.pauses.shift() ?? 0);
      return m;
    },
  };
  return c;
}

describe('the clock', () => {
  const origin = 1_796_000_000_000.3;
  /** A clock anchored at `origin` on simulated wall and monotonic clocks. */
  const anchored = () => {
    const c = clocks(origin);
    return { c, clock: anchoredClock(c.wall, c.mono, origin) };
  };

  it('reads the wall clock at its anchor plus monotonic time, to the sub-millisecond', () => {
    const { c, clock } = anchored();
    c.real += 1234.567;
    expect(clock.now()).to.be.closeTo(origin + 1234.567, 0.001);
  });

  it('resyncs to the wall clock when the monotonic clock missed time (a suspended or frozen machine)', () => {
    const { c, clock } = anchored();
    c.real += 60_000.6;
    c.missed = 14_000; // 14 s the monotonic clock did not count, as a CI process here saw
    expect(clock.now()).to.be.closeTo(c.real - 14_000, 0.001);
    expect(clock.resync()).to.be.closeTo(14_000, 0.01);
    // Anchored on the wall clock's tick: within microseconds of true time, not half a millisecond.
    expect(clock.now()).to.be.closeTo(c.real, 0.005);
  });

  it('resyncs to the wall clock when it stepped back', () => {
    const { c, clock } = anchored();
    c.real += 10_000;
    c.wallError = -3_000;
    expect(clock.resync()).to.be.closeTo(-3_000, 0.01);
    expect(clock.now()).to.be.closeTo(c.real - 3_000, 0.005);
  });

  // Date.now() counts whole ms, so a clock CLOCK_STEP_MS - 0.6 ms off is within the tolerance at
  // every phase of the millisecond, and one CLOCK_STEP_MS + 0.6 ms off beyond it: each is tried at several phases.
  const phases = [0.01, 0.25, 0.5, 0.75, 0.99];

  for (const [label, error] of [['ahead of', 1], ['behind', -1]] as const) {
    it(`takes no step while the wall clock is CLOCK_STEP_MS - 0.6 ms ${label} it, at any phase of its millisecond`, () => {
      for (const phase of phases) {
        const { c, clock } = anchored();
        c.real = Math.floor(origin) + 10_000 + phase;
        c.wallError = error * (CLOCK_STEP_MS - 0.6); // NTP's residual error, not a step
        expect(clock.resync(), `phase ${phase}`).to.equal(0);
      }
    });

    it(`steps once the wall clock is CLOCK_STEP_MS + 0.6 ms ${label} it, at any phase of its millisecond`, () => {
      for (const phase of phases) {
        const { c, clock } = anchored();
        c.real = Math.floor(origin) + 10_000 + phase;
        c.wallError = error * (CLOCK_STEP_MS + 0.6);
        expect(clock.resync(), `phase ${phase}`).to.be.closeTo(error * (CLOCK_STEP_MS + 0.6), 0.01);
      }
    });
  }

  it('follows no step between resyncs: a duration between two reads does not carry one', () => {
    const { c, clock } = anchored();
    const start = clock.now();
    c.real += 40;
    c.wallError = 5_000; // the wall clock steps in the middle of a statement
    c.real += 2;
    expect(clock.now() - start).to.be.closeTo(42, 0.001);
  });

  it('does not take a pause between its reads of the two clocks for a step', () => {
    const { c, clock } = anchored();
    c.real += 1_000;
    c.pauses = [5]; // 5 ms lost between reading the monotonic clock and the wall clock
    expect(clock.resync()).to.equal(0);
    expect(clock.now()).to.be.closeTo(c.real, 0.001);
  });

  it('gives up, leaving the clock as it was, when three attempts to read the clocks together are interrupted', () => {
    const { c, clock } = anchored();
    c.real += 1_000;
    c.missed = 9_000;
    c.pauses = [5, 0, 5, 0, 5]; // each attempt (monotonic, wall, monotonic) loses 5 ms after its first read
    expect(clock.resync()).to.equal(0);
    expect(clock.now()).to.be.closeTo(c.real - 9_000, 0.001);
  });

  it('reads again after an interrupted attempt and takes the step it then sees', () => {
    const { c, clock } = anchored();
    c.real += 1_000;
    c.missed = 9_000;
    c.pauses = [5]; // only the first attempt is interrupted
    expect(clock.resync()).to.be.closeTo(9_000, 0.01);
    expect(clock.now()).to.be.closeTo(c.real, 0.05);
  });

  it('takes the step from its first clean read of the two clocks, whatever a later read would have met', () => {
    const { c, clock } = anchored();
    c.real += 1_000;
    c.missed = 9_000;
    c.pauses = [0, 0, 0, 0, 0.5]; // a third read, were there one, would be interrupted
    expect(clock.resync()).to.be.closeTo(9_000, 0.05);
  });

  it('does not anchor on a tick seen by a read that was itself interrupted: it waits for the next one', () => {
    const { c, clock } = anchored();
    c.real += 60_000; // true time ends in .3 ms: the next tick is 0.7 ms away
    c.missed = 14_000;
    c.pauses = [0, 0, 0, 0, 0.95]; // the search's second read loses 0.95 ms between its two monotonic reads, across the tick
    expect(clock.resync()).to.be.closeTo(14_000, 0.05);
    expect(clock.now()).to.be.closeTo(c.real, 0.05);
  });

  it('ends its search within its time however often it is interrupted, anchored on the middle of the millisecond', () => {
    const { c, clock } = anchored();
    c.real += 60_000;
    c.missed = 14_000;
    c.pauses = [0, 0, ...Array<number>(1_000).fill(0.5)]; // every read after the first is interrupted
    const before = c.real;
    expect(clock.resync()).to.be.closeTo(14_000, 0.6);
    expect(c.real - before).to.be.below(5);
  });

  it('does not anchor on a tick it saw only after a pause: it waits for the next one', () => {
    const { c, clock } = anchored();
    c.real += 60_000; // true time ends in .3 ms: the next tick is 0.7 ms away
    c.missed = 14_000;
    c.pauses = [0, 0, 0, 0, 0, 0.95]; // the thread loses 0.95 ms in the search, across the tick
    expect(clock.resync()).to.be.closeTo(14_000, 0.05);
    expect(clock.now()).to.be.closeTo(c.real, 0.05); // anchored on the tick after it, not 0.25 ms off
  });

  it('with no tick of the wall clock to be seen, anchors on the middle of its millisecond', () => {
    const c = clocks(origin);
    let frozen = 0; // a wall clock that does not move during the search
    const clock = anchoredClock(() => frozen, c.mono, origin);
    c.real += 60_000.9;
    c.missed = 14_000;
    frozen = Math.floor(c.real);
    const monoAtResync = c.real - origin - c.missed;
    clock.resync();
    expect(c.real - origin - c.missed - monoAtResync).to.be.below(5); // its search ended in its time
    // The first read's moment is set to the middle of the millisecond the wall clock showed.
    const offset = clock.now() - (c.real - origin - c.missed);
    expect(offset).to.be.closeTo(frozen + 0.5 - monoAtResync, 0.01);
  });

  it('ends its search even when neither clock moves', () => {
    const clock = anchoredClock(() => 5_000, () => 0, 100);
    expect(clock.resync()).to.equal(4_900.5);
  });

  it('moves a precise wait\'s kept times by the step it takes, and only when it takes one', () => {
    const stepped: number[] = [];
    const steps = [-3_000, 0];
    const resync = resyncWith(() => steps.shift()!, { clockStepped: (ms) => { stepped.push(ms); } });
    expect(resync()).to.equal(-3_000);
    expect(resync()).to.equal(0);
    expect(stepped).to.deep.equal([-3_000]);
  });

  it('the real clock\'s sleep ends as soon as its signal aborts', async function () {
    this.timeout(5_000); // a sleep that ignored the signal would fail here, not after 10 minutes
    const stop = new AbortController();
    const slept = systemClock.sleep(600_000, stop.signal);
    stop.abort();
    await slept;
  });

  it('the real clock\'s sleep with a signal already aborted ends at once', async function () {
    this.timeout(5_000);
    const stop = new AbortController();
    stop.abort();
    await systemClock.sleep(600_000, stop.signal);
  });

  it('the real clock\'s sleep leaves nothing on its signal once it ends (a run\'s signal outlives many sleeps)', async () => {
    const stop = new AbortController();
    await systemClock.sleep(1, stop.signal);
    expect(getEventListeners(stop.signal, 'abort')).to.have.length(0);
  });

  it('the real clock\'s sleep lasts as long as asked', async () => {
    const from = systemClock.now();
    await systemClock.sleep(20);
    expect(systemClock.now() - from).to.be.at.least(19); // Node's timers count whole ms
  });

  it('the real clock\'s sleepUntil never ends before its moment', async () => {
    for (const ahead of [0.3, 2, 15]) {
      const t = systemClock.now() + ahead;
      await systemClock.sleepUntil(t);
      expect(systemClock.now()).to.be.at.least(t);
    }
  });

  it('is the real clock: after a resync, within its step tolerance of Date.now()', () => {
    systemClock.resync!();
    const a = Date.now();
    const t = systemClock.now();
    const b = Date.now();
    expect(t).to.be.within(a + 0.5 - CLOCK_STEP_MS - 0.01, b + 0.5 + CLOCK_STEP_MS + 0.01);
  });
});
