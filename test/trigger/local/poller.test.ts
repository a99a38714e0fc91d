import { createHash } from 'node:crypto';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { expect } from 'chai';
import { LocalPoller, type SqsHandler } from '../../../trigger/local/poller';
import { LocalQueue } from '../../../trigger/local/queue';
import { FakeClock } from '../helpers/fake-clock';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `handler` over `queue` until the queue drains, then stops the poller. */
async function drain(queue: LocalQueue, handler: SqsHandler, opts: ConstructorParameters<typeof LocalPoller>[2] = {}): Promise<LocalPoller> {
  const poller = new LocalPoller(queue, handler, opts);
  poller.start();
  try {
    await poller.idle(10_000);
  } finally {
    await poller.stop();
  }
  return poller;
}

/** How many times each body was delivered. */
function tally(): { seen: Map<string, number>; see: (event: SQSEvent) => void } {
  const seen = new Map<string, number>();
  return { seen, see: (event) => event.Records.forEach((r) => seen.set(r.body, (seen.get(r.body) ?? 0) + 1)) };
}

describe('LocalPoller', () => {
  it('redelivers only the messages named in batchItemFailures and deletes the rest', async () => {
    const queue = new LocalQueue({ visibilityTimeoutMs: 100 });
    queue.sendBatch(['a', 'b', 'c', 'd', 'e']);
    const { seen, see } = tally();

    const poller = await drain(
      queue,
      async (event): Promise<SQSBatchResponse> => {
        see(event);
        const failed = event.Records.filter((r) => (r.body === 'b' || r.body === 'd') && r.attributes.ApproximateReceiveCount === '1');
        return { batchItemFailures: failed.map((r) => ({ itemIdentifier: r.messageId })) };
      },
      { maxConcurrency: 1 },
    );

    expect(Object.fromEntries(seen)).to.deep.equal({ a: 1, b: 2, c: 1, d: 2, e: 1 });
    expect(poller.stats.itemFailures).to.equal(2);
    expect(queue.stats.deleted).to.equal(5);
  });

  it('fails the whole batch when the handler throws, and reports the error', async () => {
    const queue = new LocalQueue({ visibilityTimeoutMs: 100 });
    queue.sendBatch(['a', 'b', 'c']);
    const { seen, see } = tally();
    const errors: unknown[] = [];
    let calls = 0;

    const poller = await drain(
      queue,
      async (event) => {
        see(event);
        if (++calls === 1) throw new Error('boom');
      },
      { maxConcurrency: 1, onError: (err) => errors.push(err) },
    );

    expect(Object.fromEntries(seen)).to.deep.equal({ a: 2, b: 2, c: 2 });
    expect(poller.stats.handlerErrors).to.equal(1);
    expect(errors.map((e) => (e as Error).message)).to.deep.equal(['boom']);
  });

  it('fails the whole batch when batchItemFailures names a message that is not in the batch', async () => {
    const queue = new LocalQueue({ visibilityTimeoutMs: 100 });
    queue.sendBatch(['a', 'b']);
    const { seen, see } = tally();
    const errors: unknown[] = [];
    let calls = 0;

    await drain(
      queue,
      async (event) => {
        see(event);
        return ++calls === 1 ? { batchItemFailures: [{ itemIdentifier: 'not-a-message-id' }] } : { batchItemFailures: [] };
      },
      { maxConcurrency: 1, onError: (err) => errors.push(err) },
    );

    expect(Object.fromEntries(seen)).to.deep.equal({ a: 2, b: 2 });
    expect((errors[0] as Error).name).to.equal('InvalidBatchResponseError');
  });

  it('treats no response, null batchItemFailures and an empty list as complete success', async () => {
    const queue = new LocalQueue({ visibilityTimeoutMs: 60_000 });
    queue.sendBatch(['a', 'b', 'c']);
    const responses = [undefined, { batchItemFailures: null }, { batchItemFailures: [] }];
    let calls = 0;

    const poller = await drain(queue, async () => responses[calls++] as SQSBatchResponse | undefined, { batchSize: 1, maxConcurrency: 1 });

    expect(poller.stats).to.include({ invocations: 3, handlerErrors: 0, itemFailures: 0 });
    expect(queue.stats.deleted).to.equal(3);
  });

  it('moves a message that always fails to the dead-letter queue after maxReceiveCount deliveries', async () => {
    const queue = new LocalQueue({ visibilityTimeoutMs: 50, maxReceiveCount: 3 });
    queue.sendBatch(['good', 'poison']);
    const { seen, see } = tally();

    await drain(
      queue,
      async (event) => {
        see(event);
        return { batchItemFailures: event.Records.filter((r) => r.body === 'poison').map((r) => ({ itemIdentifier: r.messageId })) };
      },
      { maxConcurrency: 1 },
    );

    expect(Object.fromEntries(seen)).to.deep.equal({ good: 1, poison: 3 });
    expect(queue.deadLetterQueue?.receive(10).map((m) => m.body)).to.deep.equal(['poison']);
  });

  it('never has more than maxConcurrency invocations in flight, and reaches it under load', async () => {
    const queue = new LocalQueue();
    for (let i = 0; i < 200; i += 10) queue.sendBatch(Array.from({ length: 10 }, (_, j) => `m${i + j}`));
    let inFlight = 0;
    let peak = 0;

    const poller = await drain(
      queue,
      async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await sleep(1 + Math.random() * 5);
        inFlight--;
      },
      { batchSize: 3, maxConcurrency: 4 },
    );

    expect(peak).to.equal(4);
    expect(poller.stats.maxInFlight).to.equal(4);
    expect(queue.stats.deleted).to.equal(200);
  });

  it('builds SQSEvent records exactly as @types/aws-lambda defines SQSRecord, and a Lambda Context', async () => {
    const queue = new LocalQueue({ name: 'work' });
    const id = queue.send('{"v":1}');
    let event: SQSEvent | undefined;
    let context: Context | undefined;
    let remaining = 0;

    await drain(
      queue,
      async (e, c) => {
        event = e;
        context = c;
        remaining = c.getRemainingTimeInMillis();
      },
      { region: 'eu-west-1', functionTimeoutMs: 60_000 },
    );

    const record = event!.Records[0]!;
    expect(Object.keys(record)).to.deep.equal(['messageId', 'receiptHandle', 'body', 'attributes', 'messageAttributes', 'md5OfBody', 'eventSource', 'eventSourceARN', 'awsRegion']);
    expect(record).to.deep.include({
      messageId: id,
      body: '{"v":1}',
      messageAttributes: {},
      md5OfBody: createHash('md5').update('{"v":1}').digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:000000000000:work',
      awsRegion: 'eu-west-1',
    });
    expect(record.receiptHandle).to.be.a('string').and.not.equal('');
    expect(Object.keys(record.attributes)).to.deep.equal(['ApproximateReceiveCount', 'SentTimestamp', 'SenderId', 'ApproximateFirstReceiveTimestamp']);
    expect(Object.values(record.attributes).every((v) => typeof v === 'string')).to.equal(true);
    expect(record.attributes.ApproximateReceiveCount).to.equal('1');
    expect(context!.awsRequestId).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(context!.invokedFunctionArn).to.equal('arn:aws:lambda:eu-west-1:000000000000:function:local-worker');
    expect(remaining).to.be.within(59_000, 60_000);
  });

  it('gathers a batch across several receives within the batching window', async () => {
    const queue = new LocalQueue();
    const sizes: number[] = [];
    const poller = new LocalPoller(
      queue,
      async (e) => {
        sizes.push(e.Records.length);
      },
      { batchSize: 25, maxBatchingWindowMs: 300, maxConcurrency: 1 },
    );
    poller.start();
    queue.sendBatch(['a', 'b', 'c']);
    await sleep(50);
    for (let i = 0; i < 22; i++) queue.send(`m${i}`);
    await poller.idle(5_000);
    await poller.stop();

    expect(sizes).to.deep.equal([25]);
  });

  it('waits for the invocations in flight when stopped, and leaves unreceived messages queued', async () => {
    const queue = new LocalQueue();
    queue.sendBatch(['a', 'b']);
    let finished = 0;
    const poller = new LocalPoller(
      queue,
      async () => {
        await sleep(100);
        finished++;
      },
      { batchSize: 1, maxConcurrency: 1 },
    );
    poller.start();
    await sleep(20);
    await poller.stop();

    expect(finished).to.equal(1);
    expect(queue.depth).to.deep.equal({ visible: 1, inFlight: 0 });
  });

  it('scales up as the SQS event source does: a few invocations at first, more each minute while messages wait', async () => {
    const clock = new FakeClock(0);
    const queue = new LocalQueue({ now: () => clock.now(), visibilityTimeoutMs: 3_600_000 });
    queue.sendBatch(Array.from({ length: 10 }, (_, i) => `m${i}`));
    const startedAt: number[] = [];
    const poller = new LocalPoller(queue, async () => {
      startedAt.push(clock.now());
      await clock.sleep(600_000);
    }, { batchSize: 1, maxConcurrency: 8, scaleUp: { startConcurrency: 2, perMinute: 60 }, clock });
    poller.start();
    await poller.idle();
    await poller.stop();
    // 2 at once, then one more each second while messages wait, up to 8; the last two wait for a free one.
    expect(startedAt.slice(0, 8).map((t) => Math.round(t / 1000))).to.deep.equal([0, 0, 1, 2, 3, 4, 5, 6]);
    expect(startedAt[8]).to.be.at.least(600_000);
    expect(poller.stats.maxInFlight).to.equal(8);
  });

  it('times out an invocation at the function timeout, as Lambda does: its batch fails and comes back', async () => {
    const clock = new FakeClock(0);
    const queue = new LocalQueue({ now: () => clock.now(), visibilityTimeoutMs: 5_000, maxReceiveCount: 2 });
    queue.send('stuck');
    const errors: unknown[] = [];
    const poller = new LocalPoller(queue, () => new Promise(() => undefined), {
      batchSize: 1, maxConcurrency: 2, functionTimeoutMs: 1_000, clock, onError: (e) => errors.push(e),
    });
    poller.start();
    await poller.idle();
    await poller.stop();
    expect(poller.stats.timeouts).to.equal(2);
    expect((errors[0] as Error).name).to.equal('FunctionTimeoutError');
    expect(queue.deadLetterQueue?.receive(10).map((m) => m.body)).to.deep.equal(['stuck']);
  });
});
