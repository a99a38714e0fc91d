import type { CloudWatchClient, MetricDatum, PutMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import {
  answeredDimensions, dwellDimensions, errorDimensions, markerDimensions, MESSAGE_OUTCOMES, messageDimensions, METRIC, SERVER_ROLES,
  stalenessDimensions, statementDimensions, type Dimension,
} from '../contract';
import { isThrottling, neverSent, outcomeUnknown, type AwsError } from '../aws-errors';
import { systemClock, type Clock } from '../clock';
import { AWS_CLIENT_CONFIG } from '../config';
import type { Histogram } from './histogram';
import type { InvocationMetrics, MetricsSink, PublishOptions } from './types';

/** PutMetricData limits: 1,000 datums and 1 MB per request, 150 values per metric and timestamp. */
export const MAX_DATUMS_PER_REQUEST = 1000;
export const MAX_REQUEST_BYTES = 1_000_000;
export const MAX_VALUES_PER_DATUM = 150;

/**
 * Significant digits a bucket value is sent with: within 0.0005% of the bucket centre, far inside the
 * 2% bucket, and about half the bytes of a full double, so a long slice needs fewer requests.
 */
export const VALUE_DIGITS = 6;

/** Datums for a histogram: its bucket values and counts, 150 to a datum. */
function histogramDatums(name: string, h: Histogram, dims: Dimension[], at: Date): MetricDatum[] {
  const data = h.toData();
  const values = data.values.map((v) => Number(v.toPrecision(VALUE_DIGITS)));
  const counts = data.counts;
  const out: MetricDatum[] = [];
  for (let i = 0; i < values.length; i += MAX_VALUES_PER_DATUM) {
    out.push({
      MetricName: name, Dimensions: dims, Timestamp: at, Unit: 'Milliseconds', StorageResolution: 1,
      Values: values.slice(i, i + MAX_VALUES_PER_DATUM), Counts: counts.slice(i, i + MAX_VALUES_PER_DATUM),
    });
  }
  return out;
}

function countDatum(name: string, value: number, dims: Dimension[], at: Date): MetricDatum {
  return { MetricName: name, Dimensions: dims, Timestamp: at, Unit: 'Count', StorageResolution: 1, Value: value };
}

/**
 * All datums for one invocation, in a stable order. Statement metrics carry the wall-clock second
 * in which each statement finished (Latency, ScheduleLag, Errors, Answered; Skipped: the second it
 * was skipped), so a 60 s slice is 60 points on a 1-second graph, not one spike at its end.
 * Staleness markers carry the second in which each ended (seen, or given up on).
 * Message metrics (QueueDwell, Messages, SenderClockAhead) are per message, not per statement,
 * and carry the invocation's end: a message's outcome is known only then.
 */
export function toDatums(m: InvocationMetrics): MetricDatum[] {
  const out: MetricDatum[] = [];
  for (const s of m.series) {
    const dims = statementDimensions(s.runId, s.op, s.target);
    for (const sec of [...s.seconds.keys()].sort((a, b) => a - b)) {
      const b = s.seconds.get(sec)!;
      const at = new Date(sec * 1000);
      if (b.latency.count) out.push(...histogramDatums(METRIC.latency, b.latency, dims, at));
      if (b.lag.count) out.push(...histogramDatums(METRIC.scheduleLag, b.lag, dims, at));
      for (const [cls, n] of b.errors) out.push(countDatum(METRIC.errors, n, errorDimensions(s.runId, s.op, s.target, cls), at));
      if (b.skipped) out.push(countDatum(METRIC.skipped, b.skipped, dims, at));
      for (const server of SERVER_ROLES) {
        if (b.answeredBy[server]) out.push(countDatum(METRIC.answered, b.answeredBy[server], answeredDimensions(s.runId, s.op, s.target, server), at));
      }
    }
  }
  for (const p of m.staleness ?? []) {
    for (const sec of [...p.seconds.keys()].sort((a, b) => a - b)) {
      const b = p.seconds.get(sec)!;
      const at = new Date(sec * 1000);
      if (b.staleness.count) {
        out.push(...histogramDatums(METRIC.staleness, b.staleness, stalenessDimensions(p.runId), at));
        out.push(countDatum(METRIC.markers, b.staleness.count, markerDimensions(p.runId, 'seen'), at));
      }
      if (b.unseen) out.push(countDatum(METRIC.markers, b.unseen, markerDimensions(p.runId, 'unseen'), at));
      if (b.failed) out.push(countDatum(METRIC.markers, b.failed, markerDimensions(p.runId, 'failed'), at));
    }
  }
  const end = new Date(m.at);
  for (const f of m.messages) {
    if (f.dwell.count) out.push(...histogramDatums(METRIC.queueDwell, f.dwell, dwellDimensions(f.runId), end));
    if (f.senderAheadMs > 0) out.push({ ...countDatum(METRIC.senderClockAhead, f.senderAheadMs, dwellDimensions(f.runId), end), Unit: 'Milliseconds' });
    for (const outcome of MESSAGE_OUTCOMES) {
      if (f[outcome]) out.push(countDatum(METRIC.messages, f[outcome], messageDimensions(f.runId, outcome), end));
    }
  }
  return out;
}

/** A safe bound of a datum's size in a request: the client speaks AWS JSON 1.0; +64 for separators. */
function sizeOf(d: MetricDatum): number {
  return JSON.stringify(d).length + 64;
}

/** One metric (name and dimensions) at one timestamp: CloudWatch takes at most 150 values of it per request. */
function metricKeyOf(d: MetricDatum): string {
  const dims = (d.Dimensions ?? []).map((x) => `${x.Name}=${x.Value}`).sort().join(',');
  return `${d.MetricName}|${dims}|${d.Timestamp instanceof Date ? d.Timestamp.getTime() : String(d.Timestamp)}`;
}

/** Values a datum carries: its Values, or one Value. */
function valuesIn(d: MetricDatum): number {
  return d.Values?.length ?? 1;
}

/**
 * Split datums into as few PutMetricData requests as the API's limits allow: 1,000 datums and
 * 1 MB per request, and at most 150 values of one metric (name, dimensions, timestamp) per
 * request, so the 150-value datums of a histogram with more buckets go to different requests
 * ("PutMetricData", Amazon CloudWatch API Reference,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html: "Using
 * the Values and Counts method enables you to publish up to 150 values per metric with one
 * PutMetricData request"). First-fit decreasing by size, so large histogram datums and small
 * counts share requests instead of a request closing early on whichever limit comes first.
 * CloudWatch does not care in which request, or in which order, a datum arrives: datums of one
 * metric and second are added up ("MetricDatum": "add new values to be aggregated into an existing
 * metric"). Within a request, datums keep their order.
 *
 * The `Messages` datums go into the last request: the report counts a run as complete once the
 * message outcomes add up to what was sent, so when an outcome is there, the statements of its
 * message were accepted before it.
 */
export function toRequests(namespace: string, datums: MetricDatum[]): PutMetricDataCommandInput[] {
  const sized = datums.map((d, i) => ({ d, i, size: sizeOf(d), key: metricKeyOf(d), values: valuesIn(d), last: d.MetricName === METRIC.messages }));
  type Item = (typeof sized)[number];
  const bins: Array<{ items: Item[]; bytes: number; values: Map<string, number> }> = [];
  const fits = (b: (typeof bins)[number], x: Item): boolean => b.items.length < MAX_DATUMS_PER_REQUEST && b.bytes + x.size <= MAX_REQUEST_BYTES
    && (b.values.get(x.key) ?? 0) + x.values <= MAX_VALUES_PER_DATUM;
  const put = (bin: (typeof bins)[number], x: Item): void => {
    bin.items.push(x);
    bin.bytes += x.size;
    bin.values.set(x.key, (bin.values.get(x.key) ?? 0) + x.values);
  };
  const open = (): (typeof bins)[number] => {
    const bin = { items: [], bytes: 0, values: new Map<string, number>() };
    bins.push(bin);
    return bin;
  };
  for (const x of sized.filter((y) => !y.last).sort((a, b) => b.size - a.size || a.i - b.i)) put(bins.find((b) => fits(b, x)) ?? open(), x);
  for (const x of sized.filter((y) => y.last)) {
    const bin = bins.at(-1);
    put(bin && fits(bin, x) ? bin : open(), x);
  }
  return bins.map((b) => ({ Namespace: namespace, MetricData: b.items.sort((p, q) => p.i - q.i).map((x) => x.d) }));
}

/**
 * Backoff between attempts: a random wait of up to 100 ms x 2^attempt, at most 5 s ("full
 * jitter"), as AWS advises for a throttled PutMetricData: "Retry your calls with exponential
 * backoff and jitter" ("How do I avoid throttling when I call PutMetricData in the CloudWatch
 * API?", https://repost.aws/knowledge-center/cloudwatch-400-error-throttling).
 */
export const BACKOFF = { baseMs: 100, maxMs: 5_000 } as const;

/** An attempt is not started with less than this left before the publish's `by`. */
export const MIN_ATTEMPT_MS = 500;

/** Attempts per request at most, whatever time is left (about 30 s of backoff in all). */
export const MAX_ATTEMPTS = 10;

export interface CloudWatchSinkOptions {
  /** Time for backoff and the deadline. @default the system clock */
  readonly clock?: Clock;
  /** Uniform in [0, 1): jitter of the backoff. @default Math.random */
  readonly random?: () => number;
}

/**
 * Publishes each invocation's metrics with as few PutMetricData calls as the limits allow (usually
 * one; a long slice of several operations may need a few), never one per statement.
 *
 * The account shares PutMetricData's rate: 500 transactions per second per Region by default
 * ("CloudWatch service quotas", https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html),
 * and every worker's last slice ends when the load does. So the worker publishes a long
 * invocation's seconds as they pass (metrics/periodic-publish.ts), at a random phase each minute,
 * and each request is retried with jittered backoff while the invocation has time
 * (`by`): a throttled publish is sent again, never dropped while time is left. The SDK's own
 * retries are off (one attempt per send): these retries are the only ones, and they know the deadline.
 */
export class CloudWatchSink implements MetricsSink {
  readonly #clock: Clock;
  readonly #random: () => number;
  private sdk?: typeof import('../sdk/cloudwatch');

  /**
   * @param client @default a client with the worker's timeouts (AWS_CLIENT_CONFIG, one attempt per
   * send: the retries are this sink's), made with its module on the first publish rather than at
   * cold start (an init on deploy publishes nothing).
   */
  constructor(
    private readonly namespace: string,
    private client?: CloudWatchClient,
    options: CloudWatchSinkOptions = {},
  ) {
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
  }

  async publish(metrics: InvocationMetrics, options: PublishOptions = {}): Promise<void> {
    const requests = toRequests(this.namespace, toDatums(metrics));
    if (!requests.length) return;
    const by = options.by ?? Infinity;
    for (const [i, input] of requests.entries()) {
      const failure = await this.#send(input, by);
      // Whether CloudWatch may hold some of these metrics: an earlier request went through, or this one's fate is unknown.
      if (failure) throw new PublishError(failure.message, { nothingStored: i === 0 && !failure.maybeStored });
    }
  }

  /**
   * One request, sent again while CloudWatch refused it (throttled, or no connection made) until it
   * is accepted, `by` comes or its attempts are spent. A failure that may have been stored (a
   * timeout, a reset connection, a server error) is not sent again: datums sent twice are counted
   * twice, and a count the report cannot trust is worse than one it knows is missing.
   */
  async #send(input: PutMetricDataCommandInput, by: number): Promise<{ message: string; maybeStored: boolean } | undefined> {
    let first: string | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#attempt(input, by);
        return undefined;
      } catch (err) {
        first ??= describe(err);
        const backoff = this.#random() * Math.min(BACKOFF.maxMs, BACKOFF.baseMs * 2 ** attempt);
        const refused = isThrottling(err) || neverSent(err);
        const maybeStored = outcomeUnknown(err) && !isRefusal(err);
        const why = maybeStored ? ', not sent again: CloudWatch may have stored it'
          : !refused || attempt >= MAX_ATTEMPTS ? ''
          : this.#clock.now() + backoff + MIN_ATTEMPT_MS > by ? ', out of time before the invocation\'s deadline' : undefined;
        if (why !== undefined) {
          const last = describe(err);
          return { message: `PutMetricData failed after ${attempt} attempt(s)${why}: ${last}${last !== first ? ` (first: ${first})` : ''}`, maybeStored };
        }
        await this.#clock.sleep(backoff);
      }
    }
  }

  /** One PutMetricData, cut off at `by` whether or not the SDK has given up on it. */
  async #attempt(input: PutMetricDataCommandInput, by: number): Promise<void> {
    this.sdk ??= require('../sdk/cloudwatch') as typeof import('../sdk/cloudwatch');
    this.client ??= new this.sdk.CloudWatchClient({ ...AWS_CLIENT_CONFIG, maxAttempts: 1 });
    const { PutMetricDataCommand } = this.sdk;
    if (by === Infinity) {
      await this.client.send(new PutMetricDataCommand(input));
      return;
    }
    const abort = new AbortController();
    const timerDone = new AbortController();
    const timedOut = this.#clock.sleep(Math.max(0, by - this.#clock.now()), timerDone.signal).then(() => {
      if (timerDone.signal.aborted) return;
      abort.abort();
      throw Object.assign(new Error('no answer before the invocation\'s deadline'), { name: 'DeadlineTimeout' });
    });
    try {
      await Promise.race([this.client.send(new PutMetricDataCommand(input), { abortSignal: abort.signal }), timedOut]);
    } finally {
      timerDone.abort();
    }
  }
}

/** A 4xx answer other than throttling: CloudWatch refused the request (no permission, a bad datum) and stored nothing. */
function isRefusal(err: unknown): boolean {
  const status = (err as AwsError)?.$metadata?.httpStatusCode ?? 0;
  return status >= 400 && status < 500;
}

/** A publish that did not go through; one line. */
export class PublishError extends Error {
  override readonly name = 'PublishError';
  /** True when CloudWatch holds none of the publish's metrics, so they may be sent again without counting anything twice. */
  readonly nothingStored: boolean;

  constructor(message: string, o: { nothingStored: boolean }) {
    super(message);
    this.nothingStored = o.nothingStored;
  }
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string } | undefined;
  return `${e?.name ?? 'Error'}: ${String(e?.message ?? err).split('\n')[0]}`;
}
