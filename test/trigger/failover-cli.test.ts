import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunSummary } from '../../trigger/report/summary';

const ROOT = join(__dirname, '..', '..');

describe('trigger: --failover-at on the local engine (real PostgreSQL)', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'trigger-failover-'));
  let code: number | null;
  let stderr = '';
  let summary: RunSummary;

  before(async () => {
    let stdout = '';
    code = await new Promise((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'trigger'), '--local', '--rate', '150', '--duration', '8s', '--failover-at', '3s', '--json', '--no-save'], { cwd: dir });
      child.stdout.on('data', (d) => { stdout += d; });
      child.stderr.on('data', (d) => { stderr += d; });
      child.on('close', resolve);
    });
    summary = JSON.parse(stdout) as RunSummary;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('fails the writer over during the load and reports what the clients saw', () => {
    expect(code, stderr).to.equal(0);
    const f = summary.failover!;
    expect(f, 'failover report').to.not.equal(undefined);
    expect(f.completedAt).to.be.at.least(f.startedAt);
    expect(f.from).to.not.equal(f.to);
    const a = f.analysis!;
    // Writes after the failover are answered by the promoted server: the run carried on.
    expect(summary.operations.find((o) => o.target === 'writer')!.ok).to.be.greaterThan(0);
    for (const t of [a.writes, a.reads]) {
      if (t.firstFailureAt === null) continue;
      expect(t.downtimeMs, 'downtime of a target that failed').to.be.a('number').and.to.be.at.least(0);
      expect(Object.keys(t.errorsByClass).every((c) => /^[0-9A-Z]{2}$|^client$/.test(c))).to.equal(true);
    }
    expect(a.timeline.length).to.be.greaterThan(5);
  });

  it('moves the reads to the promoted server once the standby is gone', () => {
    const reads = summary.operations.find((o) => o.target === 'reader')!;
    expect(reads.answeredBy.standby).to.be.greaterThan(0);
    expect(reads.answeredBy.primary).to.be.greaterThan(0);
  });
});
