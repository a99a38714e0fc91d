import { expect } from 'chai';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { FAILOVER_ERROR_CLASSES, queryWindow, readPerSecondFromCloudWatch, readRunFromCloudWatch } from '../../trigger/aws/cloudwatch-report';
import type { RunContext } from '../../trigger/report/summary';

const ctx: RunContext = {
  runId: 'run-cw', workload: 'seed', mode: 'slice', mix: 'select=80%,insert=20%', startedAt: 1_700_000_005_000,
  durationMs: 60_000, interrupted: false, rate: 100, averageRate: 100, plannedStatements: 6000, messagesSent: 1, deadLettered: 3,
};

/** What CloudWatch would answer for a metric/dimensions/stat, for a run of 4800 selects and 1190 inserts. */
function answer(metric: string, dims: Record<string, string>, stat: string): number | undefined {
  const key = `${metric}/${dims.Operation ?? ''}/${dims.Target ?? ''}/${dims.Server ?? dims.Outcome ?? dims.ErrorClass ?? ''}/${stat}`;
  const table: Record<string, number> = {
    'Latency/select/reader//SampleCount': 4800, 'Latency/select/reader//p50': 2.1, 'Latency/select/reader//p90': 3.5,
    'Latency/select/reader//p99': 9.8, 'Latency/select/reader//Maximum': 30.2, 'Latency/select/reader//Average': 2.4,
    'Latency/insert/writer//SampleCount': 1190, 'Latency/insert/writer//p50': 4, 'Latency/insert/writer//p90': 6,
    'Latency/insert/writer//p99': 11, 'Latency/insert/writer//Maximum': 40, 'Latency/insert/writer//Average': 4.4,
    'ScheduleLag/select/reader//SampleCount': 4800, 'ScheduleLag/select/reader//p99': 0.9, 'ScheduleLag/select/reader//Maximum': 5,
    'Errors/insert/writer/08/Sum': 10,
    'Answered//reader/standby/Sum': 4800, 'Answered//writer/primary/Sum': 1190,
    'QueueDwell////SampleCount': 1, 'QueueDwell////p99': 40, 'QueueDwell////Average': 40, 'QueueDwell////Maximum': 40,
    'Messages////Sum': NaN, 'Messages///ok/Sum': 1,
  };
  return table[key];
}

