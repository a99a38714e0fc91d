/**
 * When a failed message comes back. Left alone, SQS redelivers a batch item failure only when its
 * visibility timeout ends, and that timeout must be far longer than the longest slice (the stack
 * uses 6 x the function timeout): a failed `statements` message would wait 90 minutes, and a bad
 * message would need hours to reach the DLQ. So the worker shortens the visibility of each failed
 * message itself: bad input at once (it goes to the DLQ after maxReceiveCount receives, in
 * seconds), a failure that may heal (a restarted server, a failover) after a backoff that grows
 * with the receive count.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { AWS_CLIENT_CONFIG } from './config';

export interface RetryRequest {
  readonly record: SQSRecord;
  readonly delaySeconds: number;
}

export interface Redelivery {
  /** Make failed messages visible again after their delays; give up when `signal` aborts (the invocation's deadline). Must not throw. */
  retry(requests: readonly RetryRequest[], signal?: AbortSignal): Promise<void>;
}

/**
 * Delays before a failed message comes back, by the receive that failed (1st, 2nd, ...): 5 s, then
 * longer, so that together (3 minutes 50 s before the sixth receive) they outlast what a failure
 * that heals takes: an Aurora failover or the resume of a paused Serverless v2 instance, about
 * 30 s each. Shorter delays (2, 4, 8 s) dead-lettered a failing message 14 s after its first failure.
 */
export const RETRY_DELAYS_S = [5, 15, 30, 60, 120] as const;

/** The delay after any later receive (a queue with a higher maxReceiveCount): 5 minutes. */
export const MAX_RETRY_DELAY_S = 300;

/** The receive a record is on (SQS's ApproximateReceiveCount; 1 when it cannot be read). */
export function receiveCountOf(record: Pick<SQSRecord, 'attributes'>): number {
  return Number(record.attributes.ApproximateReceiveCount) || 1;
}

/**
 * Whether this receive is the message's last: failed now, it is not redelivered but moved to the
 * dead-letter queue (SQS moves a message whose receive count has reached the queue's
 * maxReceiveCount when it would be received again). ApproximateReceiveCount is approximate, as
 * its name says; the dead-letter queue's own depth is the cross-check.
 */
export function isLastReceive(record: Pick<SQSRecord, 'attributes'>, maxReceiveCount: number): boolean {
  return receiveCountOf(record) >= maxReceiveCount;
}

/**
 * Delay before a failed message returns: bad input at once (it reaches the dead-letter queue in
 * seconds), and a message on its last receive at once too (it goes to the dead-letter queue, and
 * waiting would only delay that); else {@link RETRY_DELAYS_S} by receive count.
 */
export function retryDelaySeconds(record: Pick<SQSRecord, 'attributes'>, invalid: boolean, maxReceiveCount: number): number {
  if (invalid || isLastReceive(record, maxReceiveCount)) return 0;
  return RETRY_DELAYS_S[receiveCountOf(record) - 1] ?? MAX_RETRY_DELAY_S;
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

type SqsModule = typeof import('./sdk/sqs');

/**
 * SQS ChangeMessageVisibilityBatch, one call per queue and 10 messages. The SQS client is loaded
 * on the first failure, not at cold start: most invocations never need it.
 */
export class SqsRedelivery implements Redelivery {
  private sqs?: SqsModule;

  constructor(private readonly log: Logger, private client?: SQSClient) {}

  async retry(requests: readonly RetryRequest[], signal?: AbortSignal): Promise<void> {
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
          this.sqs ??= require('./sdk/sqs') as SqsModule;
          this.client ??= new this.sqs.SQSClient({ ...AWS_CLIENT_CONFIG });
          if (signal?.aborted) throw new Error('out of time before the invocation\'s deadline');
          const out = await this.client.send(new this.sqs.ChangeMessageVisibilityBatchCommand({
            QueueUrl: queueUrlOf(arn),
            Entries: chunk.map((r, j) => ({ Id: String(j), ReceiptHandle: r.record.receiptHandle, VisibilityTimeout: r.delaySeconds })),
          }), { ...(signal ? { abortSignal: signal } : {}) });
          if (out.Failed?.length) this.log.warn({ failed: out.Failed.map((f) => f.Code) }, 'some failed messages keep the queue visibility timeout');
        } catch (err) {
          // The queue's own visibility timeout still brings them back, only later.
          this.log.warn({ error: (err as Error).message }, 'could not shorten the visibility of failed messages');
        }
      }
    }
  }
}
