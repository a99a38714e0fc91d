import { expect } from 'chai';
import { averageRate, dueAt, dueBy, scheduledBy, totalUnits, type RateProfile } from '../../trigger/plan/pacing';
import { planStatements } from '../../trigger/plan/statements-plan';
import { Sender } from '../../trigger/send/sender';
import { hashesOf } from '../../trigger/options/mix';
import type { RunSpec } from '../../trigger/plan/run-spec';
import { FakeClock } from './helpers/fake-clock';
import { RecordingTransport } from './helpers/recording-transport';

const spec = (rate: number, durationMs: number, rampMs = 0): RunSpec => ({
  runId: 'pace', workload: 'seed', mix: [{ op: 'select', weight: 80 }, { op: 'insert', weight: 20 }], hashes: hashesOf('seed', [{ op: 'select', weight: 80 }, { op: 'insert', weight: 20 }]), rate, durationMs, rampMs,
});

/** Run the real sender over a simulated run on a fake clock; returns when each message left (ms). */
async function simulate(rate: number, durationMs: number, rampMs = 0, count = 1): Promise<number[]> {
  const clock = new FakeClock(1_700_000_000_000);
  const transport = new RecordingTransport(clock);
  await new Sender(planStatements(spec(rate, durationMs, rampMs), count), transport, { clock }).run();
  return transport.sentAt;
}

describe('trigger: open-loop pacing', () => {
  for (const rate of [1, 7, 100, 250, 1000]) {
    it(`sends ${rate}/s for a simulated 60 s within 1% of the target`, async () => {
      const sent = await simulate(rate, 60_000);
      const achieved = sent.length / 60;
      expect(Math.abs(achieved - rate) / rate).to.be.lessThan(0.01);
      expect(sent.reduce((a, b) => Math.max(a, b), 0)).to.be.lessThan(60_000 + 10);
    });
  }

  it('sends every message no earlier than its scheduled time and at most one tick (10 ms) after it', async () => {
    const profile: RateProfile = { rate: 137, durationMs: 60_000, rampMs: 0 };
    const sent = await simulate(137, 60_000);
    sent.forEach((t, i) => {
      expect(t).to.be.at.least(Math.floor(dueAt(profile, i)));
      expect(t - dueAt(profile, i)).to.be.at.most(10 + 1e-6);
    });
  });

  it('spreads messages evenly: every simulated second of a 200/s run carries 200 +- 2', async () => {
    const sent = await simulate(200, 60_000);
    const perSecond = new Array(61).fill(0);
    for (const t of sent) perSecond[Math.floor(t / 1000)]++;
    perSecond[59] += perSecond.pop(); // the last tick may fall just past the end
    for (const n of perSecond) expect(n).to.be.within(198, 202);
  });

  it('follows a linear ramp: the per-second rate climbs as t x rate / ramp, then holds', async () => {
    const rate = 600;
    const sent = await simulate(rate, 60_000, 30_000);
    const perSecond = new Array(61).fill(0);
    for (const t of sent) perSecond[Math.floor(t / 1000)]++;
    perSecond[59] += perSecond.pop();
    for (let s = 0; s < 60; s++) {
      const expected = s < 30 ? (rate * (s + 0.5)) / 30 : rate;
      expect(Math.abs(perSecond[s] - expected), `second ${s}`).to.be.at.most(rate * 0.01 + 2);
    }
    expect(sent.length).to.equal(Math.ceil(rate * (60 - 15)));
  });

  it('paces statements mode at rate / count messages per second', async () => {
    const sent = await simulate(500, 60_000, 0, 10);
    expect(sent.length).to.equal(3000);
  });

  it('stops within one sleep when interrupted', async () => {
    const clock = new FakeClock(0);
    const transport = new RecordingTransport(clock);
    const controller = new AbortController();
    const sender = new Sender(planStatements(spec(100, 60_000), 1), transport, { clock, signal: controller.signal });
    const origSleep = clock.sleep.bind(clock);
    clock.sleep = async (ms, signal) => {
      if (clock.now() >= 5_000) controller.abort();
      return origSleep(ms, signal);
    };
    const result = await sender.run();
    expect(result.interrupted).to.equal(true);
    expect(transport.sentAt.length).to.be.within(500, 502);
  });

  it('dueBy and dueAt are inverse: unit k is due exactly at dueAt(k)', () => {
    const p: RateProfile = { rate: 333, durationMs: 20_000, rampMs: 7_000 };
    for (let k = 0; k < totalUnits(p); k += 97) {
      expect(dueBy(p, dueAt(p, k))).to.be.greaterThan(k);
      expect(dueBy(p, dueAt(p, k) - 0.01)).to.be.at.most(k);
    }
  });

  it('gives the average rate of a ramped run as the area under the rate curve', () => {
    const p: RateProfile = { rate: 100, durationMs: 60_000, rampMs: 20_000 };
    expect(scheduledBy(p, 60_000)).to.be.closeTo(100 * 50, 1e-6);
    expect(averageRate(p)).to.be.closeTo(5000 / 60, 1e-9);
  });
});
