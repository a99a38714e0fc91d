import { expect } from 'chai';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { DIMENSION, ERROR_CLASS_NAMES, MESSAGE_OUTCOMES, METRIC } from '../../handlers/contract';
import { toDatums } from '../../handlers/metrics/cloudwatch-sink';
import { Collector, recordError, recordSkip, recordSuccess } from '../../handlers/metrics/collector';
import type { InvocationMetrics } from '../../handlers/metrics/types';
import { readMeasured, readMessageOutcomes, stepSecondsFor } from '../../trigger/aws/run-metrics';
import { measureInvocations } from '../../trigger/report/timeline';
import { FakeCloudWatch } from './helpers/fake-cloudwatch';

const NS = 'AuroraLoadTest';
/** A whole second, epoch ms. */
const T0 = 1_800_000_000_000;
const OPS = [{ op: 'insert', target: 'writer' as const }, { op: 'select', target: 'reader' as const }];

/**
 * One invocation of a 3-second slice of run-cw: 100 selects/s on the standby, 20 inserts/s on
 * the primary; in the second second the writer fails 8 inserts (08: 5, 57: 2, and one P0, which
 * is published as "other"); 3 selects skipped; one message done, received 40 ms after it was sent.
 */
function invocation(): InvocationMetrics {
  const c = new Collector();
  const select = c.op('run-cw', 'seed', 'select', 'reader');
  const insert = c.op('run-cw', 'seed', 'insert', 'writer');
  for (let sec = 0; sec < 3; sec++) {
    for (let i = 0; i < 100; i++) recordSuccess(select, 1 + i / 50, 'standby', T0 + sec * 1000 + i * 10, 0.2);
    for (let i = 0; i < 20; i++) {
      const at = T0 + sec * 1000 + i * 50;
      if (sec === 1 && i < 8) recordError(insert, i < 5 ? '08' : i < 7 ? '57' : 'P0', at, 0.3);
      else recordSuccess(insert, 3 + i / 10, 'primary', at, 0.3);
    }
  }
  for (let i = 0; i < 3; i++) recordSkip(select, T0 + 2_500);
  c.run('run-cw').dwell.record(40);
  c.run('run-cw').ok = 1;
  return c.finish(T0 + 3_200);
}

