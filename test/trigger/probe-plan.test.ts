import { expect } from 'chai';
import { parseMessage, type Message } from '../../handlers/protocol/message';
import { hashesOf } from '../../trigger/options/mix';
import { buildPlan } from '../../trigger/plan/build';
import { peakConcurrency } from '../../trigger/plan/fleet';
import { layoutProbe, withStalenessProbe } from '../../trigger/plan/probe-plan';
import type { SendPlan } from '../../trigger/plan/send-plan';
import { planSlices, SLICE_DEFAULTS } from '../../trigger/plan/slice-plan';
import { planStatements } from '../../trigger/plan/statements-plan';
import { resolveRunOptions } from '../../trigger/options/run-options';

const T0 = 1_800_000_000_000;
const MIX = [{ op: 'select', weight: 80 }, { op: 'insert', weight: 20 }];
const spec = { runId: 'probe-plan', workload: 'seed', mix: MIX, hashes: hashesOf('seed', MIX), rate: 200, durationMs: 150_000, rampMs: 30_000 };
const slicing = { maxWorkerRate: 100, startLeadMs: 5_000, sliceMs: 60_000 };

/** Every message of a plan, in send order, parsed by the worker's own parser. */
function messages(plan: SendPlan): Message[] {
  return Array.from({ length: plan.total }, (_, i) => parseMessage(plan.body(i, T0, T0), T0));
}

