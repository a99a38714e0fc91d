import { expect } from 'chai';
import { Collector, recordError, recordSuccess } from '../../handlers/metrics/collector';
import type { InvocationMetrics } from '../../handlers/metrics/types';
import { achievedLine, formatSummary } from '../../trigger/report/format';
import { summarize, type RunContext } from '../../trigger/report/summary';

const ctx = (over: Partial<RunContext> = {}): RunContext => ({
  runId: 'run-a', workload: 'seed', mode: 'slice', mix: 'select=80%,insert=20%', startedAt: 1_700_000_000_000,
  durationMs: 10_000, interrupted: false, rate: 200, averageRate: 200, plannedStatements: 2000, messagesSent: 2, deadLettered: 0, ...over,
});

/** One invocation: `reads` selects on the standby at 1..reads ms, `writes` inserts on the primary at 2 ms. */
function invocation(runId: string, reads: number, writes: number, opts: { errors?: number; skipped?: number; dwell?: number } = {}): InvocationMetrics {
  const c = new Collector();
  const r = c.op(runId, 'seed', 'select', 'reader');
  for (let i = 1; i <= reads; i++) recordSuccess(r, i, 'standby');
  for (let i = 0; i < (opts.errors ?? 0); i++) recordError(r, '08');
  r.skipped += opts.skipped ?? 0;
  r.lag.record(0.5);
  const w = c.op(runId, 'seed', 'insert', 'writer');
  for (let i = 0; i < writes; i++) recordSuccess(w, 2, 'primary');
  const m = c.run(runId);
  m.dwell.record(opts.dwell ?? 10);
  m.ok += 1;
  return c.finish(1_700_000_010_000);
}

describe('trigger: run summary from the local sink', () => {
  it('merges invocations per operation and target, counting successes, errors, skips and who answered', () => {
    const s = summarize([invocation('run-a', 800, 200, { errors: 3, skipped: 2 }), invocation('run-a', 800, 197)], ctx());
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

  it('ignores the metrics of other runs', () => {
    const s = summarize([invocation('run-a', 10, 0), invocation('run-b', 500, 500)], ctx());
    expect(s.achieved.statements).to.equal(10);
    expect(s.messages.ok).to.equal(1);
  });

  it('computes pgbench-style latency: average, stddev and percentiles within the histogram precision', () => {
    const s = summarize([invocation('run-a', 1000, 0)], ctx());
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

  it('says how far the achieved rate was from the target', () => {
    const s = summarize([invocation('run-a', 1596, 400)], ctx());
    expect(s.achieved.rate).to.be.closeTo(199.6, 1e-9);
    expect(s.achieved.rateErrorPct).to.be.closeTo(-0.2, 1e-9);
    expect(achievedLine(s)).to.equal('achieved 199.6/s of 200/s, -0.2%');
  });

  it('counts failed statements in the achieved rate and in the error rate, skipped ones in neither', () => {
    const s = summarize([invocation('run-a', 90, 0, { errors: 10, skipped: 100 })], ctx({ durationMs: 1_000, averageRate: 200, rate: 200 }));
    expect(s.achieved.statements).to.equal(100);
    expect(s.totals.errorRatePct).to.equal(10);
    expect(s.achieved.rateErrorPct).to.equal(-50);
  });

  it('prints a table row per operation and target, and proves reads on the standby', () => {
    const text = formatSummary(summarize([invocation('run-a', 1600, 400)], ctx({ replicaLag: { bytes: 0, ms: 1.5 } })));
    expect(text).to.match(/^select\s+reader\s+1600\s+160\.0/m);
    expect(text).to.match(/^insert\s+writer\s+400\s+40\.0/m);
    expect(text).to.contain('reads answered by a standby (pg_is_in_recovery() on the answering server): 1600 of 1600, all on a standby');
    expect(text).to.contain('0 in the dead-letter queue');
    expect(text).to.contain('replica lag at the end: 0 bytes, 1.5 ms');
  });
});
