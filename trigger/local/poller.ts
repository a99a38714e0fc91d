/**
 * The local event source mapping: polls a LocalQueue and invokes an SQS Lambda handler with real
 * `SQSEvent` records and a `Context`, the way Lambda's SQS event source mapping does with
 * ReportBatchItemFailures turned on:
 * - at most `maxConcurrency` invocations at a time (the mapping's MaximumConcurrency), and, with
 *   `scaleUp`, fewer at first: the event source's documented scale-up (handlers/event-source.ts);
 * - after an invocation, every message not named in `batchItemFailures` is deleted; named ones stay
 *   hidden until their visibility timeout ends, then come back (and, after maxReceiveCount
 *   receives, go to the dead-letter queue);
 * - a handler that throws, or returns a malformed response, fails the whole batch: nothing is
 *   deleted;
 * - an invocation still running at `functionTimeoutMs` times out as in Lambda: its batch fails and
 *   its place is free again. A promise cannot be killed, so the handler runs on, unheard; the
 *   handler sees its deadline through `context.getRemainingTimeInMillis()`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { LocalQueue, ReceivedMessage } from './queue';
import { systemClock, type Clock } from '../../handlers/clock';
import { ScaleUpModel, type ScaleUpSettings } from '../../handlers/event-source';

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export interface LocalPollerOptions {
  /** Most records per invocation (BatchSize). Above 10, batches are gathered from several receives. @default 10 */
  readonly batchSize?: number;
  /** Most invocations in flight at once (ScalingConfig.MaximumConcurrency; AWS's minimum is 2, 1 is allowed here). @default 2 */
  readonly maxConcurrency?: number;
  /** How long to keep gathering a batch that is not full yet (MaximumBatchingWindowInSeconds, in ms). @default 0 */
  readonly maxBatchingWindowMs?: number;
  /** How long a poller waits after finding the queue empty. @default 20 */
  readonly pollIntervalMs?: number;
  /** The function timeout: behind `context.getRemainingTimeInMillis()`, and when an invocation times out. @default 900000 (15 min) */
  readonly functionTimeoutMs?: number;
  /**
   * Grow the concurrency as the SQS event source does: start at `startConcurrency`, add
   * `perMinute` while messages wait. @default none: `maxConcurrency` from the start
   */
  readonly scaleUp?: ScaleUpSettings | null;
  /** Time, for the deadline, the timeout, polling and the scale-up. @default the system clock */
  readonly clock?: Clock;
  /** `context.functionName`, also used in the function ARN and log group. @default 'local-worker' */
  readonly functionName?: string;
  /** `eventSourceARN` of the records. @default arn:aws:sqs:<region>:000000000000:<queue name> */
  readonly queueArn?: string;
  /** `awsRegion` of the records. @default 'us-east-1' */
  readonly region?: string;
  /** Called with each error that failed a whole batch (a throw or a malformed response). @default ignore (still counted in stats) */
  readonly onError?: (err: unknown) => void;
}

export interface LocalPollerStats {
  invocations: number;
  /** Highest number of invocations that were in flight at the same time. */
  maxInFlight: number;
  /** Records named in batchItemFailures responses. */
  itemFailures: number;
  /** Invocations that failed as a whole: the handler threw or returned a malformed response. */
  handlerErrors: number;
  /** Invocations still running at the function timeout: their batches failed (Lambda's "Task timed out"). */
  timeouts: number;
}

/** The handler did not return within the function timeout, so Lambda fails the whole batch. */
export class FunctionTimeoutError extends Error {
  override readonly name = 'FunctionTimeoutError';
}

/** The handler's response could not be read as an SQSBatchResponse, so Lambda fails the whole batch. */
export class InvalidBatchResponseError extends Error {
  override readonly name = 'InvalidBatchResponseError';
}

const ACCOUNT = '000000000000';
const IDLE_POLL_MS = 20;
/** Longest wait of a dispatcher with every invocation busy; an invocation ending wakes it sooner. */
const BUSY_WAIT_MS = 1_000;

export class LocalPoller {
  readonly stats: LocalPollerStats = { invocations: 0, maxInFlight: 0, itemFailures: 0, handlerErrors: 0, timeouts: 0 };