describe('trigger: the staleness probe in the send plan', () => {
  const base = planSlices(spec, slicing);
  const plan = withStalenessProbe(base, spec);

  it('covers the whole load with back-to-back probe messages, none longer than the longest slice', () => {
    const probes = messages(plan).filter((m) => m.kind === 'probe');
    expect(probes.length).to.be.greaterThan(1);
    let at = T0 + 5_000;
    for (const p of probes) {
      expect(p.startAt).to.equal(at);
      expect(p.durationMs).to.be.at.most(Math.max(...base.slices.map((s) => s.durationMs)));
      at += p.durationMs;
    }
    expect(at).to.equal(T0 + 5_000 + spec.durationMs);
  });

  it('keeps every load message, in order, and sends each probe when its stretch is due', () => {
    const all = messages(plan);
    expect(all.filter((m) => m.kind !== 'probe').map((m) => JSON.stringify({ ...m, seq: 0 }))).to.deep.equal(messages(base).map((m) => JSON.stringify({ ...m, seq: 0 })));
    for (let i = 1; i < plan.total; i++) expect(plan.dueAt(i)).to.be.at.least(plan.dueAt(i - 1));
    for (let i = 0; i < plan.total; i++) expect(plan.dueBy(plan.dueAt(i))).to.be.greaterThan(i);
    expect(new Set(all.map((m) => m.seq)).size).to.equal(plan.total);
  });

  it('sends the first probe message with the first slices\' lead and each later one a handover lead before it starts', () => {
    const early = withStalenessProbe(planSlices(spec, { ...slicing, firstLeadMs: 30_000 }), spec);
    const sent = Array.from({ length: early.total }, (_, i) => i)
      .map((i) => ({ m: parseMessage(early.body(i, T0, T0), T0), at: early.dueAt(i) }))
      .filter((x) => x.m.kind === 'probe')
      .map((x) => (x.m.kind === 'probe' ? x.m.startAt - T0 - x.at : NaN));
    expect(sent).to.deep.equal([30_000, 5_000, 5_000, 5_000]);
  });

  it('hands over halfway between two workers\' handovers, so a small fleet\'s peak grows by the probe\'s one invocation only', () => {
    const long = { ...spec, rate: 800, durationMs: 600_000, rampMs: 0 };
    const load = planSlices(long, { ...slicing, sliceMs: SLICE_DEFAULTS.sliceMs });
    // 8 workers hand over at k x 37.5 s; the probe at 18.75 s and every 5 minutes after.
    expect(withStalenessProbe(load, long).probe!.map((c) => c.offsetMs)).to.deep.equal([0, 18_750, 318_750]);
    expect(peakConcurrency(load)).to.equal(9);
    expect(peakConcurrency(withStalenessProbe(load, long))).to.equal(10);
  });

  it('holds an invocation of its own, besides the load\'s workers, in the plan\'s peak concurrency', () => {
    const short = { ...spec, durationMs: 20_000, rampMs: 0 };
    const load = planSlices(short, slicing);
    const probed = withStalenessProbe(load, short);
    expect(probed.workers).to.equal(load.workers);
    expect(peakConcurrency(load)).to.equal(load.workers);
    expect(peakConcurrency(probed)).to.equal(load.workers + 1);
  });

  it('rides along statements mode too, starting as the load starts', () => {
    const st = planStatements({ ...spec, rampMs: 0, durationMs: 20_000 }, 10);
    const probes = messages(withStalenessProbe(st, spec)).filter((m) => m.kind === 'probe');
    expect(probes.map((p) => p.kind === 'probe' && [p.startAt, p.durationMs])).to.deep.equal([[T0, 20_000]]);
  });

  it('gives the last of an evenly split load\'s probe messages the milliseconds left over, so the load is covered to its end', () => {
    expect(layoutProbe(601_000, 300_000)).to.deep.equal([{ offsetMs: 0, durationMs: 200_333 }, { offsetMs: 200_333, durationMs: 200_333 }, { offsetMs: 400_666, durationMs: 200_334 }]);
  });

  it('sends one probe message for a load of exactly one slice, which no worker hands over in', () => {
    const one = { ...spec, durationMs: 60_000, rampMs: 0 };
    expect(withStalenessProbe(planSlices(one, slicing), one).probe!.map((c) => [c.offsetMs, c.durationMs])).to.deep.equal([[0, 60_000]]);
  });

  it('hands over no later than the load\'s end: no probe message of no time', () => {
    // One worker hands over at 60 s; the probe halfway before it, at 30 s, then 90 s: the end.
    const odd = { ...spec, rate: 100, durationMs: 90_000, rampMs: 0 };
    expect(withStalenessProbe(planSlices(odd, slicing), odd).probe!.map((c) => [c.offsetMs, c.durationMs])).to.deep.equal([[0, 30_000], [30_000, 60_000]]);
  });

  it('splits a long statements-mode load into probe messages no longer than a slice, each sent as its stretch starts', () => {
    const long = { ...spec, rampMs: 0, durationMs: 720_000 };
    const probes = messages(withStalenessProbe(planStatements(long, 10), long)).filter((m) => m.kind === 'probe');
    expect(probes.map((p) => p.kind === 'probe' && [p.startAt - T0, p.durationMs])).to.deep.equal([[0, 240_000], [240_000, 240_000], [480_000, 240_000]]);
  });

  it('counts a probe message as due only from its send time: the sender does not send them all at once', () => {
    expect(plan.probe!.length).to.be.greaterThan(1);
    expect(plan.dueBy(0)).to.equal(base.dueBy(0) + 1);
    expect(plan.dueBy(plan.loadDurationMs + plan.startLeadMs)).to.equal(plan.total);
  });

  it('sends the probe to the explicit hosts of the run, as the load goes', () => {
    const hosted = { ...spec, rampMs: 0, durationMs: 20_000, hosts: { writer: 'db.example.com' } };
    const probes = messages(withStalenessProbe(planStatements(hosted, 10), hosted)).filter((m) => m.kind === 'probe');
    expect(probes.map((p) => p.hosts)).to.deep.equal([{ writer: 'db.example.com' }]);
  });

  it('splits a long load evenly', () => {
    expect(layoutProbe(150_000, 60_000)).to.deep.equal([{ offsetMs: 0, durationMs: 50_000 }, { offsetMs: 50_000, durationMs: 50_000 }, { offsetMs: 100_000, durationMs: 50_000 }]);
  });

  it('is on by default for runs whose scripts read and write, off for one kind, and each way on request', () => {
    const probes = (raw: Parameters<typeof resolveRunOptions>[0]) => messages(buildPlan(resolveRunOptions({ local: true, duration: '5s', ...raw }), { scaleUp: null, maxConcurrency: undefined }))
      .filter((m) => m.kind === 'probe').length;
    expect(probes({})).to.equal(1);
    expect(probes({ reader: true })).to.equal(0);
    expect(probes({ mix: 'select=100' }), 'a mix of reader scripts only').to.equal(0);
    expect(probes({ stalenessProbe: false })).to.equal(0);
    expect(probes({ reader: true, stalenessProbe: true })).to.equal(1);
  });

  it('refuses a probe message with a marker interval out of bounds', () => {
    const body = (intervalMs: number) => JSON.stringify({ v: 1, kind: 'probe', runId: 'r', seq: 0, sentAt: T0, workload: 'seed', startAt: T0, durationMs: 1000, intervalMs });
    expect(() => parseMessage(body(10), T0)).to.throw(/"intervalMs" must be between 50 and 60000, got 10/);
    expect(parseMessage(body(100), T0)).to.include({ kind: 'probe', intervalMs: 100 });
  });
});