describe('trigger: a run read back from CloudWatch', () => {
  const cwMock = mockClient(CloudWatchClient);
  const cw = new CloudWatchClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  let fake: FakeCloudWatch;
  const window = { namespace: NS, runId: 'run-cw', startMs: T0, endMs: T0 + 4_000 };
  const now = T0 + 60_000;

  beforeEach(() => {
    cwMock.reset();
    fake = new FakeCloudWatch();
    fake.put(NS, toDatums(invocation()));
    // ListMetrics lags new metrics by up to 15 minutes: for a fresh run it lists nothing.
    cwMock.on(ListMetricsCommand).resolves({ Metrics: [] });
    cwMock.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => fake.getMetricData(input));
  });
  after(() => cwMock.restore());

  it('counts every error of a run that ListMetrics does not list yet, by class, without asking ListMetrics', async () => {
    const { timeline } = await readMeasured(cw, window, OPS, now);
    const insert = timeline.series.find((s) => s.op === 'insert')!;
    const totals = Object.fromEntries(Object.entries(insert.errors).map(([cls, n]) => [cls, n.reduce((a, b) => a + b, 0)]));
    expect(totals).to.deep.equal({ '08': 5, '57': 2, other: 1 });
    expect(cwMock.commandCalls(ListMetricsCommand)).to.have.length(0);
  });

  it('asks for every error class of the contract by name, for each operation of the run', async () => {
    await readMeasured(cw, window, OPS, now);
    const asked = cwMock.commandCalls(GetMetricDataCommand).flatMap((c) => c.args[0].input.MetricDataQueries!)
      .filter((q) => q.MetricStat!.Metric!.MetricName === METRIC.errors)
      .map((q) => Object.fromEntries(q.MetricStat!.Metric!.Dimensions!.map((d) => [d.Name!, d.Value!])));
    for (const { op, target } of OPS) {
      const classes = asked.filter((d) => d[DIMENSION.operation] === op && d[DIMENSION.target] === target).map((d) => d[DIMENSION.errorClass]);
      expect(classes.sort()).to.deep.equal([...ERROR_CLASS_NAMES].sort());
    }
  });

  it('reads the same timeline the local engine builds from the same invocations: counts per second, who answered, message outcomes', async () => {
    const { timeline: aws } = await readMeasured(cw, window, OPS, now);
    const { timeline: local } = measureInvocations([invocation()], 'run-cw', window.startMs, window.endMs);
    expect(aws.startMs).to.equal(local.startMs);
    const counts = (t: typeof aws) => t.series.map((s) => ({
      op: s.op, target: s.target, ok: s.ok.slice(0, 4), skipped: s.skipped.slice(0, 4), errors: Object.fromEntries(Object.entries(s.errors).map(([c, n]) => [c, n.slice(0, 4)])),
      primary: s.answeredBy.primary.slice(0, 4), standby: s.answeredBy.standby.slice(0, 4), lagCounts: s.scheduleLag.slice(0, 4).map((x) => x?.[0] ?? 0),
    }));
    expect(counts(aws)).to.deep.equal(counts(local));
    expect(aws.messages.ok.slice(0, 4)).to.deep.equal(local.messages.ok.slice(0, 4));
    // Percentiles of the same 2% buckets: within the histogram's 1% precision.
    const p99 = (t: typeof aws) => t.series.find((s) => s.op === 'select')!.latency[0]![3];
    expect(p99(aws)).to.be.closeTo(p99(local), p99(local) * 0.01);
  });

  it('reads the whole-run distributions in one period spanning the run: every operation\'s latency percentiles', async () => {
    const { distributions } = await readMeasured(cw, window, OPS, now);
    const select = distributions.series.find((d) => d.op === 'select')!;
    expect(select.latency).to.include({ count: 300, stddev: null });
    expect(select.latency!.p50).to.be.closeTo(2, 0.05);
    expect(distributions.dwell!.count).to.equal(1);
    expect(distributions.dwell!.max).to.be.closeTo(40, 0.4);
    const periods = new Set(cwMock.commandCalls(GetMetricDataCommand).flatMap((c) => c.args[0].input.MetricDataQueries!)
      .filter((q) => q.MetricStat!.Stat === 'Average').map((q) => q.MetricStat!.Period));
    expect([...periods]).to.deep.equal([60]);
  });

  it('reads a recent run at 1-second steps, and a run older than CloudWatch keeps them for (3 hours) at 1-minute steps', async () => {
    expect((await readMeasured(cw, window, OPS, now)).timeline.stepSeconds).to.equal(1);
    expect(stepSecondsFor(T0, T0 + 4 * 3_600_000)).to.equal(60);
    expect(stepSecondsFor(T0, T0 + 20 * 86_400_000)).to.equal(300);
    expect(stepSecondsFor(T0, T0 + 70 * 86_400_000)).to.equal(3600);
    const later = await readMeasured(cw, window, OPS, T0 + 4 * 3_600_000);
    expect(later.timeline.stepSeconds).to.equal(60);
    expect(later.timeline.series.find((s) => s.op === 'select')!.ok).to.deep.equal([300]);
  });

  it('adds up datapoints that come over several pages', async () => {
    fake = new FakeCloudWatch(1);
    fake.put(NS, toDatums(invocation()));
    const { timeline } = await readMeasured(cw, window, OPS, now);
    expect(timeline.series.find((s) => s.op === 'select')!.ok.slice(0, 3)).to.deep.equal([100, 100, 100]);
    expect(cwMock.commandCalls(GetMetricDataCommand).length).to.be.greaterThan(2);
  });

  it('reads a run\'s message outcomes with one query per outcome', async () => {
    expect(await readMessageOutcomes(cw, window)).to.deep.equal({ ok: 1, failed: 0, invalid: 0, duplicate: 0, deadLettered: 0 });
    const queries = cwMock.commandCalls(GetMetricDataCommand).flatMap((c) => c.args[0].input.MetricDataQueries!);
    expect(queries.map((q) => q.MetricStat!.Metric!.MetricName)).to.deep.equal(MESSAGE_OUTCOMES.map(() => METRIC.messages));
  });
});
