import { expect } from 'chai';
import { mockClient } from 'aws-sdk-client-mock';
import { SendMessageBatchCommand, SQSClient, RequestThrottled, QueueDoesNotExist, type SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import { CliError } from '../../trigger/errors';
import { splitIntoBatches, SQS_MAX_BATCH_BYTES } from '../../trigger/send/batches';
import { SqsTransport } from '../../trigger/send/sqs-transport';
import { FakeClock } from './helpers/fake-clock';

const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/LoadTest-Queue';
const bodies = (n: number, size = 20): string[] => Array.from({ length: n }, (_, i) => `${i}`.padEnd(size, 'x'));

function okFor(input: SendMessageBatchCommandInput) {
  return { Successful: input.Entries!.map((e) => ({ Id: e.Id!, MessageId: `mid-${e.Id}`, MD5OfMessageBody: '' })), Failed: [] };
}

describe('trigger: SQS transport', () => {
  const sqsMock = mockClient(SQSClient);
  const client = new SQSClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  beforeEach(() => sqsMock.reset());
  after(() => sqsMock.restore());

  it('sends batches of at most 10 entries, every body exactly once', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake(okFor);
    const t = new SqsTransport({ client, queueUrl: QUEUE, concurrency: 4, clock: new FakeClock() });
    const sent = bodies(47);
    await t.send(sent);
    const calls = sqsMock.commandCalls(SendMessageBatchCommand);
    expect(calls.map((c) => c.args[0].input.Entries!.length)).to.deep.equal([10, 10, 10, 10, 7]);
    expect(calls.flatMap((c) => c.args[0].input.Entries!.map((e) => e.MessageBody))).to.deep.equal(sent);
    expect(calls.every((c) => c.args[0].input.QueueUrl === QUEUE)).to.equal(true);
    expect(t.stats).to.include({ accepted: 47, calls: 5, retries: 0, lost: 0 });
  });

  it('keeps each batch within the SQS payload limit, however large the bodies', () => {
    const big = bodies(10, 100 * 1024);
    const batches = splitIntoBatches(big);
    expect(batches.map((b) => b.length)).to.deep.equal([2, 2, 2, 2, 2]);
    for (const b of batches) expect(b.reduce((s, x) => s + Buffer.byteLength(x), 0)).to.be.at.most(SQS_MAX_BATCH_BYTES);
  });

  it('counts UTF-8 bytes, not characters, against the payload limit', () => {
    const batches = splitIntoBatches(['é'.repeat(40), 'é'.repeat(40)], 10, 120);
    expect(batches).to.have.length(2);
  });

  it('resends only the entries a batch reports as failed', async () => {
    let call = 0;
    sqsMock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
      call++;
      if (call > 1) return okFor(input);
      const [a, b, ...rest] = input.Entries!;
      return {
        Successful: rest.map((e) => ({ Id: e.Id!, MessageId: 'x', MD5OfMessageBody: '' })),
        Failed: [a!, b!].map((e) => ({ Id: e.Id!, SenderFault: false, Code: 'InternalError' })),
      };
    });
    const t = new SqsTransport({ client, queueUrl: QUEUE, concurrency: 1, clock: new FakeClock(), random: () => 0.5 });
    const sent = bodies(10);
    await t.send(sent);
    const calls = sqsMock.commandCalls(SendMessageBatchCommand);
    expect(calls).to.have.length(2);
    expect(calls[1]!.args[0].input.Entries!.map((e) => e.MessageBody)).to.deep.equal(sent.slice(0, 2));
    expect(t.stats).to.include({ accepted: 10, failedEntries: 2, retries: 1, lost: 0 });
  });

  it('does not resend entries refused as the sender\'s fault, and counts them lost', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
      Successful: input.Entries!.slice(1).map((e) => ({ Id: e.Id!, MessageId: 'x', MD5OfMessageBody: '' })),
      Failed: [{ Id: input.Entries![0]!.Id!, SenderFault: true, Code: 'InvalidMessageContents' }],
    }));
    const t = new SqsTransport({ client, queueUrl: QUEUE, concurrency: 1, clock: new FakeClock() });
    await t.send(bodies(3));
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).to.have.length(1);
    expect(t.stats).to.include({ accepted: 2, lost: 1, retries: 0 });
  });

  it('backs off exponentially with jitter when throttled, then succeeds, and counts the throttles', async () => {
    const throttled = () => new RequestThrottled({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
    sqsMock.on(SendMessageBatchCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).rejectsOnce(throttled()).callsFake(okFor);
    const clock = new FakeClock();
    const t = new SqsTransport({ client, queueUrl: QUEUE, concurrency: 1, clock, random: () => 0, backoff: { baseMs: 100, capMs: 5_000, maxAttempts: 8 } });
    await t.send(bodies(5));
    expect(clock.sleeps).to.deep.equal([50, 100, 200]);
    expect(t.stats).to.include({ throttled: 3, retries: 3, accepted: 5, calls: 4, lost: 0 });
  });

  it('counts what it resends after a call whose outcome it cannot know (a timeout) as possible duplicates', async () => {
    const timedOut = Object.assign(new Error('socket timed out'), { name: 'TimeoutError', $metadata: {} });
    sqsMock.on(SendMessageBatchCommand).rejectsOnce(timedOut).callsFake(okFor);
    const t = new SqsTransport({ client, queueUrl: QUEUE, concurrency: 1, clock: new FakeClock(), random: () => 0 });
    await t.send(bodies(7));
    expect(t.stats).to.include({ accepted: 7, retries: 1, possibleDuplicates: 7, lost: 0 });
  });

  it('counts no possible duplicates when SQS said what it refused: throttling, failed entries, no connection at all', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', $metadata: {} });
    let call = 0;
    sqsMock.on(SendMessageBatchCommand)
      .rejectsOnce(new RequestThrottled({ message: 'slow down', $metadata: {} }))
      .rejectsOnce(refused)
      .callsFake((input: SendMessageBatchCommandInput) => {
        if (++call > 1) return okFor(input);
        return { Successful: [], Failed: input.Entries!.map((e) => ({ Id: e.Id!, SenderFault: false, Code: 'InternalError' })) };
      });
    const t = new SqsTransport({ client, queueUrl: QUEUE, concurrency: 1, clock: new FakeClock(), random: () => 0 });
    await t.send(bodies(4));
    expect(t.stats).to.include({ accepted: 4, retries: 3, possibleDuplicates: 0 });
  });

  it('gives up after the last attempt and counts the messages lost instead of hanging', async () => {
    sqsMock.on(SendMessageBatchCommand).rejects(new RequestThrottled({ message: 'slow down', $metadata: {} }));
    const t = new SqsTransport({ client, queueUrl: QUEUE, concurrency: 1, clock: new FakeClock(), backoff: { baseMs: 10, capMs: 100, maxAttempts: 4 } });
    await t.send(bodies(3));
    expect(t.stats).to.include({ calls: 4, throttled: 4, lost: 3, accepted: 0 });
  });

  it('never has more SendMessageBatch calls in flight than --concurrency, and reaches it', async () => {
    let inFlight = 0;
    let peak = 0;
    sqsMock.on(SendMessageBatchCommand).callsFake(async (input: SendMessageBatchCommandInput) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight--;
      return okFor(input);
    });
    const t = new SqsTransport({ client, queueUrl: QUEUE, concurrency: 3, clock: new FakeClock() });
    await Promise.all([t.send(bodies(100)), t.send(bodies(55)), t.send(bodies(7))]);
    expect(peak).to.equal(3);
    expect(t.stats.accepted).to.equal(162);
  });

  it('stops with one line when the queue does not exist, without retrying', async () => {
    sqsMock.on(SendMessageBatchCommand).rejects(new QueueDoesNotExist({ message: 'The specified queue does not exist.', $metadata: { httpStatusCode: 400 } }));
    const t = new SqsTransport({ client, queueUrl: QUEUE, concurrency: 2, clock: new FakeClock() });
    let err: unknown;
    await t.send(bodies(25)).catch((e: unknown) => { err = e; });
    expect(err).to.be.instanceOf(CliError);
    expect((err as CliError).exitCode).to.equal(2);
    expect((err as Error).message).to.match(/^cannot send to .*QueueDoesNotExist.*check --queue-url/);
    expect(sqsMock.commandCalls(SendMessageBatchCommand).length).to.be.at.most(2);
  });
});
