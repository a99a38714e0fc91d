import { expect } from 'chai';
import { runFaultDrill, type FaultDrillResult } from '../../../trigger/drills/faults';
import { DrillError } from '../../../trigger/drills/load';
import { formatReconciliation } from '../../../trigger/drills/reconcile';
import { LocalEngine } from '../../../trigger/local/engine';

/** Every drill must end with the books balanced; the message says why when they do not. */
function expectReconciled(r: FaultDrillResult): void {
  expect(r.reconciliation.ok, formatReconciliation(r.reconciliation).join('\n')).to.equal(true);
  expect(r.reconciliation.messages.lost).to.equal(0);
}

const failures = (c: { errorsByClass: Readonly<Record<string, number>> }): number => Object.values(c.errorsByClass).reduce((a, b) => a + b, 0);

// The writer restarting mid-run is also reconciled in test/trigger/local/engine.test.ts; here the
// drills library runs the other faults end to end on one engine.
describe('drills: fault drills on the local engine, each reconciled', function () {
  this.timeout(120_000);
  let engine: LocalEngine;

  before(async () => {
    // A short visibility timeout, so failed messages come back within the drill; enough
    // concurrency that redelivered slices are picked up while the first copy still runs.
    engine = await LocalEngine.start({ visibilityTimeoutMs: 1000, maxReceiveCount: 5, maxConcurrency: 12 });
    await engine.init('seed');
  });
  after(async () => {
    await engine?.stop();
  });

  it('reader down and back: reads fail with connection errors, are redelivered, and every message is accounted for', async () => {
    const r = await runFaultDrill({ engine, fault: 'reader-down', rate: 100, durationMs: 4_000, faultAtMs: 1_000, downMs: 1_500 });
    expectReconciled(r);
    expect(failures(r.statements.reads), 'the fault hit the reads').to.be.greaterThan(0);
    expect(Object.keys(r.statements.reads.errorsByClass)).to.satisfy((cs: string[]) => cs.every((c) => c === '08' || c === '57'));
    expect(failures(r.statements.writes), 'writes go on while the standby is down').to.equal(0);
    expect(r.reconciliation.messages.duplicates).to.be.greaterThan(0);
  });

  it('both down and back: reads and writes fail, come back, and the rows match the successful writes', async () => {
    const r = await runFaultDrill({ engine, fault: 'both-down', rate: 100, durationMs: 4_000, faultAtMs: 1_000, downMs: 1_500 });
    expectReconciled(r);
    expect(failures(r.statements.reads)).to.be.greaterThan(0);
    expect(failures(r.statements.writes)).to.be.greaterThan(0);
    expect(r.reconciliation.rows!.added).to.be.at.least(r.statements.writes.ok);
    expect(r.timings.restoredAt! - r.timings.faultAt!).to.be.at.least(1_500);
  });

  it('redelivery storm: slices outliving the visibility timeout run again while still running, and every extra run is counted', async () => {
    const r = await runFaultDrill({ engine, fault: 'redelivery-storm', rate: 200, slices: 4, sliceMs: 2_500 });
    expectReconciled(r);
    const m = r.reconciliation.messages;
    expect(m.sent).to.equal(4);
    expect(m.duplicates, 'each slice was handed out again while it ran').to.be.at.least(4);
    // Each extra run executed the rest of its slice again: more writes than one run plans, all of them in the table.
    expect(r.statements.writes.ok).to.be.greaterThan(0.2 * 200 * 2.5);
    expect(r.reconciliation.rows!.added).to.equal(r.statements.writes.ok);
  });

  it('refuses a storm whose slices would not outlive the visibility timeout', async () => {
    const err = await runFaultDrill({ engine, fault: 'redelivery-storm', sliceMs: 800 }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(DrillError).with.property('message').that.matches(/slices longer than the visibility timeout \(1000 ms\)/);
  });
});