  readonly #queue: LocalQueue;
  readonly #handler: SqsHandler;
  readonly #batchSize: number;
  readonly #maxConcurrency: number;
  readonly #windowMs: number;
  readonly #pollMs: number;
  readonly #timeoutMs: number;
  readonly #functionName: string;
  readonly #region: string;
  readonly #queueArn: string;
  readonly #onError: (err: unknown) => void;
  readonly #clock: Clock;
  readonly #scaling: ScaleUpModel;
  #running = false;
  #inFlight = 0;
  #dispatcher: Promise<void> | undefined;
  readonly #invocations = new Set<Promise<void>>();
  /** Wakes the dispatcher's sleep: stop(), an invocation ending. */
  #wake: AbortController | undefined;

  constructor(queue: LocalQueue, handler: SqsHandler, opts: LocalPollerOptions = {}) {
    if (typeof handler !== 'function') throw new TypeError('handler must be a function (event, context) => Promise<SQSBatchResponse | void>');
    this.#queue = queue;
    this.#handler = handler;
    this.#batchSize = intOption('batchSize', opts.batchSize, 10, 1, 10_000);
    this.#maxConcurrency = intOption('maxConcurrency', opts.maxConcurrency, 2, 1, 1_000);
    this.#windowMs = intOption('maxBatchingWindowMs', opts.maxBatchingWindowMs, 0, 0, 300_000);
    this.#pollMs = intOption('pollIntervalMs', opts.pollIntervalMs, 20, 1, 60_000);
    this.#timeoutMs = intOption('functionTimeoutMs', opts.functionTimeoutMs, 900_000, 1, 900_000);
    this.#functionName = opts.functionName ?? 'local-worker';
    this.#region = opts.region ?? 'us-east-1';
    this.#queueArn = opts.queueArn ?? `arn:aws:sqs:${this.#region}:${ACCOUNT}:${queue.name}`;
    this.#onError = opts.onError ?? (() => undefined);
    this.#clock = opts.clock ?? systemClock;
    this.#scaling = new ScaleUpModel(opts.scaleUp ?? null, this.#maxConcurrency);
  }

