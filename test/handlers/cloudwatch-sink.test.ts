import { expect } from 'chai';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudWatchClient, PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import {
  CloudWatchSink, MAX_ATTEMPTS, PublishError, MAX_DATUMS_PER_REQUEST, MAX_REQUEST_BYTES, MAX_VALUES_PER_DATUM, MIN_ATTEMPT_MS, toDatums, toRequests,
} from '../../handlers/metrics/cloudwatch-sink';
import { FakeClock } from '../trigger/helpers/fake-clock';
import { DIMENSION, METRIC } from '../../handlers/contract';
import { Collector, recordError, recordMarkerLost, recordSkip, recordStaleness, recordSuccess } from '../../handlers/metrics/collector';
import type { InvocationMetrics } from '../../handlers/metrics/types';

/** A whole second, epoch ms, so statement times below fall in known seconds. */
const T0 = 1_800_000_000_000;

function invocation(statements: number) {
  const c = new Collector();
  const s = c.op('run-1', 'seed', 'select', 'reader');
  // One statement per millisecond: 5000 statements span 5 seconds, 0.5 to 1.5 ms (about 56 buckets a second).
  for (let i = 0; i < statements; i++) recordSuccess(s, 0.5 + (i % 100) * 0.01, 'standby', T0 + i);
  recordError(s, '08', T0 + 10);
  recordError(s, '08', T0 + 20);
  c.run('run-1').dwell.record(12);
  c.run('run-1').ok = 3;
  return c.finish(T0 + 60_000);
}

/** A slice of `seconds` s: `rate` statements/s, 4 selects on the reader to 1 insert on the writer. */
function slice(rate: number, seconds: number): InvocationMetrics {
  let seed = 7;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const logNormal = (median: number, sigma: number): number => median * Math.exp(sigma * Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd()));
  const c = new Collector();
  const select = c.op('run-1', 'seed', 'select', 'reader');
  const insert = c.op('run-1', 'seed', 'insert', 'writer');
  for (let i = 0; i < rate * seconds; i++) {
    const write = i % 5 === 0;
    recordSuccess(write ? insert : select, logNormal(write ? 3 : 1.2, 0.6), write ? 'primary' : 'standby', T0 + (i * 1000) / rate, logNormal(0.05, 1.2));
  }
  c.run('run-1').dwell.record(30);
  c.run('run-1').ok = 1;
  return c.finish(T0 + seconds * 1000);
}

const named = (datums: MetricDatum[], name: string): MetricDatum[] => datums.filter((d) => d.MetricName === name);
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const timestamps = (datums: MetricDatum[]): number[] => [...new Set(datums.map((d) => (d.Timestamp as Date).getTime()))].sort((a, b) => a - b);
const dim = (d: MetricDatum, name: string): string | undefined => d.Dimensions!.find((x) => x.Name === name)?.Value;
const bytes = (d: MetricDatum): number => JSON.stringify(d).length + 64;
/** One metric (name, dimensions) at one timestamp. */
const key = (d: MetricDatum): string => `${d.MetricName}|${JSON.stringify(d.Dimensions)}|${(d.Timestamp as Date).getTime()}`;

