import { expect } from 'chai';
import type { Worker } from '../../../handlers/worker';
import { ExecutionEnvironments } from '../../../trigger/local/environments';
import { context, sqsEvent } from '../../helpers/worker-fixture';

/** A stand-in worker that records which environment ran each invocation and can be held open. */
function fakeEnvironments() {
  const created: number[] = [];
  const ran: number[] = [];
  let release: () => void = () => undefined;
  let gate = Promise.resolve();
  const envs = new ExecutionEnvironments(() => {
    const id = created.length;
    created.push(id);
    return {
      handle: async () => { ran.push(id); await gate; return { batchItemFailures: [] }; },
      init: async (workload) => ({ workload, summary: `env ${id}` }),
      interrupt: () => undefined,
      close: async () => undefined,
    } satisfies Worker;
  });
  return {
    envs, created, ran,
    hold: () => { gate = new Promise((r) => { release = r; }); },
    release: () => release(),
  };
}

describe('local engine: one execution environment per concurrent invocation', () => {
  it('gives concurrent invocations separate environments, as Lambda does', async () => {
    const f = fakeEnvironments();
    f.hold();
    const a = f.envs.handle(sqsEvent(['a']), context);
    const b = f.envs.handle(sqsEvent(['b']), context);
    f.release();
    await Promise.all([a, b]);
    expect(f.created).to.deep.equal([0, 1]);
    expect([...f.ran].sort()).to.deep.equal([0, 1]);
  });

  it('reuses a warm environment for an invocation that comes after the last one ended', async () => {
    const f = fakeEnvironments();
    await f.envs.handle(sqsEvent(['a']), context);
    await f.envs.handle(sqsEvent(['b']), context);
    await f.envs.init('seed');
    expect(f.created).to.deep.equal([0]);
  });
});
