import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunRecord } from '../../trigger/report/run-record';
import { RunStore } from '../../trigger/report/store';
import type { RunSummary } from '../../trigger/report/summary';

const ROOT = join(__dirname, '..', '..');

function trigger(args: string[], cwd = ROOT): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'trigger'), ...args], { cwd, env: { ...process.env, CI: 'true' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

describe('trigger: end to end on the local engine (real PostgreSQL)', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'trigger-e2e-'));
  let summary: RunSummary;
  let run: { code: number | null; stdout: string; stderr: string };
  let record: RunRecord;

  before(async () => {
    run = await trigger(['--local', '--rate', '200', '--duration', '10s', '--json', '--run-id', 'e2e-local', '--threshold', 'errors<1%'], dir);
    summary = JSON.parse(run.stdout) as RunSummary;
    record = (await new RunStore(join(dir, '.runs')).load('e2e-local'))!;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 0 and prints the JSON summary on stdout', () => {
    expect(run.code, run.stderr).to.equal(0);
    expect(summary.runId).to.equal('e2e-local');
    expect(summary.incomplete).to.equal(null);
  });

  it('accounts for every planned statement: each was attempted or skipped', () => {
    expect(summary.achieved.statements + summary.totals.skipped).to.equal(summary.planned.statements);
  });

  it('has every read answered by the standby and every write by the primary', () => {
    const reads = summary.operations.filter((o) => o.target === 'reader');
    const writes = summary.operations.filter((o) => o.target === 'writer');
    expect(reads.length).to.be.greaterThan(0);
    for (const o of reads) expect(o.answeredBy).to.deep.equal({ primary: 0, standby: o.ok });
    for (const o of writes) expect(o.answeredBy).to.deep.equal({ primary: o.ok, standby: 0 });
  });

  it('reports this run\'s dead letters and the replica lag', () => {
    expect(summary.messages.deadLettered).to.equal(0);
    expect(summary.replicaLag).to.have.property('bytes');
  });

  it('saves a record whose per-second timeline adds up to the summary, with the plan per second', () => {
    expect(readdirSync(join(dir, '.runs'))).to.deep.equal(['e2e-local.json']);
    expect(record.timeline.stepSeconds).to.equal(1);
    for (const o of summary.operations) {
      const s = record.timeline.series.find((x) => x.op === o.op && x.target === o.target)!;
      expect([sum(s.ok), sum(s.skipped), sum(s.answeredBy.standby) + sum(s.answeredBy.primary)]).to.deep.equal([o.ok, o.skipped, o.ok]);
    }
    expect(record.facts.plan.perSecond).to.have.length(10);
    expect(sum(record.facts.plan.perSecond)).to.be.closeTo(summary.planned.statements, 1);
    expect(sum(record.timeline.messages.ok)).to.equal(summary.messages.ok);
  });

  it('prints exactly the same summary again with report --run ID --local, thresholds included', async () => {
    const again = await trigger(['report', '--run', 'e2e-local', '--local', '--json'], dir);
    expect(again.code).to.equal(0);
    expect(again.stdout).to.equal(run.stdout);
  });
});
