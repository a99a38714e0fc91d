import { CloudWatchClient, PutMetricDataCommand, type MetricDatum, type PutMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { AWS_CLIENT_CONFIG } from '../config';
import type { Histogram } from './histogram';
import type { InvocationMetrics, MetricsSink } from './types';
import { METRIC } from './names';

export { METRIC };

/** PutMetricData limits: 1,000 datums and 1 MB per request, 150 distinct values per datum. */
export const MAX_DATUMS_PER_REQUEST = 1000;
export const MAX_REQUEST_BYTES = 1_000_000;
export const MAX_VALUES_PER_DATUM = 150;

type Dims = Record<string, string>;

function dimensions(d: Dims): MetricDatum['Dimensions'] {
  return Object.entries(d).map(([Name, Value]) => ({ Name, Value }));
}

/**
 * Significant digits a bucket value is sent with: within 0.0005% of the bucket centre, far inside the
 * 2% bucket, and about half the bytes of a full double, so a long slice needs fewer requests.
 */
export const VALUE_DIGITS = 6;

/** Datums for a histogram: its bucket values and counts, 150 to a datum. */
function histogramDatums(name: string, h: Histogram, dims: Dims, at: Date): MetricDatum[] {
  const data = h.toData();
  const values = data.values.map((v) => Number(v.toPrecision(VALUE_DIGITS)));
  const counts = data.counts;
  const out: MetricDatum[] = [];
  for (let i = 0; i < values.length; i += MAX_VALUES_PER_DATUM) {
    out.push({
      MetricName: name, Dimensions: dimensions(dims), Timestamp: at, Unit: 'Milliseconds', StorageResolution: 1,
      Values: values.slice(i, i + MAX_VALUES_PER_DATUM), Counts: counts.slice(i, i + MAX_VALUES_PER_DATUM),
    });
  }
  return out;
}

function countDatum(name: string, value: number, dims: Dims, at: Date): MetricDatum {
  return { MetricName: name, Dimensions: dimensions(dims), Timestamp: at, Unit: 'Count', StorageResolution: 1, Value: value };
}

/**
 * All datums for one invocation, in a stable order. Statement metrics carry the wall-clock second
 * in which each statement finished (Latency, ScheduleLag, Errors, Answered; Skipped: the second it
 * was skipped), so a 60 s slice is 60 points on a 1-second graph, not one spike at its end.
 * Answered is summed over the operations of a target. Message metrics (QueueDwell, Messages) are
 * per message, not per statement, and keep the invocation's end: a message's outcome is known
 * only then. A series without per-second data (built by hand) is published whole at the end.
 */
export function toDatums(m: InvocationMetrics): MetricDatum[] {
  const end = new Date(m.at);
  const out: MetricDatum[] = [];
  // (run, target, server, second) -> successes, over all operations of the target.
  const answered = new Map<string, { runId: string; target: string; server: string; at: Date; n: number }>();
  const answer = (runId: string, target: string, server: string, at: Date, n: number): void => {
    if (!n) return;
    const key = `${runId}\u0000${target}\u0000${server}\u0000${at.getTime()}`;
    const a = answered.get(key);
    if (a) a.n += n;
    else answered.set(key, { runId, target, server, at, n });
  };
  for (const s of m.series) {
    const dims = { RunId: s.runId, Operation: s.op, Target: s.target };
    if (!s.bySecond) {
      if (s.latency.count) out.push(...histogramDatums(METRIC.latency, s.latency, dims, end));
      if (s.lag.count) out.push(...histogramDatums(METRIC.scheduleLag, s.lag, dims, end));
      for (const [cls, n] of s.errors) out.push(countDatum(METRIC.errors, n, { ...dims, ErrorClass: cls }, end));
      if (s.skipped) out.push(countDatum(METRIC.skipped, s.skipped, dims, end));
      for (const [server, n] of s.answeredBy) answer(s.runId, s.target, server, end, n);
      continue;
    }
    let skipped = 0;
    for (const sec of [...s.bySecond.keys()].sort((a, b) => a - b)) {
      const b = s.bySecond.get(sec)!;
      const at = new Date(sec * 1000);
      if (b.latency.count) out.push(...histogramDatums(METRIC.latency, b.latency, dims, at));
      if (b.lag.count) out.push(...histogramDatums(METRIC.scheduleLag, b.lag, dims, at));
      for (const [cls, n] of b.errors) out.push(countDatum(METRIC.errors, n, { ...dims, ErrorClass: cls }, at));
      if (b.skipped) out.push(countDatum(METRIC.skipped, b.skipped, dims, at));
      for (const server of ['primary', 'standby'] as const) answer(s.runId, s.target, server, at, b.answeredBy[server]);
      skipped += b.skipped;
    }
    // Skips counted straight into `skipped` (no second known) still count, at the end.
    if (s.skipped > skipped) out.push(countDatum(METRIC.skipped, s.skipped - skipped, dims, end));
  }
  for (const a of answered.values()) out.push(countDatum(METRIC.answered, a.n, { RunId: a.runId, Target: a.target, Server: a.server }, a.at));
  for (const f of m.messages) {
    if (f.dwell.count) out.push(...histogramDatums(METRIC.queueDwell, f.dwell, { RunId: f.runId }, end));
    for (const outcome of ['ok', 'failed', 'invalid'] as const) {
      if (f[outcome]) out.push(countDatum(METRIC.messages, f[outcome], { RunId: f.runId, Outcome: outcome }, end));
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
 */
export function toRequests(namespace: string, datums: MetricDatum[]): PutMetricDataCommandInput[] {
  const sized = datums.map((d, i) => ({ d, i, size: sizeOf(d) }));
  const bins: Array<{ items: typeof sized; bytes: number }> = [];
  for (const x of [...sized].sort((a, b) => b.size - a.size || a.i - b.i)) {
    let bin = bins.find((b) => b.items.length < MAX_DATUMS_PER_REQUEST && b.bytes + x.size <= MAX_REQUEST_BYTES);
    if (!bin) bins.push((bin = { items: [], bytes: 0 }));
    bin.items.push(x);
    bin.bytes += x.size;
  }
  return bins.map((b) => ({ Namespace: namespace, MetricData: b.items.sort((p, q) => p.i - q.i).map((x) => x.d) }));
}

/**
 * Publishes each invocation's metrics with as few PutMetricData calls as the limits allow (usually
 * one; a long slice of several operations may need a few), never one per statement.
 */
export class CloudWatchSink implements MetricsSink {
  constructor(private readonly namespace: string, private readonly client: CloudWatchClient = new CloudWatchClient({ ...AWS_CLIENT_CONFIG })) {}

  async publish(metrics: InvocationMetrics): Promise<void> {
    for (const input of toRequests(this.namespace, toDatums(metrics))) {
      await this.client.send(new PutMetricDataCommand(input));
    }
  }
}
