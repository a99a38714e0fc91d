/**
 * When a failed message comes back. Left alone, SQS redelivers a batch item failure only when its
 * visibility timeout ends, and that timeout must be far longer than the longest slice (the stack
 * uses 6 x the function timeout): a failed `statements` message would wait 90 minutes, and a bad
 * message would need hours to reach the DLQ. So the worker shortens the visibility of each failed
 * message itself: bad input at once (it goes to the DLQ after maxReceiveCount receives, in
 * seconds), a failure that may heal (a restarted server) after a backoff that grows with the
 * receive count.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { AWS_CLIENT_CONFIG } from './config';

export interface RetryRequest {
  readonly record: SQSRecord;
  readonly delaySeconds: number;
}

export interface Redelivery {
  /** Make failed messages visible again after their delays. Must not throw. */
  retry(requests: readonly RetryRequest[]): Promise<void>;
}

/** Longest backoff for a message that failed: 5 minutes. */
export const MAX_RETRY_DELAY_S = 300;

/** Delay before a failed message returns: 2, 4, 8 ... s by receive count, at most 5 minutes. */
export function retryDelaySeconds(record: SQSRecord, invalid: boolean): number {
  if (invalid) return 0;
  const received = Number(record.attributes.ApproximateReceiveCount) || 1;
  return Math.min(MAX_RETRY_DELAY_S, 2 ** Math.min(received, 16));
}

/** `arn:aws:sqs:REGION:ACCOUNT:NAME` to the queue URL the SQS API takes. */
export function queueUrlOf(arn: string): string {
  const [, partition, , region, account, name] = arn.split(':');
  if (!region || !account || !name) throw new Error(`not an SQS queue ARN: ${arn}`);
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${domain}/${account}/${name}`;
}

interface Logger {
  warn(obj: object, msg: string): void;
}

type SqsModule = typeof import('@aws-sdk/client-sqs');

/**
 * SQS ChangeMessageVisibilityBatch, one call per queue and 10 messages. The SQS client is loaded
 * on the first failure, not at cold start: most invocations never need it.
 */
export class SqsRedelivery implements Redelivery {
  private sqs?: SqsModule;

  constructor(private readonly log: Logger, private client?: SQSClient) {}

  async retry(requests: readonly RetryRequest[]): Promise<void> {
    const byQueue = new Map<string, RetryRequest[]>();
    for (const r of requests) {
      const list = byQueue.get(r.record.eventSourceARN) ?? [];
      list.push(r);
      byQueue.set(r.record.eventSourceARN, list);
    }
    for (const [arn, list] of byQueue) {
      for (let i = 0; i < list.length; i += 10) {
        const chunk = list.slice(i, i + 10);
        try {
          this.sqs ??= require('@aws-sdk/client-sqs') as SqsModule;
          this.client ??= new this.sqs.SQSClient({ ...AWS_CLIENT_CONFIG });
          const out = await this.client.send(new this.sqs.ChangeMessageVisibilityBatchCommand({
            QueueUrl: queueUrlOf(arn),
            Entries: chunk.map((r, j) => ({ Id: String(j), ReceiptHandle: r.record.receiptHandle, VisibilityTimeout: r.delaySeconds })),
          }));
          if (out.Failed?.length) this.log.warn({ failed: out.Failed.map((f) => f.Code) }, 'some failed messages keep the queue visibility timeout');
        } catch (err) {
          // The queue's own visibility timeout still brings them back, only later.
          this.log.warn({ error: (err as Error).message }, 'could not shorten the visibility of failed messages');
        }
      }
    }
  }
}
