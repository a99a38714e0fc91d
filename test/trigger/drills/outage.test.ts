import { expect } from 'chai';
import { Histogram } from '../../../handlers/metrics/histogram';
import type { InvocationMetrics, OpSeries } from '../../../handlers/metrics/types';
import { analyseOutage, analyseOutageOf, formatOutage, type OutageInput, type TargetSeries } from '../../../trigger/drills/outage';

const T0 = 1_700_000_000_000; // a whole second, epoch ms
const sec = (n: number): number => T0 / 1000 + n;

/** A target's series from per-second [ok, errors] counts starting at second 0, and outage windows (ms after T0). */
function series(counts: Array<[number, number]>, outages: Array<[number, number | null]> = [], errorsByClass: Record<string, number> = {}): TargetSeries {
  return {
    perSecond: new Map(counts.map(([ok, errors], i) => [sec(i), { ok, errors }])),
    outages: outages.map(([from, to]) => ({ from: T0 + from, to: to === null ? null : T0 + to })),
    errorsByClass,
  };
}

const steady = (n: number, rate: number): Array<[number, number]> => Array.from({ length: n }, () => [rate, 0]);

describe('drills: outage analysis', () => {
  it('measures downtime from the first failure after the failover to the moment every failed client succeeded again', () => {
    const input: OutageInput = {
      // Two workers fail at 5.10 s and 5.20 s and are back at 5.90 s and 6.40 s; one flaps again at 6.50 s (within the merge gap).
      writer: series([...steady(5, 20), [12, 6], [15, 4], ...steady(4, 20)], [[5100, 5900], [5200, 6400], [6500, 6600]], { '08': 9, 57: 1 }),
      reader: series(steady(11, 80)),
    };
    const a = analyseOutageOf(input, T0 + 5000, 100, { loadStartAt: T0, loadEndAt: T0 + 11_000 });
    expect(a.writes).to.include({ firstFailureAt: T0 + 5100, firstSuccessAfter: T0 + 6600, downtimeMs: 1500, resolution: 'ms', failedStatements: 10 });
    expect(a.writes.errorsByClass).to.deep.equal({ '08': 9, 57: 1 });
    expect(a.reads).to.include({ firstFailureAt: null, downtimeMs: 0, failedStatements: 0 });
    expect(a.errorsBySqlstateClass).to.deep.equal({ '08': 9, 57: 1 });
    expect(a.baselineRate).to.equal(100);
  });

  it('ignores failures before the failover and does not merge a later, separate outage', () => {
    const input: OutageInput = {
      writer: series(steady(20, 100), [[1000, 1200], [5000, 5500], [9000, 9100]]),
      reader: series(steady(20, 0)),
    };
    const a = analyseOutageOf(input, T0 + 4000, 100);
    expect(a.writes.firstFailureAt).to.equal(T0 + 5000);
    expect(a.writes.downtimeMs).to.equal(500);
  });

  it('closes a window left open by an invocation that ended while failing at the next second with a success', () => {
    // Statements messages: the failing message ends its invocation; its redelivery succeeds later.
    const input: OutageInput = {
      writer: series([...steady(3, 10), [2, 5], [0, 3], [0, 0], [10, 0], ...steady(3, 10)], [[3200, null], [3300, 3400], [4100, null]]),
      reader: series(steady(10, 0)),
    };
    const a = analyseOutageOf(input, T0 + 3000, 10);
    expect(a.writes).to.include({ firstFailureAt: T0 + 3200, firstSuccessAfter: T0 + 6000, downtimeMs: 2800, resolution: 'second' });
  });

  it('falls back to per-second counts when no outage windows are known (CloudWatch)', () => {
    const input: OutageInput = {
      writer: series([...steady(3, 20), [5, 15], [0, 20], [18, 0], ...steady(3, 20)]),
      reader: series(steady(9, 80)),
    };
    const a = analyseOutageOf(input, T0 + 3400, 100);
    expect(a.writes).to.include({ firstFailureAt: T0 + 3400, firstSuccessAfter: T0 + 5000, downtimeMs: 1600, resolution: 'second' });
  });

  it('reports a downtime that had not ended by the end of the data as null', () => {
    const input: OutageInput = { writer: series([...steady(2, 20), [0, 20], [0, 20]], [[2000, null]]), reader: series(steady(4, 0)) };
    expect(analyseOutageOf(input, T0 + 2000, 20).writes).to.include({ downtimeMs: null, firstSuccessAfter: null });
  });

  it('times the return to the target rate from the failover to the end of the first second that holds it', () => {
    const counts: Array<[number, number]> = [...steady(4, 100), [60, 40], [30, 70], [85, 0], [95, 0], [92, 0], [100, 0], [100, 0]];
    const input: OutageInput = { writer: series(counts), reader: series(steady(counts.length, 0)) };
    // The rate dips in second 4 and holds >= 90/s from second 7 (95, 92): back at the end of second 7, 3.7 s after 4.3 s.
    const opts = { loadStartAt: T0, loadEndAt: T0 + counts.length * 1000 };
    const a = analyseOutageOf(input, T0 + 4300, 100, opts);
    expect(a.recoveredToTargetAfterMs).to.equal(3700);
    expect(a.timeline).to.have.length(counts.length);
    // With 20% tolerance second 6 (85/s) already counts.
    expect(analyseOutageOf(input, T0 + 4300, 100, { ...opts, tolerance: 0.2 }).recoveredToTargetAfterMs).to.equal(2700);
    const never: OutageInput = { writer: series([...steady(4, 100), [10, 90], ...steady(4, 50)]), reader: series(steady(9, 0)) };
    expect(analyseOutageOf(never, T0 + 4300, 100, { loadEndAt: T0 + 9000 }).recoveredToTargetAfterMs).to.equal(null);
  });

  it('says the rate never dropped when every second after the failover met the target', () => {
    const input: OutageInput = { writer: series(steady(10, 100)), reader: series(steady(10, 0)) };
    expect(analyseOutageOf(input, T0 + 3000, 100, { loadEndAt: T0 + 10_000 }).recoveredToTargetAfterMs).to.equal(0);
  });

  it('reads the worker metrics of one run: per target, per second, with the outage windows and error classes', () => {
    const op = (target: 'writer' | 'reader', runId: string): OpSeries => ({
      runId, workload: 'seed', op: target === 'writer' ? 'insert' : 'select', target, latency: new Histogram(), lag: new Histogram(),
      errors: new Map([['08', 2]]), answeredBy: new Map(), skipped: 0,
      perSecond: new Map([[sec(0), { ok: 5, errors: 0 }], [sec(1), { ok: 3, errors: 2 }], [sec(2), { ok: 5, errors: 0 }]]),
      outages: [{ from: T0 + 1200, to: T0 + 1700 }],
    });
    const invocations: InvocationMetrics[] = [
      { at: T0 + 3000, series: [op('writer', 'drill'), op('reader', 'drill'), op('writer', 'other')], messages: [] },
    ];
    const a = analyseOutage(invocations, T0 + 1000, 10, { runId: 'drill' });
    expect(a.writes).to.include({ downtimeMs: 500, failedStatements: 2 });
    expect(a.reads).to.include({ downtimeMs: 500, failedStatements: 2 });
    expect(a.errorsBySqlstateClass).to.deep.equal({ '08': 4 });
    expect(a.timeline.map((s) => s.ok)).to.deep.equal([10, 6, 10]);
  });

  it('refuses a target rate that is not positive', () => {
    const input: OutageInput = { writer: series([]), reader: series([]) };
    expect(() => analyseOutageOf(input, T0, 0)).to.throw(TypeError, /targetRate/);
  });

  it('formats the analysis as lines for the summary', () => {
    const input: OutageInput = { writer: series([...steady(3, 20), [5, 15], ...steady(3, 20)], [[3100, 3600]], { '08': 15 }), reader: series(steady(7, 80)) };
    const text = formatOutage(analyseOutageOf(input, T0 + 3000, 100, { loadEndAt: T0 + 7000 })).join('\n');
    expect(text).to.match(/writes: down 0\.50 s, 15 failed statements \(08: 15\)/);
    expect(text).to.match(/reads: no client-visible failure/);
    expect(text).to.match(/rate back to target \(100\/s\): 2\.00 s after the failover began/);
  });
});
