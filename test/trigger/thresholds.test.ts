import { expect } from 'chai';
import { parseThreshold } from '../../trigger/options/threshold';
import { evaluateThresholds } from '../../trigger/report/thresholds';
import type { OpSummary, RunSummary } from '../../trigger/report/summary';

const row = (op: string, target: 'reader' | 'writer', p99: number, ok: number, errors: number): OpSummary => ({
  op, target, ok, errors, errorsByClass: errors ? { '08': errors } : {}, skipped: 0, throughput: ok / 10,
  latency: { count: ok, avg: p99 / 3, stddev: 1, p50: p99 / 4, p90: p99 / 2, p99, max: p99 * 2 },
  scheduleLag: null, answeredBy: { primary: 0, standby: 0 },
});

const summary = (rateErrorPct = -0.5, { incomplete = null, deadLettered = 0 }: { incomplete?: string | null; deadLettered?: number | null } = {}): RunSummary => ({
  version: 2, runId: 'r', source: 'local', workload: 'seed', mode: 'slice', mix: '', startedAt: '', durationMs: 10_000, interrupted: false, incomplete,
  planned: { rate: 200, averageRate: 200, statements: 2000 },
  achieved: { statements: 1990, rate: 199, rateErrorPct },
  totals: { ok: 1980, errors: 10, skipped: 0, errorRatePct: 0.5 },
  operations: [row('select', 'reader', 12, 1590, 10), row('insert', 'writer', 40, 390, 0)],
  messages: { sent: 2, ok: 2, failed: 0, invalid: 0, deadLettered, duplicate: 0, ranTwice: 0, dwell: null },
  notes: [],
});

const check = (text: string, s = summary()) => evaluateThresholds(s, [parseThreshold(text)])[0]!;

describe('trigger: thresholds', () => {
  it('checks a latency threshold against the worst operation', () => {
    expect(check('p99<50ms')).to.include({ ok: true, actual: '40.00 ms (insert/writer)' });
    expect(check('p99<30ms').ok).to.equal(false);
  });

  it('narrows a threshold to one operation or target with a scope prefix', () => {
    expect(check('select:p99<30ms').ok).to.equal(true);
    expect(check('reader:p99<=12ms').ok).to.equal(true);
    expect(check('writer:p99<=12ms').ok).to.equal(false);
  });

  it('reads seconds as thousands of ms', () => {
    expect(parseThreshold('max<1.5s')).to.include({ metric: 'max', value: 1500, unit: 'ms' });
  });

  it('checks the error rate as a share of attempted statements', () => {
    expect(check('errors<1%')).to.include({ ok: true, actual: '0.50% (10 of 1990)' });
    expect(check('errors<0.1%').ok).to.equal(false);
    expect(check('errors<5').ok).to.equal(false);
  });

  it('checks the achieved rate\'s distance from the target either way', () => {
    expect(check('rate<1%').ok).to.equal(true);
    expect(check('rate<1%', summary(+1.5)).ok).to.equal(false);
    expect(check('rate<1%', summary(-1.5)).ok).to.equal(false);
  });

  it('checks the run\'s dead-lettered messages as a count', () => {
    expect(check('dlq<1')).to.include({ ok: true, actual: '0' });
    expect(check('dlq<1', summary(0, { deadLettered: 2 }))).to.include({ ok: false, actual: '2' });
    expect(check('dlq<=2', summary(0, { deadLettered: 2 })).ok).to.equal(true);
  });

  it('fails dlq when the run\'s dead-letter count is unknown, and says so', () => {
    expect(check('dlq<1', summary(0, { deadLettered: null }))).to.deep.equal({ threshold: 'dlq<1', ok: false, actual: "unknown: this run's record has no dead-letter count (saved by an older version)" });
  });

  it('refuses dlq with a unit or a scope, in one line', () => {
    expect(() => parseThreshold('dlq<1%')).to.throw('--threshold "dlq<1%": dlq counts this run\'s dead-lettered messages; give a count, e.g. dlq<1');
    expect(() => parseThreshold('select:dlq<1')).to.throw('--threshold "select:dlq<1": dlq applies to the whole run; drop "select:"');
  });

  it('fails a threshold that matches no measured statement', () => {
    expect(check('nosuchop:p99<50ms')).to.include({ ok: false });
  });

  it('fails every threshold of an incomplete summary, with the reason, whatever the numbers say', () => {
    const incomplete = summary(0, { incomplete: '5 of 6 messages reported done' });
    for (const text of ['p99<50ms', 'errors<1%', 'rate<2%', 'dlq<1']) {
      expect(check(text, incomplete)).to.deep.equal({ threshold: text, ok: false, actual: 'not checked: the summary is incomplete (5 of 6 messages reported done)' });
    }
  });
});
