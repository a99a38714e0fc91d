import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticRun } from '../../bench/lib/synthetic-run';
import { main } from '../../trigger/cli';
import { parseRegressionLimits } from '../../trigger/options/regression';
import type { RunRecord } from '../../trigger/report/run-record';
import { RunStore } from '../../trigger/report/store';
import type { RunSummary } from '../../trigger/report/summary';
import { captureIo } from './helpers/capture-io';

/** B: A with every latency `factor` times A's and `extraErrors` more failed selects. */
function worse(a: RunRecord, runId: string, factor: number, extraErrors = 0): RunRecord {
  const s = a.summary;
  const operations = s.operations.map((o) => ({
    ...o,
    latency: o.latency && { ...o.latency, p50: o.latency.p50 * factor, p90: o.latency.p90 * factor, p99: o.latency.p99 * factor, max: o.latency.max * factor, avg: o.latency.avg * factor },
    errors: o.op === 'select' ? o.errors + extraErrors : o.errors,
  }));
  const errors = s.totals.errors + extraErrors;
  const summary: RunSummary = { ...s, runId, operations, totals: { ...s.totals, errors, errorRatePct: (100 * errors) / s.achieved.statements } };
  return { ...a, runId, facts: { ...a.facts, runId }, summary };
}

describe('trigger: report --compare A B', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trigger-compare-'));
  const a = syntheticRun({ runId: 'base', seconds: 10 });

  before(async () => {
    const store = new RunStore(join(dir, '.runs'));
    await store.save(a);
    await store.save(worse(a, 'slower', 1.2));
    await store.save(worse(a, 'failing', 1, 40));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const report = async (...argv: string[]) => {
    const io = captureIo(dir);
    const code = await main(['report', ...argv], io);
    return { code, out: io.stdout.join('\n'), err: io.stderr };
  };

  it('exits 1 when B\'s p99 is 20% worse and 10% is allowed, naming the operation', async () => {
    const r = await report('--compare', 'base', 'slower', '--max-regression', 'p99=10%');
    expect(r.code).to.equal(1);
    expect(r.out).to.match(/FAILED p99=10%: \+20\.0% \(select\/reader: [\d.]+ -> [\d.]+ ms\)/);
  });

  it('exits 0 when the regression is within what is allowed', async () => {
    const r = await report('--compare', 'base', 'slower', '--max-regression', 'p99=25%,rate=1%');
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.contain('ok     p99=25%: +20.0%');
  });

  it('allows a latency regression as a time, and errors as points of the error rate', async () => {
    // Every operation's p99 grew by a fifth: the largest growth decides.
    const p99 = Math.max(...a.summary.operations.map((o) => o.latency!.p99));
    expect((await report('--compare', 'base', 'slower', '--max-regression', `p99=${(p99 * 0.2 + 0.01).toFixed(2)}ms`)).code).to.equal(0);
    expect((await report('--compare', 'base', 'slower', '--max-regression', `p99=${(p99 * 0.2 - 0.05).toFixed(2)}ms`)).code).to.equal(1);
    const errors = await report('--compare', 'base', 'failing', '--max-regression', 'errors=1%');
    expect(errors.code).to.equal(1);
    expect(errors.out).to.match(/FAILED errors=1%: \+2\.00 points \(0\.00% -> 2\.00%\)/);
  });

  it('prints each operation\'s rate, p50, p99, max and errors for A and B, and the change', async () => {
    const r = await report('--compare', 'base', 'slower');
    expect(r.code).to.equal(0);
    expect(r.out).to.match(/^select\s+reader\s+p99 ms\s+[\d.]+\s+[\d.]+\s+\+20\.0%$/m);
    expect(r.out).to.match(/^insert\s+writer\s+tps \/s\s+40\.0\s+40\.0\s+\+0\.0%$/m);
    expect(r.out).to.match(/^all\s+-\s+rate \/s\s+200\.0\s+200\.0\s+\+0\.0%$/m);
  });

  it('gives the comparison and the verdicts as JSON, and both runs as one HTML file', async () => {
    const r = await report('--compare', 'base', 'slower', '--json', '--max-regression', 'p99=10%', '--html', 'compare.html');
    const json = JSON.parse(r.out) as { a: { runId: string }; rows: Array<{ op: string; metric: string; change: number }>; regressions: Array<{ ok: boolean }> };
    expect(json.a.runId).to.equal('base');
    expect(json.rows.find((x) => x.op === 'select' && x.metric === 'p99')!.change).to.be.closeTo(20, 1e-9);
    expect(json.regressions).to.have.length(1);
    expect(json.regressions[0]).to.include({ limit: 'p99=10%', ok: false });
    const html = readFileSync(join(dir, 'compare.html'), 'utf8');
    expect(html).to.contain('Load test comparison: A base, B slower');
  });

  it('says in one line what is wrong with the flags (exit 2)', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--compare', 'base'], /^error: --compare takes two run ids, A then B/],
      [['--compare', 'base', 'nope'], /^error: no run nope saved in \.runs\/ here/],
      [['--compare', 'base', 'slower', '--max-regression', 'p99<10%'], /^error: --max-regression "p99<10%" is not metric=limit/],
      [['--compare', 'base', 'slower', '--max-regression', 'p99=10'], /^error: --max-regression "p99=10": give p99 as a share \(p99=10%\) or a time \(p99=5ms\)/],
      [['--compare', 'base', 'slower', '--run', 'base'], /^error: --run is for one run/],
      [['--max-regression', 'p99=10%'], /^error: --max-regression compares two runs: use it with --compare A B$/],
    ];
    for (const [argv, line] of cases) {
      const r = await report(...argv);
      expect(r.code, argv.join(' ')).to.equal(2);
      expect(r.err, argv.join(' ')).to.have.length(1);
      expect(r.err[0]).to.match(line);
    }
  });

  it('reads several limits from one value', () => {
    expect(parseRegressionLimits('p99=10%, max=50ms,errors=10').map((l) => [l.metric, l.value, l.unit])).to.deep.equal([['p99', 10, 'percent'], ['max', 50, 'ms'], ['errors', 10, 'count']]);
  });
});
