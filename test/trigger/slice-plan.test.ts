import { expect } from 'chai';
import { parseMessage, type SliceMessage } from '../../handlers/protocol/message';
import { LIMITS } from '../../handlers/protocol/limits';
import { UsageError } from '../../trigger/errors';
import { hashesOf } from '../../trigger/options/mix';
import type { RunSpec } from '../../trigger/plan/run-spec';
import { defaultWorkers, planSlices, type SlicePlan } from '../../trigger/plan/slice-plan';

const MIX = [{ op: 'select', weight: 80 }, { op: 'insert', weight: 20 }];
const spec = (rate: number, durationMs: number, rampMs = 0, extra: Omit<Partial<RunSpec>, 'hashes'> = {}): RunSpec => ({
  runId: 'slice-test', workload: 'seed', mix: MIX, hashes: hashesOf('seed', MIX), rate, durationMs, rampMs, ...extra,
});
const opts = { maxWorkerRate: 100, startLeadMs: 2_000, sliceMs: 60_000 };

/** Each worker's slices, in order of their start. */
function byWorker(plan: SlicePlan): Map<number, SlicePlan['slices'][number][]> {
  const out = new Map<number, SlicePlan['slices'][number][]>();
  for (const s of plan.slices) out.set(s.worker, [...(out.get(s.worker) ?? []), s]);
  for (const list of out.values()) list.sort((a, b) => a.offsetMs - b.offsetMs);
  return out;
}