  /** Invocations in flight right now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Start polling (a no-op when already started). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#dispatcher = this.#dispatch();
  }

  /** Stop polling and resolve once the invocations in flight have finished. Messages stay queued. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.abort();
    await this.#dispatcher;
    this.#dispatcher = undefined;
    await Promise.all(this.#invocations);
  }

  /**
   * Resolve once the queue is drained (every message deleted or dead-lettered) and no invocation
   * is in flight. Failed messages keep it busy until their retries run out, so with a long
   * visibility timeout this takes long; it never resolves while the poller is stopped and messages
   * remain, hence the optional `timeoutMs` (rejects when it passes).
   */
  async idle(timeoutMs?: number): Promise<void> {
    const deadline = timeoutMs === undefined ? Infinity : this.#clock.now() + timeoutMs;
    while (!(this.#queue.drained() && this.#inFlight === 0)) {
      if (this.#clock.now() >= deadline) {
        const { visible, inFlight } = this.#queue.depth;
        throw new Error(`the queue did not drain within ${timeoutMs} ms (${visible} visible, ${inFlight} in flight, ${this.#inFlight} invocations running)`);
      }
      await this.#clock.sleep(IDLE_POLL_MS);
    }
  }

  /**
   * The one dispatcher: while the event source allows another invocation, receive a batch and
   * start it; else wait for an invocation to end or the event source to grow. The event source
   * grows while messages wait for an invocation.
   */
  async #dispatch(): Promise<void> {
    let waiting = false;
    while (this.#running) {
      const now = this.#clock.now();
      const allowed = this.#scaling.capacity(now, waiting);
      if (this.#inFlight >= allowed) {
        waiting = this.#queue.depth.visible > 0;
        this.#scaling.capacity(now, waiting);
        const growth = waiting ? this.#scaling.nextGrowthAt(now) : undefined;
        await this.#sleep(growth !== undefined ? Math.max(1, growth - now) : BUSY_WAIT_MS);
        continue;
      }
      waiting = false;
      const batch = await this.#gather();
      if (batch.length === 0) {
        await this.#sleep(this.#pollMs);
        continue;
      }
      const p: Promise<void> = this.#invoke(batch).finally(() => {
        this.#invocations.delete(p);
        this.#wake?.abort();
      });
      this.#invocations.add(p);
    }
  }

  async #gather(): Promise<ReceivedMessage[]> {
    const batch = this.#queue.receive(Math.min(10, this.#batchSize));
    if (batch.length === 0) return batch;
    const deadline = this.#clock.now() + this.#windowMs;
    while (batch.length < this.#batchSize) {
      const more = this.#queue.receive(Math.min(10, this.#batchSize - batch.length));
      if (more.length > 0) {
        batch.push(...more);
        continue;
      }
      const left = deadline - this.#clock.now();
      if (left <= 0 || !this.#running) break;
      await this.#sleep(Math.min(this.#pollMs, left));
    }
    return batch;
  }

  async #invoke(batch: ReceivedMessage[]): Promise<void> {
    this.#inFlight++;
    this.stats.invocations++;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.#inFlight);
    const timer = new AbortController();
    try {
      let failed: Set<string>;
      try {
        const handled = this.#handler({ Records: batch.map((m) => this.#record(m)) }, this.#context());
        const timedOut = this.#clock.sleep(this.#timeoutMs, timer.signal).then(() => TIMED_OUT);
        const response = await Promise.race([handled, timedOut]);
        if (response === TIMED_OUT) {
          // Lambda stops the function here; this one runs on, but nothing it does counts.
          handled.catch(() => undefined);
          this.stats.timeouts++;
          throw new FunctionTimeoutError(`the invocation was still running after the function timeout (${this.#timeoutMs} ms); its batch fails`);
        }
        failed = failedIds(response, batch);
      } catch (err) {
        this.stats.handlerErrors++;
        this.#report(err);
        return;
      }
      this.stats.itemFailures += failed.size;
      for (const m of batch) if (!failed.has(m.messageId)) this.#queue.delete(m.receiptHandle);
    } finally {
      timer.abort();
      this.#inFlight--;
    }
  }

  #record(m: ReceivedMessage): SQSRecord {
    return {
      messageId: m.messageId,
      receiptHandle: m.receiptHandle,
      body: m.body,
      attributes: { ...m.attributes },
      messageAttributes: {},
      md5OfBody: m.md5OfBody,
      eventSource: 'aws:sqs',
      eventSourceARN: this.#queueArn,
      awsRegion: this.#region,
    };
  }

  #context(): Context {
    const deadline = this.#clock.now() + this.#timeoutMs;
    const name = this.#functionName;
    const day = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
    const unsupported = (): never => {
      throw new Error('callback-style context methods are not supported: return a promise from the handler');
    };
    return {
      callbackWaitsForEmptyEventLoop: true,
      functionName: name,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${this.#region}:${ACCOUNT}:function:${name}`,
      memoryLimitInMB: '1024',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${name}`,
      logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - this.#clock.now()),
      done: unsupported,
      fail: unsupported,
      succeed: unsupported,
    };
  }

  #report(err: unknown): void {
    try {
      this.#onError(err);
    } catch {
      // The error sink's own failure must not stop the poller.
    }
  }

  /** Sleep on the clock; stop() and an invocation ending cut it short. */
  async #sleep(ms: number): Promise<void> {
    const wake = new AbortController();
    this.#wake = wake;
    if (!this.#running) return;
    await this.#clock.sleep(ms, wake.signal);
    if (this.#wake === wake) this.#wake = undefined;
  }
}

const TIMED_OUT = Symbol('timed out');

/**
 * The ids to keep from a handler's response, following Lambda's rules for SQS: no response, no or
 * an empty `batchItemFailures` is complete success; anything that is not a list of
 * `{ itemIdentifier }` naming messages of this batch fails the whole batch.
 */
function failedIds(response: unknown, batch: readonly ReceivedMessage[]): Set<string> {
  const failed = new Set<string>();
  if (response === undefined || response === null) return failed;
  if (typeof response !== 'object' || Array.isArray(response)) throw new InvalidBatchResponseError(`the handler returned ${describe(response)}, not an SQSBatchResponse; the whole batch fails`);
  const items = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (items === undefined || items === null) return failed;
  if (!Array.isArray(items)) throw new InvalidBatchResponseError(`batchItemFailures is ${describe(items)}, not an array; the whole batch fails`);
  const ids = new Set(batch.map((m) => m.messageId));
  for (const item of items) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '') throw new InvalidBatchResponseError(`a batchItemFailures entry has no itemIdentifier (${describe(item)}); the whole batch fails`);
    if (!ids.has(id)) throw new InvalidBatchResponseError(`batchItemFailures names ${JSON.stringify(id)}, which is not a messageId of this batch; the whole batch fails`);
    failed.add(id);
  }
  return failed;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return `an object with keys [${Object.keys(v).join(', ')}]`;
  return `a ${typeof v}`;
}

function intOption(name: string, value: number | undefined, dflt: number, min: number, max: number): number {
  const v = value ?? dflt;
  if (!Number.isInteger(v) || v < min || v > max) throw new TypeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  return v;
}
