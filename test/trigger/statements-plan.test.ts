import { expect } from 'chai';
import { parseMessage, type StatementsMessage } from '../../handlers/protocol/message';
import { planStatements } from '../../trigger/plan/statements-plan';

describe('trigger: statements planning', () => {
  const spec = {
    runId: 'st-1', workload: 'tpcb' as const, mix: [{ op: 'select-only', weight: 3 }, { op: 'tpcb', weight: 1 }],
    rate: 400, durationMs: 10_000, rampMs: 0, hosts: { writer: 'w.example.com' },
  };

  it('writes messages of --count statements, each on its op\'s own endpoint', () => {
    const plan = planStatements(spec, 20);
    expect(plan.total).to.equal(200);
    expect(plan.statements).to.equal(4000);
    const now = 1_700_000_000_000;
    const msgs = Array.from({ length: plan.total }, (_, i) => parseMessage(plan.body(i, now, now), now) as StatementsMessage);
    expect(msgs.every((m) => m.count === 20)).to.equal(true);
    expect(msgs.filter((m) => m.op === 'select-only').every((m) => m.target === 'reader')).to.equal(true);
    expect(msgs.filter((m) => m.op === 'tpcb').every((m) => m.target === 'writer')).to.equal(true);
    expect(msgs[0]!.hosts).to.deep.equal({ writer: 'w.example.com' });
    expect(msgs.map((m) => m.seq)).to.deep.equal([...Array(200).keys()]);
  });

  it('interleaves ops by the mix weights exactly over the run', () => {
    const plan = planStatements(spec, 1);
    const ops = Array.from({ length: plan.total }, (_, i) => (JSON.parse(plan.body(i, 0, 0)) as StatementsMessage).op);
    expect(ops.filter((o) => o === 'select-only')).to.have.length(3000);
    expect(ops.slice(0, 4).sort()).to.deep.equal(['select-only', 'select-only', 'select-only', 'tpcb']);
  });
});
