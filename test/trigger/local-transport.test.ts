import { expect } from 'chai';
import { LocalQueue } from '../../trigger/local/queue';
import { LocalTransport } from '../../trigger/send/local-transport';

describe('trigger: local transport', () => {
  it('hands bodies to the local queue in SendMessageBatch-sized batches, every one once', async () => {
    const queue = new LocalQueue({ name: 't' });
    const t = new LocalTransport(queue);
    await t.send(Array.from({ length: 23 }, (_, i) => `m${i}`));
    expect(t.stats).to.include({ accepted: 23, calls: 3, lost: 0 });
    expect(queue.depth).to.deep.equal({ visible: 23, inFlight: 0 });
  });

  it('reports depth and purges through the same interface as SQS', async () => {
    const queue = new LocalQueue({ name: 't2' });
    const t = new LocalTransport(queue);
    await t.send(['a', 'b']);
    expect(await t.depth()).to.deep.equal({ visible: 2, inFlight: 0 });
    await t.purge();
    expect(await t.depth()).to.deep.equal({ visible: 0, inFlight: 0 });
  });
});
