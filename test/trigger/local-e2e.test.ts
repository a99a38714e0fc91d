import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

describe('trigger: end to end on the local engine (real PostgreSQL)', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'trigger-e2e-'));
  let summary: RunSummary;
  let run: { code: number | null; stdout: string; stderr: string };

  before(async () => {
    run = await trigger(['--local', '--rate', '200', '--duration', '10s', '--json', '--run-id', 'e2e-local', '--threshold', 'errors<1%'], dir);
    summary = JSON.parse(run.stdout) as RunSummary;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 0 and prints the JSON summary on stdout', () => {
    expect(run.code, run.stderr).to.equal(0);
    expect(summary.runId).to.equal('e2e-local');
  });

  it('achieves 200/s within 5%', () => {
    expect(Math.abs(summary.achieved.rate - 200) / 200, JSON.stringify(summary.achieved)).to.be.below(0.05);
  });

  it('has every read answered by the standby and every write by the primary', () => {
    const reads = summary.operations.filter((o) => o.target === 'reader');
    const writes = summary.operations.filter((o) => o.target === 'writer');
    expect(reads.length).to.be.greaterThan(0);
    for (const o of reads) expect(o.answeredBy).to.deep.equal({ primary: 0, standby: o.ok });
    for (const o of writes) expect(o.answeredBy).to.deep.equal({ primary: o.ok, standby: 0 });
  });

  it('reports the dead-letter count and the replica lag', () => {
    expect(summary.messages.deadLettered).to.equal(0);
    expect(summary.replicaLag).to.have.property('bytes');
  });

  it('saves the run so that report --run ID --local prints it again', async () => {
    expect(readdirSync(join(dir, '.runs'))).to.deep.equal(['e2e-local.json']);
    const again = await trigger(['report', '--run', 'e2e-local', '--local'], dir);
    expect(again.code).to.equal(0);
    expect(again.stdout).to.contain('run e2e-local: seed workload, slice mode');
    expect(again.stdout).to.match(/achieved \d+\.\d\/s of 200\/s/);
  });
});