describe('metrics: CloudWatch sink', () => {
  it('publishes one invocation with a single PutMetricData call carrying Values/Counts, not one per statement', async () => {
    const cw = mockClient(CloudWatchClient);
    cw.on(PutMetricDataCommand).resolves({});
    await new CloudWatchSink('Test', new CloudWatchClient({ region: 'us-east-1' })).publish(invocation(5000));
    expect(cw.commandCalls(PutMetricDataCommand)).to.have.length(1);
    const input = cw.commandCalls(PutMetricDataCommand)[0]!.args[0].input;
    const latency = named(input.MetricData!, METRIC.latency);
    expect(sum(latency.flatMap((d) => d.Counts!))).to.equal(5000);
    expect(latency.every((d) => d.Values!.length <= MAX_VALUES_PER_DATUM && d.StorageResolution === 1)).to.equal(true);
    cw.restore();
  });

  it('gives a 3-second invocation Latency datums with 3 distinct timestamps, one per second, whose counts add up', () => {
    const c = new Collector();
    const s = c.op('run-1', 'seed', 'select', 'reader');
    const finishedAt = [T0 + 100, T0 + 900, T0 + 1_000, T0 + 1_500, T0 + 1_999, T0 + 2_001];
    for (const at of finishedAt) recordSuccess(s, 2, 'standby', at);
    const latency = named(toDatums(c.finish(T0 + 2_500)), METRIC.latency);
    expect(timestamps(latency)).to.deep.equal([T0, T0 + 1_000, T0 + 2_000]);
    const countAt = (t: number): number => sum(latency.filter((d) => (d.Timestamp as Date).getTime() === t).flatMap((d) => d.Counts!));
    expect([countAt(T0), countAt(T0 + 1_000), countAt(T0 + 2_000)]).to.deep.equal([2, 3, 1]);
  });

  it('files schedule lag under the second the statement finished, succeeded or failed', () => {
    const c = new Collector();
    const s = c.op('run-1', 'seed', 'insert', 'writer');
    recordSuccess(s, 3, 'primary', T0 + 500, 0.2);
    recordError(s, '57', T0 + 1_500, 0.4);
    recordSuccess(s, 3, 'primary', T0 + 1_600, 0.6);
    const lag = named(toDatums(c.finish(T0 + 2_000)), METRIC.scheduleLag);
    expect(lag.map((d) => [(d.Timestamp as Date).getTime(), sum(d.Counts!)])).to.deep.equal([[T0, 1], [T0 + 1_000, 2]]);
    expect(lag.every((d) => d.StorageResolution === 1 && d.Unit === 'Milliseconds')).to.equal(true);
  });

  it('counts errors per error class and second', () => {
    const c = new Collector();
    const s = c.op('run-1', 'seed', 'insert', 'writer');
    recordError(s, '08', T0 + 10);
    recordError(s, '08', T0 + 20);
    recordError(s, '57', T0 + 30);
    recordError(s, '08', T0 + 1_010);
    const errors = named(toDatums(c.finish(T0 + 2_000)), METRIC.errors);
    expect(errors.map((d) => [(d.Timestamp as Date).getTime(), dim(d, DIMENSION.errorClass), d.Value])).to.deep.equal([
      [T0, '08', 2], [T0, '57', 1], [T0 + 1_000, '08', 1],
    ]);
    expect(errors.every((d) => dim(d, DIMENSION.operation) === 'insert' && dim(d, DIMENSION.target) === 'writer')).to.equal(true);
  });

  it('publishes a SQLSTATE class outside the bounded set as "other", so the report can ask for it by name', () => {
    const c = new Collector();
    recordError(c.op('run-1', 'seed', 'insert', 'writer'), 'P0', T0 + 10);
    recordError(c.op('run-1', 'seed', 'insert', 'writer'), '23', T0 + 20);
    const errors = named(toDatums(c.finish(T0 + 1_000)), METRIC.errors);
    expect(errors.map((d) => dim(d, DIMENSION.errorClass))).to.deep.equal(['other', '23']);
  });

  it('counts who answered per operation, target, server and second', () => {
    const c = new Collector();
    recordSuccess(c.op('run-1', 'tpcb', 'tpcb', 'writer'), 2, 'primary', T0 + 10);
    recordSuccess(c.op('run-1', 'tpcb', 'select-only', 'writer'), 1, 'primary', T0 + 20);
    recordSuccess(c.op('run-1', 'tpcb', 'select-only', 'writer'), 1, 'primary', T0 + 1_020);
    const answered = named(toDatums(c.finish(T0 + 2_000)), METRIC.answered);
    expect(answered.map((d) => [(d.Timestamp as Date).getTime(), dim(d, DIMENSION.operation), dim(d, DIMENSION.server), d.Value])).to.deep.equal([
      [T0, 'tpcb', 'primary', 1], [T0, 'select-only', 'primary', 1], [T0 + 1_000, 'select-only', 'primary', 1],
    ]);
  });

  it('counts skipped statements per second they were skipped', () => {
    const c = new Collector();
    const s = c.op('run-1', 'seed', 'select', 'reader');
    recordSkip(s, T0 + 100);
    recordSkip(s, T0 + 200);
    recordSkip(s, T0 + 3_100);
    const skipped = named(toDatums(c.finish(T0 + 4_000)), METRIC.skipped);
    expect(skipped.map((d) => [(d.Timestamp as Date).getTime(), d.Value])).to.deep.equal([[T0, 2], [T0 + 3_000, 1]]);
  });

  it('keeps the invocation end as the timestamp of QueueDwell and Messages', () => {
    const datums = toDatums(invocation(3));
    const perMessage = datums.filter((d) => d.MetricName === METRIC.queueDwell || d.MetricName === METRIC.messages);
    expect(perMessage.map((d) => d.MetricName)).to.deep.equal([METRIC.queueDwell, METRIC.messages]);
    expect(timestamps(perMessage)).to.deep.equal([T0 + 60_000]);
  });

  it('sends bucket values rounded to 6 significant digits, each still the centre of its 2% bucket', () => {
    const c = new Collector();
    const s = c.op('run-1', 'seed', 'select', 'reader');
    for (let i = 0; i < 100; i++) recordSuccess(s, 0.1 * 1.05 ** i, 'standby', T0);
    const [latency] = named(toDatums(c.finish(T0 + 1_000)), METRIC.latency);
    const exact = s.seconds.get(T0 / 1000)!.latency.toData().values;
    expect(latency!.Values!.every((v, i) => String(v).replace(/^0\.0*|\./g, '').length <= 6 && Math.abs(v - exact[i]!) / exact[i]! < 1e-5)).to.equal(true);
  });

  it('fits a 60 s slice of 2 operations at 1,000 statements/s in as few requests as its most spread second needs, every statement counted under one of its 60 seconds', () => {
    const datums = toDatums(slice(1_000, 60));
    const requests = toRequests('Test', datums);
    // A second whose histogram has more than 150 buckets needs one request per 150 of them.
    const perKey = new Map<string, number>();
    for (const d of datums) perKey.set(key(d), (perKey.get(key(d)) ?? 0) + 1);
    expect(requests).to.have.length(Math.max(...perKey.values()));
    expect(requests.length).to.be.at.most(2);
    expect(named(datums, METRIC.latency).length).to.be.within(120, 240);
    expect(timestamps(named(datums, METRIC.latency))).to.have.length(60);
    expect(named(datums, METRIC.answered)).to.have.length(120);
    expect(sum(named(datums, METRIC.latency).flatMap((d) => d.Counts!))).to.equal(60_000);
    expect(sum(named(datums, METRIC.scheduleLag).flatMap((d) => d.Counts!))).to.equal(60_000);
  });

  it('splits a 14-minute slice into the fewest requests the datum and size limits allow, each within them', () => {
    const datums = toDatums(slice(100, 840));
    const requests = toRequests('Test', datums);
    const fewest = Math.max(Math.ceil(datums.length / MAX_DATUMS_PER_REQUEST), Math.ceil(sum(datums.map(bytes)) / MAX_REQUEST_BYTES));
    expect(requests).to.have.length(fewest);
    for (const r of requests) {
      expect(r.MetricData!.length).to.be.at.most(MAX_DATUMS_PER_REQUEST);
      expect(sum(r.MetricData!.map(bytes))).to.be.at.most(MAX_REQUEST_BYTES);
    }
    expect(sum(requests.map((r) => r.MetricData!.length))).to.equal(datums.length);
  });

  it('splits into as few requests as the 1,000-datum limit allows', () => {
    const datums = Array.from({ length: 2500 }, (_, i) => ({ MetricName: METRIC.errors, Value: i, Timestamp: new Date(T0 + i * 1000) }));
    const requests = toRequests('Test', datums);
    expect(requests.map((r) => r.MetricData!.length)).to.deep.equal([MAX_DATUMS_PER_REQUEST, MAX_DATUMS_PER_REQUEST, 500]);
  });

  it('puts the Messages datums in the last request, after every statement datum of the invocation', () => {
    const datums = toDatums(slice(100, 840));
    const requests = toRequests('Test', datums);
    expect(requests.length).to.be.greaterThan(1);
    const withMessages = requests.map((r, i) => (r.MetricData!.some((d) => d.MetricName === METRIC.messages) ? i : -1)).filter((i) => i >= 0);
    expect(withMessages).to.deep.equal([requests.length - 1]);
  });

  it('puts the Messages datums in the last request even where an earlier one has room left', () => {
    // 600 full histogram datums (about 2 KB each, each second its own) fill a first request by size, leaving room for a small datum.
    const big = (i: number): MetricDatum => ({ MetricName: METRIC.latency, Timestamp: new Date(T0 + i * 1000), Values: Array.from({ length: MAX_VALUES_PER_DATUM }, (_, k) => 1000.123 + k + i), Counts: Array.from({ length: MAX_VALUES_PER_DATUM }, () => 1000) });
    const messages: MetricDatum = { MetricName: METRIC.messages, Value: 1, Dimensions: [{ Name: DIMENSION.runId, Value: 'run-1' }] };
    const requests = toRequests('Test', [...Array.from({ length: 600 }, (_, i) => big(i)), messages]);
    expect(requests).to.have.length(2);
    expect(MAX_REQUEST_BYTES - sum(requests[0]!.MetricData!.map(bytes)), 'room left in the first request').to.be.greaterThan(bytes(messages));
    expect(requests.map((r) => r.MetricData!.filter((d) => d.MetricName === METRIC.messages).length)).to.deep.equal([0, 1]);
  });

  it('records each statement once, in the second it finished: successes, failures with their lag, skips', () => {
    const c = new Collector();
    const s = c.op('run-1', 'seed', 'select', 'reader');
    recordSuccess(s, 2, 'standby', T0 + 100, 0.5);
    recordError(s, '08', T0 + 1_100, 0.7);
    recordSuccess(s, 4, 'standby', T0 + 1_900, 0.9);
    recordSkip(s, T0 + 2_500);
    const at = (sec: number) => {
      const b = s.seconds.get(T0 / 1000 + sec)!;
      return { ok: b.latency.count, lag: b.lag.count, errors: Object.fromEntries(b.errors), standby: b.answeredBy.standby, skipped: b.skipped };
    };
    expect([at(0), at(1), at(2)]).to.deep.equal([
      { ok: 1, lag: 1, errors: {}, standby: 1, skipped: 0 },
      { ok: 1, lag: 2, errors: { '08': 1 }, standby: 1, skipped: 0 },
      { ok: 0, lag: 0, errors: {}, standby: 0, skipped: 1 },
    ]);
  });

  it('never sends more than 150 values of one metric and second in one request: a histogram with more buckets spreads over requests', () => {
    const c = new Collector();
    const s = c.op('run-1', 'seed', 'select', 'reader');
    // 400 distinct 2% buckets in one second: three Latency datums (150, 150, 100 values) of the same metric and second.
    for (let i = 0; i < 400; i++) recordSuccess(s, 0.1 * 1.02 ** i, 'standby', T0 + 1);
    const datums = toDatums(c.finish(T0 + 1_000));
    expect(named(datums, METRIC.latency).map((d) => d.Values!.length)).to.deep.equal([150, 150, 100]);
    const requests = toRequests('Test', datums);
    expect(requests).to.have.length(3);
    for (const r of requests) {
      const perKey = new Map<string, number>();
      for (const d of r.MetricData!) perKey.set(key(d), (perKey.get(key(d)) ?? 0) + (d.Values?.length ?? 1));
      expect(Math.max(...perKey.values())).to.be.at.most(MAX_VALUES_PER_DATUM);
    }
    expect(sum(requests.flatMap((r) => named(r.MetricData!, METRIC.latency).flatMap((d) => d.Counts!)))).to.equal(400);
  });

  describe('when CloudWatch throttles or does not answer', () => {
    const throttled = (): Error => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    let cw: ReturnType<typeof mockClient>;
    let clock: FakeClock;
    let sink: CloudWatchSink;
    beforeEach(() => {
      cw = mockClient(CloudWatchClient);
      clock = new FakeClock(T0);
      sink = new CloudWatchSink('Test', new CloudWatchClient({ region: 'us-east-1' }), { clock, random: () => 0.5 });
    });
    afterEach(() => cw.restore());

    it('sends a throttled request again with growing backoff until it is accepted: the metrics arrive', async () => {
      let calls = 0;
      const at: number[] = [];
      cw.on(PutMetricDataCommand).callsFake(() => {
        at.push(clock.now());
        if (++calls <= 4) throw throttled();
        return {};
      });
      await sink.publish(invocation(100), { by: T0 + 15_000 });
      expect(calls).to.equal(5);
      const waits = at.slice(1).map((t, i) => t - at[i]!);
      expect(waits).to.deep.equal([100, 200, 400, 800]);
      const accepted = cw.commandCalls(PutMetricDataCommand).at(-1)!.args[0].input;
      expect(sum(named(accepted.MetricData!, METRIC.latency).flatMap((d) => d.Counts!))).to.equal(100);
    });

    it('gives up before the invocation\'s deadline when CloudWatch keeps throttling, no attempt started too late', async () => {
      const at: number[] = [];
      cw.on(PutMetricDataCommand).callsFake(() => {
        at.push(clock.now());
        throw throttled();
      });
      const by = T0 + 3_000;
      const err = await sink.publish(invocation(10), { by }).then(() => undefined, (e: unknown) => e as Error);
      expect(err?.message).to.match(/^PutMetricData failed after \d+ attempt\(s\), out of time before the invocation's deadline: ThrottlingException: Rate exceeded$/);
      expect(at.length).to.be.greaterThan(1);
      expect(Math.max(...at)).to.be.at.most(by - MIN_ATTEMPT_MS);
      expect(clock.now()).to.be.at.most(by);
    });

    it('cuts off an attempt that gets no answer at the invocation\'s deadline', async () => {
      cw.on(PutMetricDataCommand).callsFake(() => new Promise(() => undefined));
      const by = T0 + 14_000;
      const err = await sink.publish(invocation(10), { by }).then(() => undefined, (e: unknown) => e as Error);
      expect(err?.name).to.equal('PublishError');
      expect(clock.now()).to.equal(by);
    });

    it('does not send again what CloudWatch refused for good (no permission)', async () => {
      cw.on(PutMetricDataCommand).rejects(Object.assign(new Error('not authorized to perform: cloudwatch:PutMetricData'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
      const err = await sink.publish(invocation(10), { by: T0 + 15_000 }).then(() => undefined, (e: unknown) => e as Error);
      expect(err?.message).to.equal('PutMetricData failed after 1 attempt(s): AccessDenied: not authorized to perform: cloudwatch:PutMetricData');
      expect(cw.commandCalls(PutMetricDataCommand)).to.have.length(1);
    });

    it('never sends again a request CloudWatch may have stored (a request timeout): its datums are not counted twice', async () => {
      cw.on(PutMetricDataCommand).rejects(Object.assign(new Error('@smithy/node-http-handler - [ERROR] a request has exceeded the configured 5000 ms requestTimeout.'), { name: 'TimeoutError', code: 'ETIMEDOUT' }));
      const err = await sink.publish(invocation(10), { by: T0 + 15_000 }).then(() => undefined, (e: unknown) => e as PublishError);
      expect(cw.commandCalls(PutMetricDataCommand)).to.have.length(1);
      expect(err?.message).to.match(/^PutMetricData failed after 1 attempt\(s\), not sent again: CloudWatch may have stored it: TimeoutError/);
      expect(err?.nothingStored).to.equal(false);
    });

    it('sends again a request whose connection was never made: CloudWatch cannot have it', async () => {
      let calls = 0;
      cw.on(PutMetricDataCommand).callsFake(() => {
        if (++calls === 1) throw Object.assign(new Error('@smithy/node-http-handler - the request socket did not establish a connection with the server within the configured timeout of 3000 ms.'), { name: 'TimeoutError' });
        return {};
      });
      await sink.publish(invocation(10), { by: T0 + 15_000 });
      expect(calls).to.equal(2);
    });

    it('stops after its most attempts even with time left', async () => {
      cw.on(PutMetricDataCommand).callsFake(() => { throw throttled(); });
      const err = await sink.publish(invocation(10), { by: T0 + 3_600_000 }).then(() => undefined, (e: unknown) => e as Error);
      expect(err?.message).to.match(new RegExp(`^PutMetricData failed after ${MAX_ATTEMPTS} attempt\\(s\\): ThrottlingException`));
    });
  });

  it('publishes the staleness probe\'s markers per second they ended: seen with their staleness, unseen, failed', () => {
    const c = new Collector();
    const p = c.staleness('run-1');
    recordStaleness(p, 4, T0 + 2_500);
    recordStaleness(p, 6, T0 + 2_900);
    recordMarkerLost(p, 'unseen', T0 + 1_100);
    recordMarkerLost(p, 'failed', T0 + 2_100);
    recordMarkerLost(p, 'failed', T0 + 2_200);
    const datums = toDatums(c.finish(T0 + 5_000));
    const markers = named(datums, METRIC.markers).map((d) => [(d.Timestamp as Date).getTime() - T0, dim(d, DIMENSION.outcome), d.Value]);
    expect(markers).to.deep.equal([[1_000, 'unseen', 1], [2_000, 'seen', 2], [2_000, 'failed', 2]]);
    const staleness = named(datums, METRIC.staleness);
    expect(staleness.map((d) => [(d.Timestamp as Date).getTime() - T0, sum(d.Counts!), dim(d, DIMENSION.runId)])).to.deep.equal([[2_000, 2, 'run-1']]);
    expect(staleness[0]!.Values!.map(Math.round)).to.deep.equal([4, 6]);
  });

  it('keeps one probe series per run in an invocation, whichever message of the run asks for it', () => {
    const c = new Collector();
    recordStaleness(c.staleness('run-1'), 4, T0 + 100);
    recordStaleness(c.staleness('run-1'), 6, T0 + 200);
    const markers = named(toDatums(c.finish(T0 + 1_000)), METRIC.markers);
    expect(markers.map((d) => [dim(d, DIMENSION.outcome), d.Value])).to.deep.equal([['seen', 2]]);
  });

  it('publishes how far the sender\'s clock was ahead, in ms, only when it was', () => {
    const c = new Collector();
    c.run('run-1').senderAheadMs = 2_500;
    c.run('run-2').senderAheadMs = 0;
    const ahead = named(toDatums(c.finish(T0 + 5_000)), METRIC.senderClockAhead);
    expect(ahead.map((d) => [dim(d, DIMENSION.runId), d.Value, d.Unit, (d.Timestamp as Date).getTime()])).to.deep.equal([['run-1', 2_500, 'Milliseconds', T0 + 5_000]]);
  });

  it('publishes nothing it did not measure: no empty latency, lag, skip or dwell datums', () => {
    const c = new Collector();
    const s = c.op('run-1', 'seed', 'select', 'reader');
    recordError(s, '08', T0 + 100);
    recordSuccess(s, 2, 'standby', T0 + 1_100);
    c.run('run-1').ok = 1;
    const datums = toDatums(c.finish(T0 + 5_000));
    expect(datums.map((d) => [d.MetricName, (d.Timestamp as Date).getTime() - T0])).to.deep.equal([
      [METRIC.errors, 0], [METRIC.latency, 1_000], [METRIC.answered, 1_000], [METRIC.messages, 5_000],
    ]);
    expect(named(datums, METRIC.errors)[0]).to.deep.include({ Unit: 'Count', Value: 1 });
  });

  it('sends a histogram of exactly 150 distinct values as one datum, and of 151 as two', () => {
    const of = (n: number): MetricDatum[] => {
      const c = new Collector();
      const s = c.op('run-1', 'seed', 'select', 'reader');
      // Each value 3% above the last: one 2% bucket each.
      for (let i = 0; i < n; i++) recordSuccess(s, 1.03 ** i, 'standby', T0);
      return named(toDatums(c.finish(T0 + 1_000)), METRIC.latency);
    };
    expect(of(MAX_VALUES_PER_DATUM).map((d) => d.Values!.length)).to.deep.equal([MAX_VALUES_PER_DATUM]);
    expect(of(MAX_VALUES_PER_DATUM + 1).map((d) => d.Values!.length)).to.deep.equal([MAX_VALUES_PER_DATUM, 1]);
  });
});
