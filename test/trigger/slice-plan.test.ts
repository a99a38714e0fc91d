import { expect } from 'chai';
import { parseMessage, type SliceMessage } from '../../handlers/protocol/message';
import { LIMITS } from '../../handlers/protocol/limits';
import { UsageError } from '../../trigger/errors';
import { checkConnectionBudget } from '../../trigger/plan/budget';
import { hashesOf } from '../../trigger/options/mix';
import type { RunSpec } from '../../trigger/plan/run-spec';
import { defaultWorkers, layoutSlots, planSlices, SLICE_DEFAULTS } from '../../trigger/plan/slice-plan';

const MIX = [{ op: 'select', weight: 80 }, { op: 'insert', weight: 20 }];
const spec = (rate: number, durationMs: number, rampMs = 0, extra: Omit<Partial<RunSpec>, 'hashes'> = {}): RunSpec => ({
  runId: 'slice-test', workload: 'seed', mix: MIX, hashes: hashesOf('seed', MIX), rate, durationMs, rampMs, ...extra,
});
const opts = { maxWorkerRate: 100, startLeadMs: 2_000, sliceMaxMs: 60_000 };

describe('trigger: slice planning', () => {
  for (const rate of [5, 100, 199.5, 250, 1000, 12_345]) {
    it(`puts workers x rate per worker = ${rate}/s on the database`, () => {
      const plan = planSlices(spec(rate, 90_000), opts);
      expect(plan.workers).to.equal(Math.ceil(rate / 100));
      expect(plan.workers * plan.ratePerWorker).to.be.closeTo(rate, 1e-9);
      for (const slot of plan.slots) expect(slot.ratePerWorker * plan.workers).to.be.closeTo(rate, 1e-9);
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

  it('splits a long run into consecutive slices per worker, back to back, none over the slice cap', () => {
    const slots = layoutSlots(100, 1, 5 * 60_000 + 30_000, 0, 60_000);
    expect(slots).to.have.length(6);
    let t = 0;
    for (const s of slots) {
      expect(s.offsetMs).to.equal(t);
      expect(s.durationMs).to.be.at.most(60_000);
      t += s.durationMs;
    }
    expect(t).to.equal(330_000);
  });

  it('plans a ramp as a staircase whose statements match the linear ramp', () => {
    const rate = 300;
    const slots = layoutSlots(rate, 3, 60_000, 20_000, 60_000);
    const statements = slots.reduce((s, x) => s + (x.ratePerWorker * 3 * x.durationMs) / 1000, 0);
    expect(statements).to.be.closeTo(rate * (60 - 10), 1e-6);
    const ramp = slots.filter((s) => s.offsetMs < 20_000);
    expect(ramp.length).to.be.at.most(SLICE_DEFAULTS.rampStepsMax);
    for (let i = 1; i < ramp.length; i++) expect(ramp[i]!.ratePerWorker).to.be.greaterThan(ramp[i - 1]!.ratePerWorker);
  });

  it('sends each slot lead ms before it starts, one message per worker', () => {
    const plan = planSlices(spec(250, 150_000), opts);
    expect(plan.total).to.equal(plan.workers * plan.slots.length);
    const t0 = 1_700_000_000_000;
    for (let i = 0; i < plan.total; i++) {
      const msg = parseMessage(plan.body(i, t0 + plan.dueAt(i), t0), t0 + plan.dueAt(i)) as SliceMessage;
      expect(msg.kind).to.equal('slice');
      expect(msg.startAt - (t0 + plan.dueAt(i))).to.equal(2_000);
    }
    expect(plan.dueBy(0)).to.equal(plan.workers);
  });

  it('writes slices the worker accepts: script hashes, the worker\'s client id, explicit hosts and late limit', () => {
    const plan = planSlices(spec(50, 10_000, 0, { hosts: { reader: 'replica-1.example.com' } }), { ...opts, workers: 2, lateLimitMs: 500 });
    const now = 1_700_000_000_000;
    const msg = parseMessage(plan.body(0, now, now), now) as SliceMessage;
    expect(msg.hosts).to.deep.equal({ reader: 'replica-1.example.com' });
    expect(msg.lateLimitMs).to.equal(500);
    expect(msg.mix).to.deep.equal(MIX.map((m) => ({ ...m, hash: hashesOf('seed', MIX)[m.op] })));
    expect(msg.clientId).to.equal(0);
    expect(parseMessage(plan.body(1, now, now), now)).to.include({ clientId: 1 });
  });

  it('refuses a plan that asks one worker for more than the protocol allows', () => {
    expect(() => planSlices(spec(20_000, 60_000), { ...opts, workers: 2 })).to.throw(UsageError, `over the worker's limit of ${LIMITS.maxRate}/s`);
  });
});

describe('trigger: connection budget', () => {
  it('accepts a plan whose workers x pool x endpoints fit under max_connections', () => {
    expect(checkConnectionBudget({ workers: 10, poolMax: 4, endpoints: 2, maxConnections: 100, reserved: 5 })).to.deep.equal({ needed: 80, available: 95 });
  });

  it('refuses a plan over the budget, saying how many workers fit and what to change', () => {
    let err: Error | undefined;
    try {
      checkConnectionBudget({ workers: 20, poolMax: 4, endpoints: 2, maxConnections: 100, reserved: 5 });
    } catch (e) {
      err = e as Error;
    }
    expect(err).to.be.instanceOf(UsageError);
    expect(err!.message).to.match(/needs 20 worker\(s\) x 8 connections .* = 160, but max_connections is 100/);
    expect(err!.message).to.contain('at most 11 worker(s) fit');
    expect(err!.message).to.contain('lower --rate');
    expect(err!.message).not.to.contain('\n');
  });
});
