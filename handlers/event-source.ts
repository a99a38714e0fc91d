/**
 * The SQS event source that feeds the worker, written once: the defaults the CDK app deploys
 * (batch size, maximum concurrency, function timeout) and a model of how the event source scales
 * up. The CDK app deploys with these defaults, the trigger plans against them, and the local engine
 * runs with them, so a local rehearsal shows what AWS would do.
 *
 * How the event source scales, from "Configuring scaling behavior for SQS event source mappings"
 * (AWS Lambda Developer Guide, https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html):
 * "When messages are available, Lambda starts processing five batches at a time with five
 * concurrent invocations of your function. If messages are still available, Lambda increases the
 * number of processes that are reading batches by up to 300 more instances per minute. The maximum
 * number of batches that an event source mapping can process simultaneously is 1,000." (Older
 * versions of the page said 1,250; MaximumConcurrency itself accepts 2-1,000: "ScalingConfig",
 * https://docs.aws.amazon.com/lambda/latest/dg/API_ScalingConfig.html.)
 *
 * No imports with a runtime cost: the CDK app loads it.
 */

/** What the stack deploys unless its context says otherwise (cdk.json: WorkerMaxConcurrency, WorkerBatchSize). */
export const EVENT_SOURCE_DEFAULTS = {
  /**
   * Messages per invocation. A slice keeps its invocation for its whole duration, so 1 keeps "one
   * invocation per slice" and lets concurrency alone set the number of workers.
   */
  batchSize: 1,
  /** The event source mapping's MaximumConcurrency: the most invocations it runs at once. */
  maxConcurrency: 10,
  /** The worker function's timeout: Lambda's maximum, 15 minutes. */
  functionTimeoutMs: 15 * 60_000,
  /**
   * Receives of a message before SQS moves it to the dead-letter queue (the queue's redrive
   * policy). With the worker's backoff (handlers/redelivery.ts: 5, 15, 30, 60, 120 s) a failing
   * statements message gets about 4 minutes to outlast a failover or a Serverless resume (~30 s)
   * before it is dead-lettered; an invalid one comes back at once and reaches the DLQ in seconds.
   * The stack sets it on the queue and in the worker's environment, the local engine on its queue
   * and its workers: the worker must know which receive is a message's last.
   */
  maxReceiveCount: 6,
} as const;

/** The bounds AWS puts on MaximumConcurrency (API reference, ScalingConfig). */
export const MAX_CONCURRENCY_RANGE = { min: 2, max: 1000 } as const;

/** How the event source grows its concurrency while messages wait. */
export interface ScaleUpSettings {
  /** Concurrent invocations the event source starts with when messages appear. */
  readonly startConcurrency: number;
  /** Invocations it adds per minute while messages are still waiting. */
  readonly perMinute: number;
}

/** The documented scale-up: 5 concurrent invocations at first, then up to 300 more per minute. */
export const SCALE_UP_DEFAULTS: ScaleUpSettings = { startConcurrency: 5, perMinute: 300 };

/**
 * Time for the event source to grow from its start to `concurrency` invocations, ms, while
 * messages keep waiting: 0 when it starts there.
 */
export function scaleUpMs(concurrency: number, s: ScaleUpSettings): number {
  return Math.max(0, concurrency - s.startConcurrency) / s.perMinute * 60_000;
}

/**
 * The event source's concurrency over time, as a model: it starts at `startConcurrency` and grows
 * by `perMinute` during the time messages wait for an invocation (every invocation it allows is
 * busy), never above `maxConcurrency`. It does not shrink while a run lasts: the trigger keeps
 * the demand steady (slices hand over one worker at a time), so the event source always has
 * messages to read. Pure: time is passed in, so a plan can be simulated without a clock.
 */
export class ScaleUpModel {
  #capacity: number;
  #at: number | undefined;
  #waiting = false;

  /** `settings` null: no model, the event source runs `maxConcurrency` at once from the start. */
  constructor(private readonly settings: ScaleUpSettings | null, private readonly maxConcurrency: number) {
    if (!(Number.isInteger(maxConcurrency) && maxConcurrency >= 1)) throw new RangeError(`maxConcurrency must be a whole number of at least 1, got ${maxConcurrency}`);
    if (settings && !(settings.startConcurrency >= 1 && settings.perMinute > 0)) {
      throw new RangeError(`scale-up needs startConcurrency >= 1 and perMinute > 0, got ${settings.startConcurrency} and ${settings.perMinute}`);
    }
    this.#capacity = settings ? Math.min(maxConcurrency, settings.startConcurrency) : maxConcurrency;
  }

  /**
   * Concurrent invocations allowed at `now` (epoch ms, never decreasing). `waiting` says whether
   * messages wait for an invocation from now on: the event source grows while they do.
   */
  capacity(now: number, waiting: boolean): number {
    if (this.settings && this.#at !== undefined && this.#waiting && now > this.#at) {
      this.#capacity = Math.min(this.maxConcurrency, this.#capacity + (this.settings.perMinute * (now - this.#at)) / 60_000);
    }
    this.#at = this.#at === undefined ? now : Math.max(this.#at, now);
    this.#waiting = waiting;
    return Math.floor(this.#capacity + 1e-9);
  }

  /** When, after `now`, the capacity reaches the next whole invocation if messages keep waiting; undefined when it cannot grow. */
  nextGrowthAt(now: number): number | undefined {
    if (!this.settings || this.#capacity >= this.maxConcurrency) return undefined;
    const next = Math.floor(this.#capacity + 1e-9) + 1;
    return now + ((next - this.#capacity) * 60_000) / this.settings.perMinute;
  }
}
