import { expect } from 'chai';
import { Collector, recordError, recordSkip, recordSuccess } from '../../handlers/metrics/collector';
import type { InvocationMetrics } from '../../handlers/metrics/types';
import { achievedLine, formatSummary } from '../../trigger/report/format';
import type { Reconciliation } from '../../trigger/drills/reconcile';
import type { RunFacts } from '../../trigger/report/run-record';
import { summarize } from '../../trigger/report/summary';
import { measureInvocations } from '../../trigger/report/timeline';
import { runFacts } from './helpers/run-facts';

const T0 = 1_700_000_000_000;

/** One invocation: `reads` selects on the standby at 1..reads ms, `writes` inserts on the primary at 2 ms, in the load's first second. */
function invocation(runId: string, reads: number, writes: number, opts: { errors?: number; skipped?: number; dwell?: number } = {}): InvocationMetrics {
  const c = new Collector();
  const r = c.op(runId, 'seed', 'select', 'reader');
  for (let i = 1; i <= reads; i++) recordSuccess(r, i, 'standby', T0 + 100, 0.5);
  for (let i = 0; i < (opts.errors ?? 0); i++) recordError(r, '08', T0 + 200);
  for (let i = 0; i < (opts.skipped ?? 0); i++) recordSkip(r, T0 + 300);
  const w = c.op(runId, 'seed', 'insert', 'writer');
  for (let i = 0; i < writes; i++) recordSuccess(w, 2, 'primary', T0 + 400);
  const m = c.run(runId);
  m.dwell.record(opts.dwell ?? 10);
  m.ok += 1;
  return c.finish(T0 + 10_000);
}

const summary = (invocations: InvocationMetrics[], facts: RunFacts = runFacts()) =>
  summarize(facts, measureInvocations(invocations, facts.runId, facts.loadStartAt, facts.loadStartAt + facts.durationMs));

