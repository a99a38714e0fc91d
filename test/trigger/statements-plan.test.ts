import { expect } from 'chai';
import { parseMessage, type StatementsMessage } from '../../handlers/protocol/message';
import { projectCatalog } from '../../handlers/workloads/project';
import { hashesOf } from '../../trigger/options/mix';
import { planStatements } from '../../trigger/plan/statements-plan';

describe('trigger: statements planning', () => {
  const mix = [{ op: 'select-only', weight: 3 }, { op: 'tpcb', weight: 1 }];
  const spec = {
    runId: 'st-1', workload: 'tpcb', mix, hashes: hashesOf('tpcb', mix),
    rate: 400, durationMs: 10_000, rampMs: 0, hosts: { writer: 'w.example.com' }, randomSeed: '42',
  };

  it('writes messages of --count statements, each naming its script by content hash and left on the script\'s own endpoint', () => {
    const plan = planStatements(spec, 20);
    expect(plan.total).to.equal(200);
    expect(plan.statements).to.equal(4000);
    const now = 1_700_000_000_000;
    const msgs = Array.from({ length: plan.total }, (_, i) => parseMessage(plan.body(i, now, now), now) as StatementsMessage);
    expect(msgs.every((m) => m.count === 20)).to.equal(true);
    const scripts = projectCatalog().get('tpcb')!.scripts;
    expect(msgs.every((m) => m.hash === scripts.get(m.op)!.hash && m.target === undefined)).to.equal(true);
    expect(msgs.every((m) => m.randomSeed === '42' && m.clientId === m.seq)).to.equal(true);
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
