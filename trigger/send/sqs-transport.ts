import {
  GetQueueAttributesCommand,
  PurgeQueueCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import pLimit, { type LimitFunction } from 'p-limit';
import { isThrottling, outcomeUnknown, type AwsError } from '../../handlers/aws-errors';
import { systemClock, type Clock } from '../../handlers/clock';
import { CliError, EXIT, oneLine } from '../errors';
import { backoffMs, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff';
import { splitIntoBatches } from './batches';
import { emptyStats, type QueueDepth, type SendStats, type Transport } from './transport';

export interface SqsTransportOptions {
  /** Build it with `maxAttempts: 1`: this transport does the retrying, so it can count it. */
  readonly client: SQSClient;
  readonly queueUrl: string;
  /** The most SendMessageBatch calls in flight at once (p-limit). */
  readonly concurrency: number;
  readonly backoff?: BackoffPolicy;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Aborting stops retries and drops batches not yet sent (counted as lost). */
  readonly signal?: AbortSignal;
}

const TRANSIENT_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNREFUSED', 'EAI_AGAIN', 'TimeoutError', 'RequestTimeout']);

function isTransient(e: unknown): boolean {
  const err = e as AwsError;
  const status = err?.$metadata?.httpStatusCode ?? 0;
  return status >= 500 || err?.$retryable !== undefined || TRANSIENT_CODES.has(err?.name) || TRANSIENT_CODES.has(err?.code ?? '');
}

/**
 * Sends through SQS with SendMessageBatch: batches of at most 10 within the size limit, at most
 * `concurrency` calls in flight, throttling and transient errors backed off and retried, and only
 * the failed entries of a partly accepted batch sent again. Everything retried is counted.
 */
export class SqsTransport implements Transport {
  readonly kind = 'sqs';
  readonly stats: SendStats = emptyStats();
  private readonly limit: LimitFunction;
  private readonly clock: Clock;
  private readonly backoff: BackoffPolicy;
  private readonly random: () => number;
  private fatal: CliError | undefined;
  private nextId = 0;

  constructor(private readonly opts: SqsTransportOptions) {
    this.limit = pLimit(opts.concurrency);
    this.clock = opts.clock ?? systemClock;
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.random = opts.random ?? Math.random;
  }

  async send(bodies: readonly string[]): Promise<void> {
    const batches = splitIntoBatches(bodies);
    // Batches queued behind the limit when the run is interrupted start, see the signal and are
    // counted as lost at once, so the queue drains in microseconds.
    await Promise.all(batches.map((batch) => this.limit(() => this.sendBatch(batch))));
    if (this.fatal) throw this.fatal;
  }

  private async sendBatch(bodies: string[]): Promise<void> {
    if (this.fatal) return;
    if (this.opts.signal?.aborted) {
      this.stats.lost += bodies.length;
      return;
    }
    let pending: SendMessageBatchRequestEntry[] = bodies.map((MessageBody) => ({ Id: `m${this.nextId++ % 1_000_000}`, MessageBody }));
    // The last call failed in a way that leaves SQS's answer unknown: what is sent again may be there twice.
    let unknown = false;
    for (let attempt = 0; attempt < this.backoff.maxAttempts; attempt++) {
      if (attempt > 0) {
        this.stats.retries++;
        await this.clock.sleep(backoffMs(attempt - 1, this.backoff, this.random), this.opts.signal);
        if (this.opts.signal?.aborted) break;
        if (unknown) this.stats.possibleDuplicates += pending.length;
      }
      unknown = false;
      this.stats.calls++;
      let failedIds: Set<string>;
      try {
        const res = await this.opts.client.send(
          new SendMessageBatchCommand({ QueueUrl: this.opts.queueUrl, Entries: pending }),
          this.opts.signal ? { abortSignal: this.opts.signal } : {},
        );
        this.stats.accepted += res.Successful?.length ?? 0;
        const failed = res.Failed ?? [];
        const ours = failed.filter((f) => f.SenderFault);
        if (ours.length) {
          // Our fault (e.g. invalid contents): sending again cannot help.
          this.stats.lost += ours.length;
        }
        failedIds = new Set(failed.filter((f) => !f.SenderFault).map((f) => f.Id!));
        this.stats.failedEntries += failedIds.size;
      } catch (e) {
        if (this.opts.signal?.aborted) break;
        if (isThrottling(e)) {
          this.stats.throttled++;
          continue;
        }
        if (isTransient(e)) {
          unknown = outcomeUnknown(e);
          continue;
        }
        this.fatal ??= sqsFailure(e, this.opts.queueUrl);
        this.stats.lost += pending.length;
        return;
      }
      pending = pending.filter((entry) => failedIds.has(entry.Id!));
      if (pending.length === 0) return;
    }
    this.stats.lost += pending.length;
  }

  async depth(): Promise<QueueDepth | undefined> {
    try {
      const res = await this.opts.client.send(new GetQueueAttributesCommand({
        QueueUrl: this.opts.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }));
      const a = res.Attributes ?? {};
      return { visible: Number(a.ApproximateNumberOfMessages ?? 0), inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) };
    } catch {
      return undefined;
    }
  }

  async purge(): Promise<void> {
    try {
      await this.opts.client.send(new PurgeQueueCommand({ QueueUrl: this.opts.queueUrl }));
    } catch (e) {
      if ((e as Error).name === 'PurgeQueueInProgress') {
        throw new CliError('the queue was purged less than 60 s ago (SQS allows one purge a minute); it is being emptied already', EXIT.failed);
      }
      throw sqsFailure(e, this.opts.queueUrl);
    }
  }
}

/** One line for an SQS error that retrying cannot fix. */
export function sqsFailure(e: unknown, queueUrl: string): CliError {
  const err = e as AwsError;
  const what = `${err?.name ?? 'Error'}: ${oneLine(String(err?.message ?? e))}`;
  const hint = /QueueDoesNotExist|NonExistentQueue|InvalidAddress/.test(what)
    ? 'check --queue-url (or deploy the stack)'
    : /credential|token|signature|AccessDenied|security/i.test(what)
      ? 'check your AWS credentials (AWS_PROFILE, aws sso login) and --region'
      : 'check --queue-url, --region and your AWS credentials';
  return new CliError(`cannot send to ${queueUrl}: ${what}; ${hint}`, EXIT.usage);
}