describe('trigger: report from CloudWatch', () => {
  const cwMock = mockClient(CloudWatchClient);
  const cw = new CloudWatchClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  beforeEach(() => {
    cwMock.reset();
    cwMock.on(ListMetricsCommand).resolves({ Metrics: [{ Namespace: 'AuroraLoadTest', MetricName: 'Errors', Dimensions: [
      { Name: 'RunId', Value: 'run-cw' }, { Name: 'Operation', Value: 'insert' }, { Name: 'Target', Value: 'writer' }, { Name: 'ErrorClass', Value: '08' },
    ] }] });
    cwMock.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
      MetricDataResults: input.MetricDataQueries!.map((q) => {
        const m = q.MetricStat!;
        const dims = Object.fromEntries(m.Metric!.Dimensions!.map((d) => [d.Name!, d.Value!]));
        const v = answer(m.Metric!.MetricName!, dims, m.Stat!);
        return { Id: q.Id, Values: v === undefined || Number.isNaN(v) ? [] : [v], Timestamps: [] };
      }),
    }));
  });
  after(() => cwMock.restore());

  it('asks for p50/p90/p99, Maximum, SampleCount and Average of Latency per operation and target, in one high-resolution-aware period', async () => {
    await readRunFromCloudWatch(cw, { namespace: 'AuroraLoadTest', runId: 'run-cw', startMs: 1_700_000_005_000, endMs: 1_700_000_095_000 }, ctx);
    const input = cwMock.commandCalls(GetMetricDataCommand)[0]!.args[0].input;
    const latency = input.MetricDataQueries!.filter((q) => q.MetricStat!.Metric!.MetricName === 'Latency'
      && q.MetricStat!.Metric!.Dimensions!.some((d) => d.Name === 'Operation' && d.Value === 'select')
      && q.MetricStat!.Metric!.Dimensions!.some((d) => d.Name === 'Target' && d.Value === 'reader'));
    expect(latency.map((q) => q.MetricStat!.Stat).sort()).to.deep.equal(['Average', 'Maximum', 'SampleCount', 'p50', 'p90', 'p99']);
    expect(latency[0]!.MetricStat!.Metric!.Dimensions).to.deep.include({ Name: 'RunId', Value: 'run-cw' });
    expect(input.MetricDataQueries!.length).to.be.at.most(500);
    const { period } = queryWindow(1_700_000_005_000, 1_700_000_095_000);
    expect(latency.every((q) => q.MetricStat!.Period === period && period % 60 === 0)).to.equal(true);
    expect(input.StartTime!.getTime() % 60_000).to.equal(0);
  });

  it('builds the same summary a local run has: rows, errors by class, who answered, dwell, messages', async () => {
    const s = await readRunFromCloudWatch(cw, { namespace: 'AuroraLoadTest', runId: 'run-cw', startMs: 1_700_000_005_000, endMs: 1_700_000_095_000 }, ctx);
    expect(s.source).to.equal('cloudwatch');
    expect(s.operations.map((o) => [o.op, o.target, o.ok, o.errors])).to.deep.equal([['select', 'reader', 4800, 0], ['insert', 'writer', 1190, 10]]);
    expect(s.operations[0]!.latency).to.deep.equal({ count: 4800, avg: 2.4, stddev: null, p50: 2.1, p90: 3.5, p99: 9.8, max: 30.2 });
    expect(s.operations[1]!.errorsByClass).to.deep.equal({ '08': 10 });
    expect(s.operations[0]!.answeredBy).to.deep.equal({ primary: 0, standby: 4800 });
    expect(s.achieved.rate).to.be.closeTo(6000 / 60, 1e-9);
    expect(s.messages).to.deep.include({ ok: 1, failed: 0, deadLettered: 3 });
    expect(s.messages.dwell!.p99).to.equal(40);
  });

  it('queries only the errors CloudWatch lists for the run', async () => {
    await readRunFromCloudWatch(cw, { namespace: 'AuroraLoadTest', runId: 'run-cw', startMs: 0, endMs: 60_000 }, ctx);
    const list = cwMock.commandCalls(ListMetricsCommand)[0]!.args[0].input;
    expect(list).to.deep.include({ Namespace: 'AuroraLoadTest', MetricName: 'Errors', Dimensions: [{ Name: 'RunId', Value: 'run-cw' }] });
    const errors = cwMock.commandCalls(GetMetricDataCommand)[0]!.args[0].input.MetricDataQueries!.filter((q) => q.MetricStat!.Metric!.MetricName === 'Errors');
    expect(errors).to.have.length(1);
    expect(errors[0]!.MetricStat!.Stat).to.equal('Sum');
  });
  describe('per second (failover drill)', () => {
    const S = 1_700_000_010; // an epoch second
    const window = { namespace: 'AuroraLoadTest', runId: 'run-cw', startMs: S * 1000 + 250, endMs: S * 1000 + 3_400 };
    /** Datapoints per metric/op/target/class: [second offset, value]. */
    const points: Record<string, Array<[number, number]>> = {
      'Latency/select/reader/': [[0, 80], [1, 79], [2, 80]],
      'Latency/insert/writer/': [[0, 20], [2, 18]],
      'Latency/insert/reader/': [[1, 1]],
      'Errors/insert/writer/08': [[1, 15]],
      'Errors/insert/writer/57': [[1, 5], [2, 1]],
    };
    const fake = (pageSize = Infinity) => (input: GetMetricDataCommandInput) => {
      // Serve each query's datapoints `pageSize` at a time, following NextToken.
      const page = Number(input.NextToken ?? 0);
      const results = input.MetricDataQueries!.map((q) => {
        const m = q.MetricStat!;
        const dims = Object.fromEntries(m.Metric!.Dimensions!.map((d) => [d.Name!, d.Value!]));
        const all = points[`${m.Metric!.MetricName}/${dims.Operation}/${dims.Target}/${dims.ErrorClass ?? ''}`] ?? [];
        const mine = all.slice(page * pageSize, (page + 1) * pageSize);
        return { Id: q.Id, Timestamps: mine.map(([o]) => new Date((S + o) * 1000)), Values: mine.map(([, v]) => v) };
      });
      const more = Object.values(points).some((p) => p.length > (page + 1) * pageSize);
      return { MetricDataResults: results, ...(more ? { NextToken: String(page + 1) } : {}) };
    };

    it('asks at Period 1 over whole seconds: Latency SampleCount per operation and target, Errors Sum per class', async () => {
      cwMock.on(GetMetricDataCommand).callsFake(fake());
      await readPerSecondFromCloudWatch(cw, window, 'seed');
      const input = cwMock.commandCalls(GetMetricDataCommand)[0]!.args[0].input;
      expect([input.StartTime!.getTime(), input.EndTime!.getTime()]).to.deep.equal([S * 1000, (S + 4) * 1000]);
      expect(input.MetricDataQueries!.every((q) => q.MetricStat!.Period === 1)).to.equal(true);
      const latency = input.MetricDataQueries!.filter((q) => q.MetricStat!.Metric!.MetricName === 'Latency');
      expect(latency.every((q) => q.MetricStat!.Stat === 'SampleCount')).to.equal(true);
      expect(latency).to.have.length(4); // select and insert, each on either target
      const errors = input.MetricDataQueries!.filter((q) => q.MetricStat!.Metric!.MetricName === 'Errors');
      expect(errors.every((q) => q.MetricStat!.Stat === 'Sum')).to.equal(true);
    });

    it('sums successes over operations and failures over classes, per target and second', async () => {
      cwMock.on(GetMetricDataCommand).callsFake(fake());
      const input = await readPerSecondFromCloudWatch(cw, window, 'seed');
      expect([...input.reader.perSecond].sort(([a], [b]) => a - b)).to.deep.equal([[S, { ok: 80, errors: 0 }], [S + 1, { ok: 80, errors: 0 }], [S + 2, { ok: 80, errors: 0 }]]);
      expect([...input.writer.perSecond].sort(([a], [b]) => a - b)).to.deep.equal([[S, { ok: 20, errors: 0 }], [S + 1, { ok: 0, errors: 20 }], [S + 2, { ok: 18, errors: 1 }]]);
      expect(input.writer.errorsByClass).to.deep.equal({ '08': 15, '57': 6 });
      expect(input.reader.outages).to.deep.equal([]);
    });

    it('asks for the failover error classes even before ListMetrics lists them, and for the classes it lists', async () => {
      cwMock.on(ListMetricsCommand).resolves({ Metrics: [{ Namespace: 'AuroraLoadTest', MetricName: 'Errors', Dimensions: [
        { Name: 'RunId', Value: 'run-cw' }, { Name: 'Operation', Value: 'insert' }, { Name: 'Target', Value: 'writer' }, { Name: 'ErrorClass', Value: '23' },
      ] }] });
      cwMock.on(GetMetricDataCommand).callsFake(fake());
      await readPerSecondFromCloudWatch(cw, window, 'seed');
      const classes = (op: string, target: string): string[] => cwMock.commandCalls(GetMetricDataCommand)[0]!.args[0].input.MetricDataQueries!
        .filter((q) => q.MetricStat!.Metric!.MetricName === 'Errors')
        .map((q) => Object.fromEntries(q.MetricStat!.Metric!.Dimensions!.map((d) => [d.Name!, d.Value!])))
        .filter((d) => d.Operation === op && d.Target === target).map((d) => d.ErrorClass!).sort();
      expect(classes('insert', 'writer')).to.deep.equal([...FAILOVER_ERROR_CLASSES, '23'].sort());
      expect(classes('select', 'reader')).to.deep.equal([...FAILOVER_ERROR_CLASSES].sort());
    });

    it('adds up datapoints that come over several pages', async () => {
      cwMock.on(GetMetricDataCommand).callsFake(fake(1));
      const input = await readPerSecondFromCloudWatch(cw, window, 'seed');
      expect(cwMock.commandCalls(GetMetricDataCommand)).to.have.length(3);
      expect(input.writer.perSecond.get(S + 2)).to.deep.equal({ ok: 18, errors: 1 });
      expect(input.reader.perSecond.get(S + 1)).to.deep.equal({ ok: 80, errors: 0 });
    });
  });
});
