import type { CloudWatchClient, MetricDatum, PutMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import {
  answeredDimensions, dwellDimensions, errorDimensions, markerDimensions, MESSAGE_OUTCOMES, messageDimensions, METRIC, SERVER_ROLES,
  stalenessDimensions, statementDimensions, type Dimension,
} from '../contract';
import { AWS_CLIENT_CONFIG } from '../config';
import type { Histogram } from './histogram';
import type { InvocationMetrics, MetricsSink } from './types';

/** PutMetricData limits: 1,000 datums and 1 MB per request, 150 distinct values per datum. */
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

/**
 * Split datums into as few PutMetricData requests as the API's count (1,000) and size (1 MB)
 * limits allow: first-fit decreasing by size, so large histogram datums and small counts share
 * requests instead of a request closing early on whichever limit comes first. CloudWatch does
 * not care in which request, or in which order, a datum arrives. Within a request, datums keep
 * their order.
 *
 * The `Messages` datums go into the last request: the report counts a run as complete once the
 * message outcomes add up to what was sent, so when an outcome is there, the statements of its
 * message were accepted before it.
 */
export function toRequests(namespace: string, datums: MetricDatum[]): PutMetricDataCommandInput[] {
  const sized = datums.map((d, i) => ({ d, i, size: sizeOf(d), last: d.MetricName === METRIC.messages }));
  const bins: Array<{ items: typeof sized; bytes: number }> = [];
  const fits = (b: (typeof bins)[number], size: number): boolean => b.items.length < MAX_DATUMS_PER_REQUEST && b.bytes + size <= MAX_REQUEST_BYTES;
  const put = (bin: (typeof bins)[number], x: (typeof sized)[number]): void => {
    bin.items.push(x);
    bin.bytes += x.size;
  };
  for (const x of sized.filter((y) => !y.last).sort((a, b) => b.size - a.size || a.i - b.i)) {
    let bin = bins.find((b) => fits(b, x.size));
    if (!bin) bins.push((bin = { items: [], bytes: 0 }));
    put(bin, x);
  }
  for (const x of sized.filter((y) => y.last)) {
    let bin = bins.at(-1);
    if (!bin || !fits(bin, x.size)) bins.push((bin = { items: [], bytes: 0 }));
    put(bin, x);
  }
  return bins.map((b) => ({ Namespace: namespace, MetricData: b.items.sort((p, q) => p.i - q.i).map((x) => x.d) }));
}

/**
 * Publishes each invocation's metrics with as few PutMetricData calls as the limits allow (usually
 * one; a long slice of several operations may need a few), never one per statement.
 */
export class CloudWatchSink implements MetricsSink {
  private sdk?: typeof import('@aws-sdk/client-cloudwatch');

  /**
   * @param client @default a client with the worker's timeouts (AWS_CLIENT_CONFIG), made with its
   * module on the first publish rather than at cold start (an init on deploy publishes nothing).
   */
  constructor(private readonly namespace: string, private client?: CloudWatchClient) {}

  async publish(metrics: InvocationMetrics): Promise<void> {
    this.sdk ??= require('@aws-sdk/client-cloudwatch') as typeof import('@aws-sdk/client-cloudwatch');
    this.client ??= new this.sdk.CloudWatchClient({ ...AWS_CLIENT_CONFIG });
    for (const input of toRequests(this.namespace, toDatums(metrics))) {
      await this.client.send(new this.sdk.PutMetricDataCommand(input));
    }
  }
}
