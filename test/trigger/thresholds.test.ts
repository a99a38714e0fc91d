import { expect } from 'chai';
import { finish } from '../../trigger/commands/finish';
import { EXIT, UsageError } from '../../trigger/errors';
import { parseThreshold } from '../../trigger/options/threshold';
import { evaluateThresholds } from '../../trigger/report/thresholds';
import type { OpSummary, RunSummary } from '../../trigger/report/summary';
import { captureIo } from './helpers/capture-io';

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

/** The exit code a run with this summary ends with under these thresholds. */
const exitCode = (s: RunSummary, ...texts: string[]): number => finish(s, texts.map(parseThreshold), true, captureIo());

/**
 * A run whose worst p99 is exactly 40 ms, with exactly 10 errors (2% of 500 attempted), whose
 * achieved rate is exactly 2% under its plan.
 */
const atTheLimits = (): RunSummary => {
  const s = summary(-2);
  return { ...s, operations: [row('select', 'reader', 12, 390, 10), row('insert', 'writer', 40, 100, 0)] };
};

describe('trigger: thresholds', () => {
  it('checks a latency threshold against the worst operation', () => {
    expect(check('p99<50ms')).to.include({ ok: true, actual: '40.00 ms (insert/writer)' });
    expect(check('p99<30ms').ok).to.equal(false);
  });

  it('fails a strict threshold at exactly its limit, and the run exits 1: p99<40ms at 40 ms, errors<10 with 10, errors<2% at 2%, rate<2% at 2%', () => {
    const s = atTheLimits();
    for (const text of ['p99<40ms', 'errors<10', 'errors<2%', 'rate<2%']) {
      expect(check(text, s).ok, text).to.equal(false);
      expect(exitCode(s, text), text).to.equal(EXIT.failed);
    }
  });

  it('passes a non-strict threshold at exactly its limit, and the run exits 0: p99<=40ms, errors<=10, errors<=2%, rate<=2%', () => {
    const s = atTheLimits();
    for (const text of ['p99<=40ms', 'errors<=10', 'errors<=2%', 'rate<=2%']) {
      expect(check(text, s).ok, text).to.equal(true);
      expect(exitCode(s, text), text).to.equal(EXIT.ok);
    }
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

  it('says which measurement was missing when a threshold has nothing to check', () => {
    const empty: RunSummary = { ...summary(), operations: [] };
    expect(check('nosuchop:p99<50ms').actual).to.equal('no latency measured for nosuchop');
    expect(check('p99<50ms', empty)).to.include({ ok: false, actual: 'no latency measured' });
    expect(check('nosuchop:errors<1%')).to.include({ ok: false, actual: 'no statements for nosuchop' });
    expect(check('errors<1%', empty)).to.include({ ok: false, actual: 'no statements' });
  });

  it('fails rate when no statement ran, even where the plan had no rate to miss', () => {
    const none = summary(0);
    const s: RunSummary = { ...none, achieved: { statements: 0, rate: 0, rateErrorPct: 0 }, operations: [] };
    expect(check('rate<2%', s)).to.include({ ok: false, actual: '0.00%' });
    expect(check('rate<2%')).to.include({ ok: true, actual: '-0.50%' });
  });

  it('reports an error count as the count it checked', () => {
    expect(check('errors<=10')).to.include({ ok: true, actual: '10' });
    expect(check('select:errors<11')).to.include({ ok: true, actual: '10' });
    expect(check('writer:errors<1')).to.include({ ok: true, actual: '0' });
  });

  it('names the worst operation whatever its place in the summary, and skips one whose statements all failed', () => {
    const failedAll: OpSummary = { ...row('update', 'writer', 0, 0, 7), latency: null };
    const s: RunSummary = { ...summary(), operations: [row('insert', 'writer', 40, 390, 0), failedAll, row('select', 'reader', 12, 1590, 10)] };
    expect(check('p99<50ms', s)).to.include({ ok: true, actual: '40.00 ms (insert/writer)' });
    expect(check('writer:p99<30ms', s)).to.include({ ok: false, actual: '40.00 ms (insert/writer)' });
  });

  it('checks each latency metric against its own figure', () => {
    // insert/writer, the worst row: p50 10, p90 20, p99 40, max 80, avg 40/3 ms.
    const worst = { p50: 10, p90: 20, p99: 40, max: 80, avg: 40 / 3 };
    for (const [metric, value] of Object.entries(worst)) {
      expect(check(`${metric}<=${value}ms`), metric).to.include({ ok: true, actual: `${value.toFixed(2)} ms (insert/writer)` });
      expect(check(`${metric}<${value}ms`).ok, metric).to.equal(false);
    }
  });

  it('reads a threshold with spaces and decimals, and reports it as given, trimmed', () => {
    expect(parseThreshold('  select: p99 <= 12.25 ms ')).to.deep.include({ text: 'select: p99 <= 12.25 ms', scope: 'select', metric: 'p99', op: '<=', value: 12.25 });
    expect(parseThreshold('MAX<1.25s')).to.include({ metric: 'max', value: 1250 });
    expect(check(' p99 < 50ms ').threshold).to.equal('p99 < 50ms');
  });

  const refusals: Array<[string, string]> = [
    ['p99 under 5', '--threshold "p99 under 5" is not metric<value: use e.g. "p99<50ms", "select:p90<=20ms", "errors<1%", "rate<2%", "dlq<1"'],
    ['!p99<5ms', '--threshold "!p99<5ms" is not metric<value: use e.g. "p99<50ms", "select:p90<=20ms", "errors<1%", "rate<2%", "dlq<1"'],
    ['p99<5ms!', '--threshold "p99<5ms!" is not metric<value: use e.g. "p99<50ms", "select:p90<=20ms", "errors<1%", "rate<2%", "dlq<1"'],
    ['p99<5%', '--threshold "p99<5%": p99 is a latency; give ms or s, e.g. p99<50ms'],
    ['errors<5ms', '--threshold "errors<5ms": errors is a share (errors<1%) or a count (errors<10), not a time'],
    ['errors<5s', '--threshold "errors<5s": errors is a share (errors<1%) or a count (errors<10), not a time'],
    ['rate<2', '--threshold "rate<2": rate is the achieved rate\'s distance from the target in percent, e.g. rate<2%'],
    ['select:rate<2%', '--threshold "select:rate<2%": rate applies to the whole run; drop "select:"'],
    ['p95<10', '--threshold "p95<10": unknown metric "p95" (known: p50, p90, p99, max, avg, errors, rate, dlq); e.g. "p99<50ms", "select:p90<=20ms", "errors<1%", "rate<2%", "dlq<1"'],
  ];
  for (const [text, message] of refusals) {
    it(`refuses "${text}" with a one-line usage error that says what to write`, () => {
      expect(() => parseThreshold(text)).to.throw(UsageError).with.property('message', message);
    });
  }

  it('fails every threshold of an incomplete summary, with the reason, whatever the numbers say', () => {
    const incomplete = summary(0, { incomplete: '5 of 6 messages reported done' });
    for (const text of ['p99<50ms', 'errors<1%', 'rate<2%', 'dlq<1']) {
      expect(check(text, incomplete)).to.deep.equal({ threshold: text, ok: false, actual: 'not checked: the summary is incomplete (5 of 6 messages reported done)' });
    }
  });
});
