import { expect } from 'chai';
import { mockClient } from 'aws-sdk-client-mock';
import { ChangeMessageVisibilityBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { MAX_RETRY_DELAY_S, SqsRedelivery, queueUrlOf, retryDelaySeconds } from '../../handlers/redelivery';
import { sqsEvent } from '../helpers/worker-fixture';

const quiet = { warn: () => undefined };

describe('redelivery of failed messages', () => {
  it('brings bad input back at once, so it reaches the DLQ after maxReceiveCount receives in seconds', () => {
    const [record] = sqsEvent(['x']).Records;
    expect(retryDelaySeconds(record!, true)).to.equal(0);
  });

  it('backs off failures that may heal: 2, 4, 8 s by receive count, at most 5 minutes', () => {
    const [record] = sqsEvent(['x']).Records;
    const at = (n: number) => retryDelaySeconds({ ...record!, attributes: { ...record!.attributes, ApproximateReceiveCount: String(n) } }, false);
    expect([at(1), at(2), at(3), at(20)]).to.deep.equal([2, 4, 8, MAX_RETRY_DELAY_S]);
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
