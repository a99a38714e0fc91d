import { expect } from 'chai';
import { analyseOutage, formatOutage } from '../../../trigger/drills/outage';
import type { Timeline, TimelineSeries } from '../../../trigger/report/run-record';

const T0 = 1_700_000_000_000; // a whole second, epoch ms

/** A series from per-second [ok, errors] counts (errors of class 08, or of `cls`). */
function series(op: string, target: 'reader' | 'writer', counts: Array<[number, number]>, cls: '08' | '57' = '08'): TimelineSeries {
  const zeros = counts.map(() => 0);
  return {
    op, target, ok: counts.map(([ok]) => ok), errors: counts.some(([, e]) => e) ? { [cls]: counts.map(([, e]) => e) } : {},
    skipped: zeros, latency: counts.map(() => null), scheduleLag: counts.map(() => null), answeredBy: { primary: zeros, standby: zeros },
  };
}

function timeline(writer: Array<[number, number]>, reader: Array<[number, number]>): Timeline {
  const steps = Math.max(writer.length, reader.length);
  const zeros = Array.from({ length: steps }, () => 0);
  return {
    startMs: T0, stepSeconds: 1, steps,
    series: [series('select', 'reader', reader), series('insert', 'writer', writer)],
    messages: { ok: zeros, failed: zeros, invalid: zeros, dwell: zeros.map(() => null) },
  };
}

const steady = (n: number, rate: number): Array<[number, number]> => Array.from({ length: n }, () => [rate, 0]);
const load = (seconds: number) => ({ loadStartAt: T0, loadEndAt: T0 + seconds * 1000 });

describe('drills: what a fault cost, from the timeline', () => {
  it('measures a target\'s downtime from its first failure after the fault to its first second with successes and no failure', () => {
    const t = timeline([...steady(5, 20), [12, 6], [15, 4], ...steady(4, 20)], steady(11, 80));
    const a = analyseOutage(t, T0 + 5_300, 100, load(11));
    expect(a.writes).to.include({ firstFailureAt: T0 + 5_300, firstSuccessAfter: T0 + 7_000, downtimeMs: 1_700, failedStatements: 10 });
    expect(a.writes.errorsByClass).to.deep.equal({ '08': 10 });
    expect(a.reads).to.include({ firstFailureAt: null, downtimeMs: 0, failedStatements: 0 });
    expect(a.baselineRate).to.equal(100);
  });

  it('ignores failures in the seconds before the fault', () => {
    const t = timeline([[20, 0], [10, 10], ...steady(3, 20), [5, 15], ...steady(4, 20)], steady(10, 80));
    expect(analyseOutage(t, T0 + 4_000, 100, load(10)).writes).to.include({ firstFailureAt: T0 + 5_000, downtimeMs: 1_000 });
  });

  it('gives null for a downtime that had not ended by the end of the data', () => {
    const t = timeline([...steady(2, 20), [0, 20], [0, 20]], steady(4, 0));
    expect(analyseOutage(t, T0 + 2_000, 20, load(4)).writes).to.include({ downtimeMs: null, firstSuccessAfter: null });
  });

  it('times the return to the planned rate: to the end of the first second from which it holds for two', () => {
    const writes: Array<[number, number]> = [...steady(4, 100), [60, 40], [30, 70], [85, 0], [95, 0], [92, 0], [100, 0], [100, 0]];
    const t = timeline(writes, steady(writes.length, 0));
    // Dips in second 4, holds >= 90/s from second 7: back at the end of second 7, 3.7 s after 4.3 s.
    expect(analyseOutage(t, T0 + 4_300, 100, load(writes.length)).recoveredAfterMs).to.equal(3_700);
    expect(analyseOutage(t, T0 + 4_300, 100, { ...load(writes.length), tolerance: 0.2 }).recoveredAfterMs).to.equal(2_700);
    const never = timeline([...steady(4, 100), [10, 90], ...steady(4, 50)], steady(9, 0));
    expect(analyseOutage(never, T0 + 4_300, 100, load(9)).recoveredAfterMs).to.equal(null);
  });

  it('says the rate never dropped when every second after the fault met the plan', () => {
    const t = timeline(steady(10, 100), steady(10, 0));
    expect(analyseOutage(t, T0 + 3_000, 100, load(10)).recoveredAfterMs).to.equal(0);
  });

  it('refuses a planned rate that is not positive', () => {
    expect(() => analyseOutage(timeline([], []), T0, 0, load(1))).to.throw(TypeError, /plannedRate/);
  });

  it('lists the error classes in order, "08" before "57"', () => {
    const both = timeline([...steady(3, 20), [5, 15], ...steady(3, 20)], steady(7, 80));
    const t: Timeline = { ...both, series: [...both.series, series('update', 'writer', [...steady(3, 0), [0, 2], ...steady(3, 0)], '57')] };
    const text = formatOutage(analyseOutage(t, T0 + 3_000, 100, load(7))).join('\n');
    expect(text).to.contain('errors by class: 08: 15, 57: 2');
  });

  it('formats the analysis as lines for the summary, saying its resolution', () => {
    const t = timeline([...steady(3, 20), [5, 15], ...steady(3, 20)], steady(7, 80));
    const text = formatOutage(analyseOutage(t, T0 + 3_000, 100, load(7))).join('\n');
    expect(text).to.match(/writes: down 1\.00 s \(to the second\), 15 failed statements \(08: 15\)/);
    expect(text).to.match(/reads: no client-visible failure/);
    expect(text).to.match(/rate back to plan \(100\/s\): 2\.00 s after the fault began/);
  });
});
