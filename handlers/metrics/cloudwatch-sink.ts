import { CloudWatchClient, PutMetricDataCommand, type MetricDatum, type PutMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
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

/** Datums for a histogram: its bucket values and counts, 150 to a datum. */
function histogramDatums(name: string, h: Histogram, dims: Dims, at: Date): MetricDatum[] {
  const { values, counts } = h.toData();
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

/** All datums for one invocation, in a stable order. */
export function toDatums(m: InvocationMetrics): MetricDatum[] {
  const at = new Date(m.at);
  const out: MetricDatum[] = [];
  for (const s of m.series) {
    const dims = { RunId: s.runId, Operation: s.op, Target: s.target };
    if (s.latency.count) out.push(...histogramDatums(METRIC.latency, s.latency, dims, at));
    if (s.lag.count) out.push(...histogramDatums(METRIC.scheduleLag, s.lag, dims, at));
    for (const [cls, n] of s.errors) out.push(countDatum(METRIC.errors, n, { ...dims, ErrorClass: cls }, at));
    if (s.skipped) out.push(countDatum(METRIC.skipped, s.skipped, dims, at));
    for (const [server, n] of s.answeredBy) out.push(countDatum(METRIC.answered, n, { RunId: s.runId, Target: s.target, Server: server }, at));
  }
  for (const f of m.messages) {
    if (f.dwell.count) out.push(...histogramDatums(METRIC.queueDwell, f.dwell, { RunId: f.runId }, at));
    for (const outcome of ['ok', 'failed', 'invalid'] as const) {
      if (f[outcome]) out.push(countDatum(METRIC.messages, f[outcome], { RunId: f.runId, Outcome: outcome }, at));
    }
  }
  return out;
}

/** Split datums into as few PutMetricData requests as the API's count and size limits allow. */
export function toRequests(namespace: string, datums: MetricDatum[]): PutMetricDataCommandInput[] {
  const requests: PutMetricDataCommandInput[] = [];
  let batch: MetricDatum[] = [];
  let bytes = 0;
  for (const d of datums) {
    // JSON length overestimates the query-protocol size of a datum a little: a safe bound.
    const size = JSON.stringify(d).length + 64;
    if (batch.length && (batch.length === MAX_DATUMS_PER_REQUEST || bytes + size > MAX_REQUEST_BYTES)) {
      requests.push({ Namespace: namespace, MetricData: batch });
      batch = [];
      bytes = 0;
    }
    batch.push(d);
    bytes += size;
  }
  if (batch.length) requests.push({ Namespace: namespace, MetricData: batch });
  return requests;
}

/** Publishes each invocation's metrics with as few PutMetricData calls as the limits allow (usually one). */
export class CloudWatchSink implements MetricsSink {
  constructor(private readonly namespace: string, private readonly client: CloudWatchClient = new CloudWatchClient({})) {}

  async publish(metrics: InvocationMetrics): Promise<void> {
    for (const input of toRequests(this.namespace, toDatums(metrics))) {
      await this.client.send(new PutMetricDataCommand(input));
    }
  }
}
