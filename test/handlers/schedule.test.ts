import { expect } from 'chai';
import type { Clock } from '../../handlers/clock';
import { MixPicker, plannedCount, runSchedule } from '../../handlers/schedule';

/** A clock whose sleeps advance simulated time instantly. */
function fakeClock(start: number): Clock & { t: number } {
  const c = { t: start, now: () => c.t, sleep: async (ms: number) => { c.t += ms; } };
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
    expect(out).to.deep.equal({ started: plannedCount(250, 4000), skipped: 0 });
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
    expect(out).to.deep.equal({ started: 41, skipped: 59 });
  });
});
