import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ERROR_CLASS_NAMES } from '../../handlers/contract';
import type { RunRecord } from '../../trigger/report/run-record';
import { RunStore } from '../../trigger/report/store';
import { openOffline } from '../../bench/lib/offline-browser';
import { needChromium } from '../helpers/chromium';
import type { ReportData } from '../../trigger/report/html/report-data';

const ROOT = join(__dirname, '..', '..');

function trigger(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'trigger'), ...args], { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('trigger: --failover-at on the local engine, and report --run ID (real PostgreSQL)', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'trigger-failover-'));
  let run: { code: number | null; stdout: string; stderr: string };
  let record: RunRecord;

  before(async () => {
    // Half writes at 150/s, so the failover (a few hundred ms) meets writes for certain.
    run = await trigger(['--local', '--rate', '150', '--duration', '8s', '--failover-at', '3s', '--mix', 'read=50,write=50', '--run-id', 'failover-e2e', '--html', 'run.html'], dir);
    record = (await new RunStore(join(dir, '.runs')).load('failover-e2e'))!;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('fails the writer over during the load: the promoted standby becomes the writer', () => {
    expect(run.code, run.stderr).to.equal(0);
    const e = record.summary.drill!.event!;
    expect(e.completedAt).to.be.at.least(e.startedAt);
    expect(e.from).to.be.a('string').and.not.equal(e.to);
  });

  it('reports what the clients saw: failed writes, a downtime that ended, errors by class of the contract', () => {
    const o = record.summary.drill!.outage!;
    expect(o.writes.failedStatements, 'writes failed during the failover').to.be.greaterThan(0);
    expect(o.writes.firstFailureAt).to.be.at.least(o.faultAt);
    expect(o.writes.downtimeMs, 'the writes came back').to.be.a('number').and.greaterThan(0);
    for (const cls of Object.keys(o.errorsByClass)) expect(ERROR_CLASS_NAMES).to.include(cls);
    // Writes after the failover are answered by the promoted server: the run carried on.
    const writes = record.summary.operations.find((x) => x.target === 'writer')!;
    expect(writes.ok).to.be.greaterThan(writes.errors);
  });

  it('moves the reads to the promoted server once the standby is gone', () => {
    const reads = record.summary.operations.find((o) => o.target === 'reader')!;
    expect(reads.answeredBy.standby).to.be.greaterThan(0);
    expect(reads.answeredBy.primary).to.be.greaterThan(0);
  });

  it('prints the standby\'s lag and the staleness clients saw, measured by the probe through the queue', () => {
    expect(run.stdout).to.match(/^staleness \(write on the writer, read it back on a reader\): p50 [\d.]+ ms, p90 [\d.]+, p99 [\d.]+, max [\d.]+ ms \(\d+ markers/m);
    expect(run.stdout).to.match(/^ {2}reader:\d+ +replica lag ms +[\d.]+ +[\d.]+$/m);
    // How many markers come back depends on how long the failover holds the probe up (a marker still
    // being polled delays the next): 15 in one CI run, more than 20 in others. That some did is the point.
    expect(record.summary.staleness!.seen).to.be.greaterThan(0);
    expect(record.database!.servers.map((s) => s.role)).to.deep.equal(['writer', 'reader']);
  });

  it('writes one HTML file that opens offline with every chart, the failover shaded', async function () {
    needChromium(this);
    const html = readFileSync(join(dir, 'run.html'), 'utf8');
    const data = JSON.parse(/<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1]!) as ReportData;
    expect(data.shades).to.have.length(1);
    expect(data.shades[0]!.label).to.equal('failover');
    expect(data.charts.map((c) => c.id)).to.include.members(['rate', 'latency', 'staleness', 'db-connections', 'db-replicaLag']);
    const page = await openOffline(join(dir, 'run.html'));
    try {
      await page.page.waitForFunction('!!window.__report');
      const drawn = await page.page.evaluate('window.__report.charts.length') as number;
      expect(page.blocked).to.deep.equal([]);
      expect(page.errors).to.deep.equal([]);
      expect(drawn).to.equal(data.charts.length);
    } finally {
      await page.close();
    }
  });

  it('prints the same summary again with report --run ID --local, failover and replica lag included', async () => {
    const again = await trigger(['report', '--run', 'failover-e2e', '--local'], dir);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.contain('failover drill: started');
    expect(again.stdout).to.contain('replica lag');
    expect(again.stdout).to.equal(run.stdout);
  });
});
