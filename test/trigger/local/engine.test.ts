import { expect } from 'chai';
import { EVENT_SOURCE_DEFAULTS } from '../../../handlers/event-source';
import { LocalEngine } from '../../../trigger/local/engine';
import { body } from '../../helpers/worker-fixture';

// Faults under load (a server down, a failover) are drills, run through the run pipeline:
// test/trigger/drills/faults.test.ts and test/trigger/failover-cli.test.ts.
describe('local engine: the whole system on one machine', function () {
  this.timeout(180_000);

  /** What the workers reported for `runId`'s messages, over every invocation. */
  function outcomesOf(engine: LocalEngine, runId: string): { invalid: number; deadLettered: number } {
    const facts = engine.sink.invocations.flatMap((i) => i.messages).filter((m) => m.runId === runId);
    return { invalid: facts.reduce((a, m) => a + m.invalid, 0), deadLettered: facts.reduce((a, m) => a + m.deadLettered, 0) };
  }

  it('moves a bad message to the DLQ within seconds, though the visibility timeout is long, and the worker counts it dead-lettered on the given maxReceiveCount', async () => {
    const slow = await LocalEngine.start({ visibilityTimeoutMs: 600_000, maxReceiveCount: 3 });
    try {
      slow.queue.send(body({ kind: 'statements', op: 'no-such-op', count: 1 }, 'bad-run'));
      // With the queue's 10-minute timeout alone this would take 20 minutes.
      await slow.idle(30_000);
      expect(slow.dlq.depth.visible).to.equal(1);
      expect(outcomesOf(slow, 'bad-run')).to.deep.equal({ invalid: 3, deadLettered: 1 });
    } finally {
      await slow.stop();
    }
  });

  it('delivers a message as often as the stack does by default before the DLQ, and the worker counts the last receive as dead-lettered', async () => {
    const engine = await LocalEngine.start();
    try {
      engine.queue.send(body({ kind: 'statements', op: 'no-such-op', count: 1 }, 'bad-run'));
      await engine.idle(30_000);
      expect(engine.dlq.depth.visible).to.equal(1);
      expect(outcomesOf(engine, 'bad-run')).to.deep.equal({ invalid: EVENT_SOURCE_DEFAULTS.maxReceiveCount, deadLettered: 1 });
    } finally {
      await engine.stop();
    }
  });
});
