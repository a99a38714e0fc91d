import { expect } from 'chai';
import { LocalEngine } from '../../../trigger/local/engine';
import { body } from '../../helpers/worker-fixture';

// Faults under load (a server down, a failover) are drills, run through the run pipeline:
// test/trigger/drills/faults.test.ts and test/trigger/failover-cli.test.ts.
describe('local engine: the whole system on one machine', function () {
  this.timeout(180_000);

  it('moves a bad message to the DLQ within seconds, though the visibility timeout is long', async () => {
    const slow = await LocalEngine.start({ visibilityTimeoutMs: 600_000, maxReceiveCount: 3 });
    try {
      slow.queue.send(body({ kind: 'statements', op: 'no-such-op', count: 1 }, 'bad-run'));
      // With the queue's 10-minute timeout alone this would take 20 minutes.
      await slow.idle(30_000);
      expect(slow.dlq.depth.visible).to.equal(1);
    } finally {
      await slow.stop();
    }
  });
});
