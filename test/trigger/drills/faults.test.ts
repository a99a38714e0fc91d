import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ErrorClass } from '../../../handlers/contract';
import { main } from '../../../trigger/cli';
import { RunStore } from '../../../trigger/report/store';
import type { RunSummary } from '../../../trigger/report/summary';
import { captureIo } from '../helpers/capture-io';

type DrillJson = RunSummary & { thresholds: unknown[] };

const failures = (s: RunSummary, target: 'reader' | 'writer'): Partial<Record<ErrorClass, number>> => {
  const out: Partial<Record<ErrorClass, number>> = {};
  for (const o of s.operations.filter((x) => x.target === target)) {
    for (const [cls, n] of Object.entries(o.errorsByClass) as Array<[ErrorClass, number]>) out[cls] = (out[cls] ?? 0) + n;
  }
  return out;
};
const total = (o: Partial<Record<ErrorClass, number>>): number => Object.values(o).reduce((a, b) => a + b, 0);

// Each drill is a `node trigger drill KIND --local` run through the run pipeline, on its own
// embedded cluster; the fault comes at its moment in the load (the pipeline's schedule), not
// after a test's sleep.
describe('drills: fault drills on the local engine, each reconciled', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'trigger-drills-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function drill(...args: string[]): Promise<{ code: number; summary: DrillJson; stdout: string; stderr: string }> {
    const io = captureIo(dir);
    const code = await main(['drill', ...args, '--local', '--json'], io);
    return { code, summary: JSON.parse(io.stdout.join('\n')) as DrillJson, stdout: io.stdout.join('\n'), stderr: io.stderr.join('\n') };
  }

  it('reader down and back: reads fail with connection errors and are redelivered, writes go on, every message is accounted for', async () => {
    const { code, summary, stderr } = await drill('reader-down', '--run-id', 'drill-reader');
    expect(code, stderr).to.equal(0);
    const r = summary.drill!.reconciliation!;
    expect(r.ok, r.problems.join('; ')).to.equal(true);
    expect(r.messages.lost).to.equal(0);
    const reads = failures(summary, 'reader');
    expect(total(reads), 'the fault hit the reads').to.be.greaterThan(0);
    expect(Object.keys(reads).every((c) => c === '08' || c === '57'), JSON.stringify(reads)).to.equal(true);
    expect(total(failures(summary, 'writer')), 'writes go on while the standby is down').to.equal(0);
    expect(r.messages.duplicates).to.be.greaterThan(0);
    expect(summary.drill!.outage!.reads.failedStatements).to.equal(total(reads));
  });

  it('writer down and back: writes fail, come back, and the table holds every successful write', async () => {
    const { code, summary, stderr } = await drill('writer-down', '--run-id', 'drill-writer');
    expect(code, stderr).to.equal(0);
    const r = summary.drill!.reconciliation!;
    expect(r.ok, r.problems.join('; ')).to.equal(true);
    expect(total(failures(summary, 'writer'))).to.be.greaterThan(0);
    expect(r.rows!.added).to.be.at.least(summary.operations.find((o) => o.target === 'writer')!.ok);
  });

  it('both down and back: reads and writes fail, come back, and the rows match the successful writes', async () => {
    const { code, summary, stderr } = await drill('both-down', '--run-id', 'drill-both');
    expect(code, stderr).to.equal(0);
    const r = summary.drill!.reconciliation!;
    expect(r.ok, r.problems.join('; ')).to.equal(true);
    expect(total(failures(summary, 'reader'))).to.be.greaterThan(0);
    expect(total(failures(summary, 'writer'))).to.be.greaterThan(0);
    const e = summary.drill!.event!;
    expect(e.completedAt - e.startedAt).to.be.at.least(1_500);
  });

  it('redelivery storm: slices outliving the visibility timeout run again while still running, and every extra run is counted', async () => {
    const { code, summary, stderr } = await drill('redelivery-storm', '--run-id', 'drill-storm');
    expect(code, stderr).to.equal(0);
    const r = summary.drill!.reconciliation!;
    expect(r.ok, r.problems.join('; ')).to.equal(true);
    expect(r.messages.sent).to.equal(4);
    expect(r.messages.duplicates, 'each slice was handed out again while it ran').to.be.at.least(4);
    const writes = summary.operations.find((o) => o.target === 'writer')!.ok;
    // Each extra run executed the rest of its slice again: more writes than one run plans, all of them in the table.
    expect(writes).to.be.greaterThan(0.2 * 200 * 2.5);
    expect(r.rows!.added).to.equal(writes);
  });

  // The dead-server drill: the writer's endpoint holds every byte (no socket closes, no error
  // comes back) from 1 s into a 6 s slice until after the load. Only the worker's own timeouts can
  // end its slice: the invocation must still finish before its (short, 17 s) function timeout and
  // publish what it measured. The proxy is closed with the engine whatever happens.
  it('writer silent: the slice ends on time, the silent writes are counted as class 08, and the metrics are published', async () => {
    const { code, summary, stderr } = await drill('writer-silent', '--run-id', 'drill-silent');
    expect(code, stderr).to.equal(0);
    const r = summary.drill!.reconciliation!;
    expect(r.ok, r.problems.join('; ')).to.equal(true);
    expect(r.problems.some((p) => /function timeout/.test(p))).to.equal(false);
    expect(summary.messages).to.include({ sent: 1, ok: 1, failed: 0 });
    expect(failures(summary, 'writer')).to.deep.equal({ '08': total(failures(summary, 'writer')) });
    expect(total(failures(summary, 'writer')), 'the write in flight when the writer fell silent').to.be.greaterThan(0);
    expect(total(failures(summary, 'reader')), 'reads go on').to.equal(0);
    const e = summary.drill!.event!;
    expect(e.firstErrorAt, 'the silent server was found while it was silent').to.be.a('number');
    expect(e.firstErrorAt!).to.be.below(e.completedAt);
  });

  it('prints a saved drill again with report --run ID --local, the books included', async () => {
    const io = captureIo(dir);
    expect(await main(['report', '--run', 'drill-storm', '--local', '--json'], io)).to.equal(0);
    const again = JSON.parse(io.stdout.join('\n')) as DrillJson;
    const saved = (await new RunStore(join(dir, '.runs')).load('drill-storm'))!;
    expect(again.drill!.reconciliation).to.deep.equal(saved.summary.drill!.reconciliation);
    expect(again.drill!.reconciliation!.messages.sent).to.equal(4);
  });

  it('refuses, in one line and before starting anything, what a drill cannot do', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['drill', 'reader-down'], /run on the local engine only; add --local/],
      [['drill', 'redelivery-storm', '--local', '--at', '1s'], /a redelivery storm has no moment/],
      [['drill', 'redelivery-storm', '--local', '--duration', '1s'], /slices longer than the visibility timeout/],
      [['drill', 'writer-down', '--local', '--at', '9s'], /--at 9s must fall within the load/],
      [['drill', 'reader-down', '--local', '-D', 'novalue'], /-D novalue: give name=value/],
      [['drill', 'power-cut', '--local'], /value 'power-cut' is invalid for argument 'fault'\. Allowed choices are reader-down, writer-down, both-down, redelivery-storm, writer-silent/],
    ];
    for (const [args, message] of cases) {
      const io = captureIo(dir);
      expect(await main(args, io), args.join(' ')).to.equal(2);
      expect(io.stderr.join('\n')).to.match(message);
      expect(io.stderr).to.have.length(1);
    }
  });
});