describe('trigger: run summary', () => {
  it('merges invocations per operation and target, counting successes, errors, skips and who answered', () => {
    const s = summary([invocation('run-a', 800, 200, { errors: 3, skipped: 2 }), invocation('run-a', 800, 197)]);
    expect(s.operations.map((o) => [o.op, o.target, o.ok, o.errors, o.skipped])).to.deep.equal([
      ['select', 'reader', 1600, 3, 2],
      ['insert', 'writer', 397, 0, 0],
    ]);
    expect(s.operations[0]!.answeredBy).to.deep.equal({ primary: 0, standby: 1600 });
    expect(s.operations[1]!.answeredBy).to.deep.equal({ primary: 397, standby: 0 });
    expect(s.operations[0]!.errorsByClass).to.deep.equal({ '08': 3 });
    expect(s.totals).to.deep.include({ ok: 1997, errors: 3, skipped: 2 });
    expect(s.messages).to.deep.include({ sent: 2, ok: 2, failed: 0, invalid: 0, deadLettered: 0 });
  });

  it('counts copies not run again, and messages that ran twice (more successes than messages sent)', () => {
    const copy = invocation('run-a', 10, 0);
    copy.messages[0]!.duplicate = 2;
    const s = summary([invocation('run-a', 10, 0), invocation('run-a', 10, 0), invocation('run-a', 10, 0), copy]);
    expect(s.messages).to.deep.include({ sent: 2, ok: 4, duplicate: 2, ranTwice: 2 });
    expect(formatSummary(s)).to.contain('duplicates: 2 message(s) ran twice (a copy reached another environment), 2 copies not run again');
  });

  it('warns when the sending machine\'s clock is more than a second ahead of the workers\'', () => {
    const late = invocation('run-a', 10, 0);
    late.messages[0]!.senderAheadMs = 2_500;
    const s = summary([late]);
    expect(s.senderClockAheadMs).to.equal(2_500);
    expect(s.notes.join('\n')).to.match(/clock is at least 2\.5 s ahead of the workers'/);
    const close = invocation('run-a', 10, 0);
    close.messages[0]!.senderAheadMs = 400;
    expect(summary([close]).notes).to.deep.equal([]);
  });

  it('ignores the metrics of other runs', () => {
    const s = summary([invocation('run-a', 10, 0), invocation('run-b', 500, 500)]);
    expect(s.achieved.statements).to.equal(10);
    expect(s.messages.ok).to.equal(1);
  });

  it('computes pgbench-style latency: average, stddev and percentiles within the histogram precision', () => {
    const s = summary([invocation('run-a', 1000, 0)]);
    const lat = s.operations[0]!.latency!;
    expect(lat.count).to.equal(1000);
    expect(lat.avg).to.be.closeTo(500.5, 500.5 * 0.01);
    expect(lat.stddev).to.be.closeTo(288.7, 288.7 * 0.02);
    expect(lat.p50).to.be.closeTo(500, 5);
    expect(lat.p90).to.be.closeTo(900, 9);
    expect(lat.p99).to.be.closeTo(990, 10);
    expect(lat.max).to.equal(1000);
    expect(s.operations[0]!.throughput).to.equal(100);
  });

  it('says how far the achieved rate was from the plan', () => {
    const s = summary([invocation('run-a', 1596, 400)]);
    expect(s.achieved.rate).to.be.closeTo(199.6, 1e-9);
    expect(s.achieved.rateErrorPct).to.be.closeTo(-0.2, 1e-9);
    expect(achievedLine(s)).to.equal('achieved 199.6/s of 200/s, -0.2%');
  });

  it('counts failed statements in the achieved rate and in the error rate, skipped ones in neither', () => {
    const s = summary([invocation('run-a', 90, 0, { errors: 10, skipped: 100 })], runFacts({ durationMs: 1_000 }));
    expect(s.achieved.statements).to.equal(100);
    expect(s.totals.errorRatePct).to.equal(10);
    expect(s.achieved.rateErrorPct).to.equal(-50);
  });

  it('prints a table row per operation and target, and proves reads on the standby', () => {
    const text = formatSummary(summary([invocation('run-a', 1600, 400)], runFacts({ replicaLag: { bytes: 0, ms: 1.5 } })));
    expect(text).to.match(/^select\s+reader\s+1600\s+160\.0/m);
    expect(text).to.match(/^insert\s+writer\s+400\s+40\.0/m);
    expect(text).to.contain('reads answered by a standby (pg_is_in_recovery() on the answering server): 1600 of 1600, all on a standby');
    expect(text).to.match(/^messages: \d+ sent, \d+ ok, 0 failed receives, 0 invalid receives, 0 dead-lettered$/m);
    expect(text).to.contain('replica lag at the end: 0 bytes, 1.5 ms');
  });

  it('says plainly, right under the run and load lines, when the summary is incomplete', () => {
    const text = formatSummary(summary([invocation('run-a', 10, 0)], runFacts({ incomplete: '1 of 2 messages reported done' })));
    expect(text.split('\n')[2]).to.equal('INCOMPLETE: 1 of 2 messages reported done');
  });

  it('adds what a drill cost, from the timeline: the writes down from the first failure to the first clean second', () => {
    const c = new Collector();
    const w = c.op('run-a', 'seed', 'insert', 'writer');
    for (let sec = 0; sec < 6; sec++) {
      for (let i = 0; i < 20; i++) {
        if (sec === 2 && i >= 5) recordError(w, '57', T0 + sec * 1000 + i * 50);
        else recordSuccess(w, 2, 'primary', T0 + sec * 1000 + i * 50);
      }
    }
    const facts = runFacts({ durationMs: 6_000, settings: { ...runFacts().settings, rate: 20 }, drill: { kind: 'writer-down', event: { startedAt: T0 + 2_200, completedAt: T0 + 2_900 } } });
    const s = summary([c.finish(T0 + 6_000)], facts);
    expect(s.drill!.outage!.writes).to.include({ firstFailureAt: T0 + 2_200, firstSuccessAfter: T0 + 3_000, downtimeMs: 800, failedStatements: 15 });
    // 20/s before the fault, back at plan from second 3 and held through second 4.
    expect(s.drill!.outage).to.include({ baselineRate: 20, recoveredAfterMs: 1_800 });
    expect(formatSummary(s)).to.contain('writer-down drill: started');
  });

  it('reports a drill without a planned rate (statements mode) without an outage analysis', () => {
    const facts = runFacts({ settings: { ...runFacts().settings, mode: 'statements', rate: 0 }, drill: { kind: 'writer-down', event: { startedAt: T0 + 2_200, completedAt: T0 + 2_900 } } });
    const s = summary([invocation('run-a', 10, 0)], facts);
    expect(s.drill).to.deep.equal({ kind: 'writer-down', event: { startedAt: T0 + 2_200, completedAt: T0 + 2_900 } });
  });

  it('gives each operation and target its own latency and schedule lag, and none to one that never succeeded', () => {
    const c = new Collector();
    const onReader = c.op('run-a', 'seed', 'select', 'reader');
    const onWriter = c.op('run-a', 'seed', 'select', 'writer');
    const failing = c.op('run-a', 'seed', 'insert', 'writer');
    for (let i = 0; i < 10; i++) {
      recordSuccess(onReader, 3, 'standby', T0 + 100, 1);
      recordSuccess(onWriter, 30, 'primary', T0 + 100, 7);
      recordError(failing, '08', T0 + 100, 5);
    }
    const rows = summary([c.finish(T0 + 10_000)]).operations;
    const find = (op: string, target: string) => rows.find((o) => o.op === op && o.target === target)!;
    const [reader, writer, insert] = [find('select', 'reader'), find('select', 'writer'), find('insert', 'writer')];
    expect([reader!.target, reader!.latency!.max, reader!.scheduleLag!.max]).to.deep.equal(['reader', 3, 1]);
    expect([writer!.target, writer!.latency!.max, writer!.scheduleLag!.max]).to.deep.equal(['writer', 30, 7]);
    expect(insert).to.deep.include({ op: 'insert', ok: 0, errors: 10, latency: null });
  });

  it('reports rates of 0, not infinities, for a run of no duration, no planned rate or no statements', () => {
    const instant = summary([invocation('run-a', 10, 0)], runFacts({ durationMs: 0 }));
    expect(instant.achieved).to.deep.include({ rate: 0 });
    expect(instant.operations[0]!.throughput).to.equal(0);
    const unplanned = summary([invocation('run-a', 10, 0)], runFacts({ plan: { ...runFacts().plan, averageRate: 0 } }));
    expect(unplanned.achieved.rateErrorPct).to.equal(0);
    const nothing = summary([invocation('run-a', 0, 0)]);
    expect(nothing.totals).to.deep.include({ ok: 0, errors: 0, errorRatePct: 0 });
    expect(nothing.achieved.rateErrorPct).to.equal(-100);
  });

  it('counts a message that both succeeded and was dead-lettered as one that ran twice', () => {
    // Two messages sent, both reported ok, and a copy of one failed on its last receive in another environment.
    const copy = new Collector();
    const m = copy.run('run-a');
    m.failed += 1;
    m.deadLettered += 1;
    const s = summary([invocation('run-a', 10, 0), invocation('run-a', 10, 0), copy.finish(T0 + 10_000)]);
    expect(s.messages).to.deep.include({ sent: 2, ok: 2, deadLettered: 1, ranTwice: 1 });
    const none = summary([invocation('run-a', 10, 0), invocation('run-a', 10, 0)]);
    expect(none.messages).to.deep.include({ deadLettered: 0, ranTwice: 0 });
  });

  it('says nothing of the sender\'s clock when it is not ahead, and warns only past a full second', () => {
    expect(summary([invocation('run-a', 10, 0)])).not.to.have.property('senderClockAheadMs');
    const second = invocation('run-a', 10, 0);
    second.messages[0]!.senderAheadMs = 1_000;
    const s = summary([second]);
    expect(s.senderClockAheadMs).to.equal(1_000);
    expect(s.notes).to.deep.equal([]);
  });

  it('summarizes a run saved by an older version, whose timeline has no duplicate or sender-clock counts', () => {
    const facts = runFacts();
    const measured = measureInvocations([invocation('run-a', 10, 0)], facts.runId, facts.loadStartAt, facts.loadStartAt + facts.durationMs);
    const { duplicate: _d, senderAheadMs: _s, ...older } = measured.timeline.messages;
    const s = summarize(facts, { ...measured, timeline: { ...measured.timeline, messages: older } });
    expect(s.messages).to.deep.include({ ok: 1, duplicate: 0, ranTwice: 0 });
    expect(s).not.to.have.property('senderClockAheadMs');
    expect(s.notes).to.deep.equal([]);
  });

  it('carries the sender\'s counts and a drill\'s reconciliation into the summary', () => {
    const send = { calls: 3, retries: 1, throttled: 0, failedEntries: 0, lost: 0, possibleDuplicates: 0, maxLateMs: 12 };
    const reconciliation: Reconciliation = { ok: true, messages: { sent: 2, succeeded: 2, deadLettered: 0, stillQueued: 0, lost: 0, duplicates: 0 }, problems: [] };
    const s = summary([invocation('run-a', 10, 0)], runFacts({ send, drill: { kind: 'writer-down', reconciliation } }));
    expect(s.send).to.deep.equal(send);
    expect(s.drill).to.deep.equal({ kind: 'writer-down', reconciliation });
  });

  it('describes the mix as the run record gives it, and as unknown when the record has none', () => {
    expect(summary([invocation('run-a', 10, 0)]).mix).to.equal('select=80%,insert=20%');
    expect(summary([invocation('run-a', 10, 0)], runFacts({ settings: { ...runFacts().settings, mix: [] } })).mix).to.equal('unknown');
  });
});
