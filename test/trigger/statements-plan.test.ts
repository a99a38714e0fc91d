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
  it('plans the run\'s statements, its average and its statements due by each moment, and says so in one line', () => {
    const plan = planStatements(spec, 20);
    expect(plan).to.include({ mode: 'statements', statements: 4000, averageRate: 400, peakRate: 400 });
    expect(plan.plannedBy(0)).to.equal(0);
    expect(plan.plannedBy(5_000)).to.equal(2000);
    expect(plan.plannedBy(60_000), 'never more than the run').to.equal(4000);
    expect(plan.description).to.equal('statements mode: 200 messages of 20 statements (select-only=75%,tpcb=25%), 20 messages/s');
  });

  it('writes the same ops when messages are asked for again from the start (a resend)', () => {
    const plan = planStatements(spec, 1);
    const opsOf = (): string[] => Array.from({ length: 12 }, (_, i) => (JSON.parse(plan.body(i, 0, 0)) as StatementsMessage).op);
    const first = opsOf();
    expect(opsOf()).to.deep.equal(first);
    expect((JSON.parse(plan.body(5, 0, 0)) as StatementsMessage).op).to.equal(first[5]);
    expect((JSON.parse(plan.body(4, 0, 0)) as StatementsMessage).op).to.equal(first[4]);
  });
});
