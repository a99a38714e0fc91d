import { expect } from 'chai';
import { mockClient } from 'aws-sdk-client-mock';
import { ChangeMessageVisibilityBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { EVENT_SOURCE_DEFAULTS } from '../../handlers/event-source';
import { MAX_RETRY_DELAY_S, SqsRedelivery, queueUrlOf, retryDelaySeconds } from '../../handlers/redelivery';
import { sqsEvent } from '../helpers/worker-fixture';

const quiet = { warn: () => undefined };

describe('redelivery of failed messages', () => {
  const onReceive = (n: number) => {
    const [record] = sqsEvent(['x']).Records;
    return { ...record!, attributes: { ...record!.attributes, ApproximateReceiveCount: String(n) } };
  };
  const max = EVENT_SOURCE_DEFAULTS.maxReceiveCount;

  it('brings bad input back at once, so it reaches the DLQ after maxReceiveCount receives in seconds', () => {
    expect(retryDelaySeconds(onReceive(1), true, max)).to.equal(0);
  });

  it('backs off failures that may heal: 5, 15, 30, 60, 120 s by receive count, so a message outlasts a 30 s failover before the DLQ', () => {
    const delays = [1, 2, 3, 4, 5].map((n) => retryDelaySeconds(onReceive(n), false, max));
    expect(delays).to.deep.equal([5, 15, 30, 60, 120]);
    expect(delays.reduce((a, b) => a + b, 0)).to.be.greaterThan(30 * 2);
  });

  it('brings a message that failed on its last receive back at once: it goes to the dead-letter queue, not to a retry', () => {
    expect(retryDelaySeconds(onReceive(max), false, max)).to.equal(0);
  });

  it('waits 5 minutes after any receive beyond the listed delays, when a queue allows more receives', () => {
    expect(retryDelaySeconds(onReceive(20), false, 30)).to.equal(MAX_RETRY_DELAY_S);
  });

  it('derives the queue URL from the event source ARN', () => {
    expect(queueUrlOf('arn:aws:sqs:eu-west-1:123456789012:LoadTest-Load-Queue')).to.equal('https://sqs.eu-west-1.amazonaws.com/123456789012/LoadTest-Load-Queue');
  });

  it('sets the visibility of failed messages with one ChangeMessageVisibilityBatch call per 10', async () => {
    const sqs = mockClient(SQSClient);
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
    const records = sqsEvent(Array.from({ length: 12 }, (_, i) => `m${i}`)).Records;
    await new SqsRedelivery(quiet, new SQSClient({ region: 'us-east-1' })).retry(records.map((record) => ({ record, delaySeconds: 4 })));
    const calls = sqs.commandCalls(ChangeMessageVisibilityBatchCommand);
    expect(calls.map((c) => c.args[0].input.Entries!.length)).to.deep.equal([10, 2]);
    expect(calls[0]!.args[0].input.Entries![0]).to.include({ ReceiptHandle: records[0]!.receiptHandle, VisibilityTimeout: 4 });
    sqs.restore();
  });

  it('does not fail the batch when SQS refuses the change (the queue timeout still applies)', async () => {
    const sqs = mockClient(SQSClient);
    sqs.on(ChangeMessageVisibilityBatchCommand).rejects(new Error('AccessDenied'));
    const [record] = sqsEvent(['x']).Records;
    await new SqsRedelivery(quiet, new SQSClient({ region: 'us-east-1' })).retry([{ record: record!, delaySeconds: 0 }]);
    sqs.restore();
  });
});
