import { expect } from 'chai';
import { formatReconciliation, reconcile, type ReconcileInput } from '../../../trigger/drills/reconcile';

const balanced: ReconcileInput = {
  sent: 100, succeeded: 97, deadLettered: 3, stillQueued: 0, redelivered: 12,
  deadLetterSeqs: [4, 17, 99],
  writes: { ok: 40, errorsByClass: { '08': 3, 57: 1, 25: 2 } },
  rows: { before: 10, after: 52 },
};

describe('drills: reconciliation', () => {
  it('balances when every message is done or dead-lettered and the rows lie between the sure and the possible writes', () => {
    const r = reconcile(balanced);
    expect(r.ok, r.problems.join('; ')).to.equal(true);
    expect(r.messages).to.deep.equal({ sent: 100, succeeded: 97, deadLettered: 3, stillQueued: 0, lost: 0, duplicates: 12 });
    // 08 and 57 mean the connection broke: those writes may have committed. 25 means they did not run.
    expect(r.rows).to.deep.equal({ added: 42, min: 40, max: 44 });
  });

  it('finds lost messages, and messages counted twice', () => {
    expect(reconcile({ ...balanced, succeeded: 95 }).problems).to.deep.include('2 message(s) lost: sent 100 != succeeded 95 + dead-lettered 3 + still queued 0');
    expect(reconcile({ ...balanced, succeeded: 98, deadLetterSeqs: [4, 17, 99] }).problems.join()).to.match(/1 message\(s\) counted twice/);
  });

  it('flags a queue that had not drained', () => {
    const r = reconcile({ ...balanced, succeeded: 95, stillQueued: 2 });
    expect(r.ok).to.equal(false);
    expect(r.messages.lost).to.equal(0);
    expect(r.problems.join()).to.match(/2 message\(s\) still queued/);
  });

  it('checks the dead-letter queue against what was moved there: count, duplicates, unknown messages', () => {
    expect(reconcile({ ...balanced, deadLetterSeqs: [4, 17] }).problems.join()).to.match(/holds 2 message\(s\) of the run, but 3 were moved there/);
    expect(reconcile({ ...balanced, deadLetterSeqs: [4, 4, 17] }).problems.join()).to.match(/in the dead-letter queue twice/);
    expect(reconcile({ ...balanced, deadLetterSeqs: [4, 17, 100] }).problems.join()).to.match(/seq 100 that the drill never sent/);
  });

  it('finds successful writes missing from the table, and rows no write explains', () => {
    expect(reconcile({ ...balanced, rows: { before: 10, after: 49 } }).problems.join()).to.match(/1 successful write\(s\) missing/);
    expect(reconcile({ ...balanced, rows: { before: 10, after: 55 } }).problems.join()).to.match(/1 row\(s\) more than the writes can explain/);
  });

  it("checks TPC-B's consistency condition", () => {
    expect(reconcile({ ...balanced, balances: { accounts: 5, tellers: 5, branches: 5, history: 5 } }).ok).to.equal(true);
    expect(reconcile({ ...balanced, balances: { accounts: 5, tellers: 6, branches: 5, history: 5 } }).problems.join()).to.match(/TPC-B consistency broken/);
  });

  it('formats the books as lines', () => {
    const text = formatReconciliation(reconcile(balanced)).join('\n');
    expect(text).to.match(/sent 100 = succeeded 97 \+ dead-lettered 3; 12 duplicate run\(s\)/);
    expect(text).to.match(/rows: 42 added; successful writes 40, at most 44/);
    expect(text).to.match(/reconciled: nothing lost/);
  });
});