describe('trigger: slice planning', () => {
  for (const rate of [5, 100, 199.5, 250, 1000, 12_345]) {
    it(`puts workers x rate per worker = ${rate}/s on the database`, () => {
      const plan = planSlices(spec(rate, 90_000), opts);
      expect(plan.workers).to.equal(Math.ceil(rate / 100));
      expect(plan.workers * plan.ratePerWorker).to.be.closeTo(rate, 1e-9);
      for (const s of plan.slices) expect(s.rate * plan.workers).to.be.closeTo(rate, 1e-9);
    });
  }

  it('keeps W x r = target with an explicit --workers that does not divide the rate', () => {
    const plan = planSlices(spec(1000, 60_000), { ...opts, workers: 7 });
    expect(plan.workers).to.equal(7);
    expect(plan.ratePerWorker * 7).to.be.closeTo(1000, 1e-9);
  });

  it('uses the fewest workers that keep each at or under the per-worker cap', () => {
    expect(defaultWorkers(200, 100)).to.equal(2);
    expect(defaultWorkers(201, 100)).to.equal(3);
    expect(defaultWorkers(0.5, 100)).to.equal(1);
  });

  it('gives each worker consecutive slices that cover the whole run, none over the slice length', () => {
    const plan = planSlices(spec(400, 5 * 60_000 + 30_000), opts);
    for (const slices of byWorker(plan).values()) {
      let t = 0;
      for (const s of slices) {
        expect(s.offsetMs).to.equal(t);
        expect(s.durationMs).to.be.at.most(60_000);
        t += s.durationMs;
      }
      expect(t).to.equal(330_000);
    }
  });

  it('spreads the handovers: no two workers start a next slice at the same moment', () => {
    const plan = planSlices(spec(1000, 10 * 60_000), opts);
    const handovers = plan.slices.filter((s) => s.offsetMs > 0).map((s) => s.offsetMs);
    expect(new Set(handovers).size).to.equal(handovers.length);
    // Within each slice length, one handover per worker, 6 s apart.
    const first = handovers.filter((t) => t <= 60_000).sort((a, b) => a - b);
    expect(first).to.deep.equal(Array.from({ length: 10 }, (_, w) => 6_000 * (w + 1)));
  });

  it('follows a linear ramp exactly: each worker climbs inside its slices, all workers add up to the ramp', () => {
    const rate = 300;
    const plan = planSlices(spec(rate, 60_000, 20_000), opts);
    // 300/s over 60 s with a 20 s ramp: 10 s worth at full rate lost to the ramp.
    expect(plan.statements).to.be.closeTo(rate * 50, plan.slices.length);
    for (const s of plan.slices) {
      if (s.offsetMs >= 20_000) expect(s.rampMs).to.equal(undefined);
      else {
        expect(s.startRate).to.be.closeTo((100 * s.offsetMs) / 20_000, 1e-9);
        expect(s.rate).to.be.closeTo((100 * Math.min(20_000, s.offsetMs + s.durationMs)) / 20_000, 1e-9);
      }
    }
  });

  it('sends the first slices the first lead ahead, and each later one its start lead before it starts', () => {
    const plan = planSlices(spec(250, 150_000), { ...opts, firstLeadMs: 30_000 });
    expect(plan.startLeadMs).to.equal(30_000);
    const t0 = 1_700_000_000_000;
    for (let i = 0; i < plan.total; i++) {
      const sentAt = t0 + plan.dueAt(i);
      const msg = parseMessage(plan.body(i, sentAt, t0), sentAt) as SliceMessage;
      const lead = plan.slices[i]!.offsetMs === 0 ? 30_000 : 2_000;
      expect(msg.startAt - sentAt).to.equal(lead);
      if (i > 0) expect(plan.dueAt(i)).to.be.at.least(plan.dueAt(i - 1));
    }
    expect(plan.dueBy(0)).to.equal(plan.workers);
  });

  it('writes slices the worker accepts: script hashes, explicit hosts, late limit and ramp', () => {
    const plan = planSlices(spec(50, 10_000, 5_000, { hosts: { reader: 'replica-1.example.com' } }), { ...opts, lateLimitMs: 500 });
    const now = 1_700_000_000_000;
    const msg = parseMessage(plan.body(0, now, now), now) as SliceMessage;
    expect(msg.hosts).to.deep.equal({ reader: 'replica-1.example.com' });
    expect(msg.lateLimitMs).to.equal(500);
    expect(msg).to.include({ startRate: 0, rampMs: 5_000, rate: 50 });
    expect(msg.mix).to.deep.equal(MIX.map((m) => ({ ...m, hash: hashesOf('seed', MIX)[m.op] })));
  });

  it('gives each slice its worker\'s number as pgbench\'s client id, the same across the worker\'s handovers', () => {
    const plan = planSlices(spec(50, 150_000), { ...opts, workers: 2 });
    const now = 1_700_000_000_000;
    const ids = plan.slices.map((_, i) => (parseMessage(plan.body(i, now, now), now) as SliceMessage).clientId);
    expect(ids).to.deep.equal(plan.slices.map((s) => s.worker));
    expect(plan.slices.length).to.be.greaterThan(2);
    expect(new Set(ids)).to.deep.equal(new Set([0, 1]));
  });

  it('refuses a plan that asks one worker for more than the protocol allows', () => {
    expect(() => planSlices(spec(20_000, 60_000), { ...opts, workers: 2 })).to.throw(UsageError, `over the worker's limit of ${LIMITS.maxRate}/s`);
  });
  it('plans the run\'s statements, its average and its statements due by each moment, and says so in one line', () => {
    const plan = planSlices(spec(250, 150_000), { ...opts, firstLeadMs: 30_000 });
    expect(plan).to.include({ mode: 'slice', workers: 3, peakRate: 250, sliceMs: 60_000, handoverLeadMs: 2_000 });
    // Each of the 10 slices rounds its count down by under one statement.
    expect(plan.statements).to.be.within(37_500 - 10, 37_500);
    expect(plan.averageRate).to.equal(plan.statements / 150);
    expect(plan.plannedBy(0)).to.equal(0);
    expect(plan.plannedBy(10_000)).to.equal(2_500);
    expect(plan.description).to.equal('slice mode: 3 worker(s) x 83.33/s = 250/s (select=80%,insert=20%), 10 slice(s) of up to 1m, starting 30s after sending begins');
  });

  it('sends the slices due at the same moment in worker order, and carries no late limit unless asked', () => {
    const plan = planSlices(spec(250, 150_000), opts);
    expect(plan.slices.slice(0, 3).map((s) => s.worker)).to.deep.equal([0, 1, 2]);
    expect(plan).not.to.have.property('lateLimitMs');
    const now = 1_700_000_000_000;
    expect(parseMessage(plan.body(0, now, now), now)).not.to.have.property('lateLimitMs');
    expect(planSlices(spec(250, 150_000), { ...opts, lateLimitMs: 300 })).to.include({ lateLimitMs: 300 });
  });

  it('carries a ramp longer than a slice across the handover: each slice climbs from where the one before it ended', () => {
    const plan = planSlices(spec(100, 180_000, 90_000), { ...opts, workers: 1 });
    const [first, second, third] = byWorker(plan).get(0)!;
    expect(first).to.include({ offsetMs: 0, durationMs: 60_000, startRate: 0, rampMs: 60_000 });
    expect(first!.rate).to.be.closeTo(200 / 3, 1e-9);
    expect(second).to.include({ offsetMs: 60_000, durationMs: 60_000, rate: 100, rampMs: 30_000 });
    expect(second!.startRate).to.be.closeTo(200 / 3, 1e-9);
    expect(third).to.include({ offsetMs: 120_000, durationMs: 60_000, rate: 100 });
    expect(third).not.to.have.property('rampMs');
  });

  it('writes the run\'s -D variables into every slice', () => {
    const plan = planSlices(spec(300, 120_000, 0, { vars: { scale: '10' } }), opts);
    const bodies = plan.slices.map((_, i) => JSON.parse(plan.body(i, 0, 0)) as { vars?: unknown });
    expect(bodies.map((b) => b.vars)).to.deep.equal(plan.slices.map(() => ({ scale: '10' })));
  });

  it('cuts a ramp at a handover: the slice that spans the ramp\'s end climbs to full rate, then holds it', () => {
    const plan = planSlices(spec(100, 120_000, 45_000), { ...opts, workers: 1 });
    const [first, second] = byWorker(plan).get(0)!;
    expect(first).to.include({ offsetMs: 0, durationMs: 60_000, startRate: 0, rate: 100, rampMs: 45_000 });
    expect(second).to.include({ offsetMs: 60_000, durationMs: 60_000, rate: 100 });
    expect(second).not.to.have.property('rampMs');
    // 45 s of ramp average 50/s, then 75 s at 100/s.
    expect(plan.statements).to.be.closeTo(45 * 50 + 75 * 100, 2);
  });

  it('holds a run with no ramp at its rate from the first statement', () => {
    const plan = planSlices(spec(100, 60_000, 0), { ...opts, workers: 1 });
    expect(plan.slices[0]).to.include({ rate: 100, statements: 6_000 });
    expect(plan.slices[0]).not.to.have.property('startRate');
  });

  it('refuses a slice length over what the protocol accepts', () => {
    expect(() => planSlices(spec(100, 60_000), { ...opts, sliceMs: LIMITS.maxDurationMs + 1 })).to.throw(TypeError, `sliceMs over the protocol's ${LIMITS.maxDurationMs} ms`);
    expect(planSlices(spec(100, 60_000), { ...opts, sliceMs: LIMITS.maxDurationMs }).slices).to.have.length(1);
  });

  it('takes exactly the protocol\'s rate limit per worker', () => {
    expect(planSlices(spec(2 * LIMITS.maxRate, 60_000), { ...opts, workers: 2 }).ratePerWorker).to.equal(LIMITS.maxRate);
  });
});
