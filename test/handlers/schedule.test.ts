import { expect } from 'chai';
import type { Clock } from '../../handlers/clock';
import { dueAt, dueWithin, MixPicker, plannedCount, runSchedule } from '../../handlers/schedule';

/** A clock whose sleeps advance simulated time instantly. */
function fakeClock(start: number): Clock & { t: number } {
  const c = { t: start, now: () => c.t, sleep: async (ms: number) => { c.t += ms; }, sleepUntil: async (t: number) => { c.t = Math.max(c.t, t); } };
  return c;
}

describe('slice schedule', () => {
  it('interleaves a mix exactly by its weights', () => {
    const picker = new MixPicker([{ op: 'select', weight: 80 }, { op: 'insert', weight: 20 }]);
    const counts = { select: 0, insert: 0 } as Record<string, number>;
    for (let i = 0; i < 1000; i++) counts[picker.next()]! += 1;
    expect(counts).to.deep.equal({ select: 800, insert: 200 });
  });

  it('starts rate x duration statements, each at its due time', async () => {
    const clock = fakeClock(1_000_000);
    const starts: number[] = [];
    const out = await runSchedule(
      { startAt: 1_000_500, rate: 250, durationMs: 4000, mix: [{ op: 'x', weight: 1 }], lateLimitMs: 1000, deadline: Infinity },
      { start: async (_op, due) => { starts.push(clock.now() - due); }, skip: () => undefined },
      clock,
    );
    expect(out).to.deep.equal({ started: plannedCount({ rate: 250, durationMs: 4000 }), skipped: 0, abandoned: 0 });
    expect(starts.length).to.equal(1000);
    expect(Math.max(...starts)).to.be.lessThan(1e-6);
  });

  it('skips statements that are already later than the late limit, as pgbench -L does', async () => {
    const clock = fakeClock(10_000);
    // The slice was due to start 3 s ago: the first 2 s of it (200 statements) are past the 1 s limit.
    const out = await runSchedule(
      { startAt: 7_000, rate: 100, durationMs: 5000, mix: [{ op: 'x', weight: 1 }], lateLimitMs: 1000, deadline: Infinity },
      { start: async () => undefined, skip: () => undefined },
      clock,
    );
    expect(out.started + out.skipped).to.equal(500);
    expect(out.skipped).to.equal(200);
  });

  it('does not start anything after the deadline', async () => {
    const clock = fakeClock(0);
    const out = await runSchedule(
      { startAt: 0, rate: 10, durationMs: 10_000, mix: [{ op: 'x', weight: 1 }], lateLimitMs: 1000, deadline: 4_000 },
      { start: async () => undefined, skip: () => undefined },
      clock,
    );
    expect(out).to.deep.equal({ started: 41, skipped: 59, abandoned: 0 });
  });

  it('climbs a ramp linearly: as many statements as the area under the rate, each due where the area reaches it', async () => {
    // 0 -> 100/s over 4 s, then 100/s for 2 s: 200 + 200 statements.
    const slice = { rate: 100, durationMs: 6000, startRate: 0, rampMs: 4000 };
    expect(plannedCount(slice)).to.equal(400);
    expect(dueWithin(slice, 2000)).to.be.closeTo(50, 1e-9);
    for (const i of [0, 1, 50, 199, 200, 201, 399]) expect(dueWithin(slice, dueAt(0, slice, i))).to.be.closeTo(i, 1e-6);
    const clock = fakeClock(0);
    const starts: number[] = [];
    const out = await runSchedule(
      { startAt: 0, ...slice, mix: [{ op: 'x', weight: 1 }], lateLimitMs: 1000, deadline: Infinity },
      { start: async (_op, due) => { starts.push(due); }, skip: () => undefined },
      clock,
    );
    expect(out.started).to.equal(400);
    // A linear climb: a quarter of the ramp's statements in its first half.
    expect(starts.filter((t) => t < 2000).length).to.equal(50);
    expect(starts.filter((t) => t >= 4000).length).to.equal(200);
  });

  it('stops waiting for statements still running at giveUpAt and says how many it left', async () => {
    const clock = fakeClock(0);
    const never = new Promise<void>(() => undefined);
    const out = await runSchedule(
      { startAt: 0, rate: 10, durationMs: 1000, mix: [{ op: 'x', weight: 1 }], lateLimitMs: 1000, deadline: Infinity, giveUpAt: 5_000 },
      { start: (_op, due) => (due >= 500 ? never : Promise.resolve()), skip: () => undefined },
      clock,
    );
    expect(out).to.deep.equal({ started: 10, skipped: 0, abandoned: 5 });
    expect(clock.now()).to.be.at.least(5_000);
  });
  it('climbs a ramp that starts above zero, and makes each statement due where the area under the rate reaches it', () => {
    // 50 -> 150/s over 1 s, then 150/s for 1 s: 100 + 150 statements.
    const slice = { rate: 150, durationMs: 2000, startRate: 50, rampMs: 1000 };
    expect(dueWithin(slice, 500)).to.be.closeTo(37.5, 1e-9);
    expect(dueWithin(slice, 1000)).to.be.closeTo(100, 1e-9);
    expect(plannedCount(slice)).to.equal(250);
    for (let i = 0; i < 250; i++) expect(dueWithin(slice, dueAt(0, slice, i)), `statement ${i}`).to.be.closeTo(i, 1e-6);
    expect(dueAt(0, slice, 100)).to.be.closeTo(1000, 1e-9);
  });

  it('treats a ramp from the rate to the same rate as a steady rate', () => {
    const slice = { rate: 100, durationMs: 2000, startRate: 100, rampMs: 1000 };
    expect(dueWithin(slice, 500)).to.equal(50);
    expect([0, 1, 50, 150].map((i) => dueAt(0, slice, i))).to.deep.equal([0, 10, 500, 1500]);
  });

  it('starts nothing more, and skips nothing more, once stopped, and still waits for what is running', async () => {
    const clock = fakeClock(0);
    let ran = 0;
    let finished = 0;
    const out = await runSchedule(
      { startAt: 0, rate: 100, durationMs: 10_000, mix: [{ op: 'x', weight: 1 }], lateLimitMs: 1000, deadline: Infinity },
      { start: async () => { ran += 1; await Promise.resolve(); finished += 1; }, skip: () => undefined, stopped: () => clock.t >= 2_000 },
      clock,
    );
    // Statements due at 0, 10, ..., 1990 ms started; the one due at 2000 ms never did.
    expect(out).to.deep.equal({ started: 200, skipped: 0, abandoned: 0 });
    expect([ran, finished]).to.deep.equal([200, 200]);
    expect(clock.t).to.equal(2_000);
  });

  it('skips, without waiting for them, the statements due after the deadline', async () => {
    const clock = fakeClock(0);
    const out = await runSchedule(
      { startAt: 1_000, rate: 10, durationMs: 10_000, mix: [{ op: 'x', weight: 1 }], lateLimitMs: 1000, deadline: 500 },
      { start: async () => undefined, skip: () => undefined },
      clock,
    );
    expect(out).to.deep.equal({ started: 0, skipped: 100, abandoned: 0 });
    expect(clock.t, 'no time spent waiting').to.equal(0);
  });

  it('waits for running statements until giveUpAt, and no longer when they finish sooner', async () => {
    const clock = fakeClock(0);
    let release!: () => void;
    const held = new Promise<void>((resolve) => { release = resolve; });
    // The one statement finishes once 300 ms of simulated time have passed.
    const sleep = clock.sleep;
    clock.sleep = async (ms: number) => { await sleep(ms); if (clock.t >= 300) release(); };
    const out = await runSchedule(
      { startAt: 0, rate: 1, durationMs: 1000, mix: [{ op: 'x', weight: 1 }], lateLimitMs: 1000, deadline: Infinity, giveUpAt: 10_000 },
      { start: () => held, skip: () => undefined },
      clock,
    );
    expect(out).to.deep.equal({ started: 1, skipped: 0, abandoned: 0 });
    expect(clock.t, 'stopped waiting once it finished').to.be.within(300, 400);
  });
  it('starts none of a late slice\'s statements once stopped, not even those already due', async () => {
    const clock = fakeClock(10_000);
    let ran = 0;
    const out = await runSchedule(
      { startAt: 9_500, rate: 100, durationMs: 1000, mix: [{ op: 'x', weight: 1 }], lateLimitMs: 1000, deadline: Infinity },
      { start: async () => { ran += 1; }, skip: () => undefined, stopped: () => true },
      clock,
    );
    expect(out).to.deep.equal({ started: 0, skipped: 0, abandoned: 0 });
    expect(ran).to.equal(0);
  });

  it('skips a late statement once the deadline has passed, even within the late limit', async () => {
    const clock = fakeClock(10_000);
    // Due from 9,500 ms, 500 ms late at most, but the invocation stopped starting work at 9,800 ms.
    const out = await runSchedule(
      { startAt: 9_500, rate: 100, durationMs: 500, mix: [{ op: 'x', weight: 1 }], lateLimitMs: 1000, deadline: 9_800 },
      { start: async () => undefined, skip: () => undefined },
      clock,
    );
    expect(out).to.deep.equal({ started: 0, skipped: 50, abandoned: 0 });
  });

  it('starts each statement with the clock\'s precise wait, not its millisecond timer', async () => {
    // A clock whose timers fire 0.7 ms late (Node's, roughly) but whose sleepUntil is exact.
    const c = { t: 0, now: () => c.t, sleep: async (ms: number) => { c.t += ms + 0.7; }, sleepUntil: async (t: number) => { c.t = Math.max(c.t, t); } };
    const lags: number[] = [];
    await runSchedule(
      { startAt: 1_000, rate: 300, durationMs: 2_000, mix: [{ op: 'x', weight: 1 }], lateLimitMs: 1000, deadline: Infinity },
      { start: async (_op, due) => { lags.push(c.now() - due); }, skip: () => undefined },
      c,
    );
    expect(lags.length).to.equal(600);
    expect(Math.max(...lags)).to.be.lessThan(1e-6);
  });

  it('holds the clock from each start until that statement ends, so a wait begun meanwhile never blocks the thread on it', async () => {
    const clock = fakeClock(0);
    let held = 0;
    const heldAtWaits: number[] = [];
    // Each statement runs 15 ms of simulated time: with one due every 10 ms, one is running at every wait.
    const running: Array<{ end: number; done: () => void }> = [];
    const tick = (): void => {
      for (const r of running.filter((x) => clock.t >= x.end)) {
        running.splice(running.indexOf(r), 1);
        r.done();
      }
    };
    const c: Clock = {
      now: clock.now,
      hold: () => { held++; return () => { held--; }; },
      sleep: async (ms) => { await clock.sleep(ms); tick(); },
      sleepUntil: async (t) => { heldAtWaits.push(held); await clock.sleepUntil(t); tick(); },
    };
    const out = await runSchedule(
      { startAt: 0, rate: 100, durationMs: 100, mix: [{ op: 'x', weight: 1 }], lateLimitMs: 1000, deadline: Infinity, giveUpAt: 10_000 },
      { start: (_op, due) => new Promise<void>((done) => { running.push({ end: due + 15, done }); }), skip: () => undefined },
      c,
    );
    expect(out).to.include({ started: 10, abandoned: 0 });
    expect(heldAtWaits).to.have.length(9);
    expect(Math.min(...heldAtWaits)).to.equal(1);
    expect(held).to.equal(0);
  });

  it('notices an interruption within 100 ms while waiting for a statement far ahead', async () => {
    const clock = fakeClock(0);
    const out = await runSchedule(
      { startAt: 10_000, rate: 10, durationMs: 1_000, mix: [{ op: 'x', weight: 1 }], lateLimitMs: 1000, deadline: Infinity },
      { start: async () => undefined, skip: () => undefined, stopped: () => clock.now() >= 2_050 },
      clock,
    );
    expect(out).to.deep.equal({ started: 0, skipped: 0, abandoned: 0 });
    expect(clock.now() - 2_050).to.be.at.most(100);
  });
});
