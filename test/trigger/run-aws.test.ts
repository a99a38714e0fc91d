import { expect } from 'chai';
import { hashOf } from '../helpers/worker-fixture';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { DescribeDBClustersCommand, FailoverDBClusterCommand, InvalidDBClusterStateFault, RDSClient, type DescribeDBClustersCommandOutput } from '@aws-sdk/client-rds';
import { GetQueueAttributesCommand, PurgeQueueCommand, SendMessageBatchCommand, SQSClient, type SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import { parseMessage, type SliceMessage } from '../../handlers/protocol/message';
import { main } from '../../trigger/cli';
import { FAILOVER_NEEDS_CLUSTER } from '../../trigger/commands/run-aws';
import type { RunSummary } from '../../trigger/report/summary';
import { captureIo } from './helpers/capture-io';

const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/LoadTest-Queue';

function cluster(status: string, writer: string, reader?: string): DescribeDBClustersCommandOutput {
  const members = [{ DBInstanceIdentifier: writer, IsClusterWriter: true }, ...(reader ? [{ DBInstanceIdentifier: reader, IsClusterWriter: false }] : [])];
  return { $metadata: {}, DBClusters: [{ DBClusterIdentifier: 'loadtest-db', Status: status, DBClusterMembers: members }] };
}

type RunJson = RunSummary & { thresholds: unknown[] };

describe('trigger: a run in AWS, against mocked SQS, CloudFormation and CloudWatch', function () {
  this.timeout(30_000);
  const sqsMock = mockClient(SQSClient);
  const cfnMock = mockClient(CloudFormationClient);
  const cwMock = mockClient(CloudWatchClient);
  const rdsMock = mockClient(RDSClient);
  const dir = mkdtempSync(join(tmpdir(), 'trigger-aws-'));
  const env = { ...process.env };

  before(() => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret';
  });
  beforeEach(() => {
    sqsMock.reset();
    cfnMock.reset();
    cwMock.reset();
    rdsMock.reset();
    cfnMock.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'LoadTest-Load', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [
      { OutputKey: 'QueueUrl', OutputValue: QUEUE }, { OutputKey: 'WorkerMaxConcurrency', OutputValue: '3' }, { OutputKey: 'WorkerPoolMax', OutputValue: '4' },
      { OutputKey: 'MetricNamespace', OutputValue: 'TestNs' },
    ] }] });
    sqsMock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
      Successful: input.Entries!.map((e) => ({ Id: e.Id!, MessageId: 'x', MD5OfMessageBody: '' })), Failed: [],
    }));
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' } });
    cwMock.on(ListMetricsCommand).resolves({ Metrics: [] });
    cwMock.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
      MetricDataResults: input.MetricDataQueries!.map((q) => {
        const m = q.MetricStat!;
        const dims = Object.fromEntries(m.Metric!.Dimensions!.map((d) => [d.Name!, d.Value!]));
        const isSelect = m.Metric!.MetricName === 'Latency' && dims.Operation === 'select' && dims.Target === 'reader';
        const value = isSelect ? ({ SampleCount: 10, p50: 1, p90: 2, p99: 3, Maximum: 4, Average: 1.5 } as Record<string, number>)[m.Stat!] : undefined;
        return { Id: q.Id, Values: value === undefined ? [] : [value] };
      }),
    }));
  });
  after(() => {
    sqsMock.restore();
    cfnMock.restore();
    cwMock.restore();
    rdsMock.restore();
    process.env = env;
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the queue in the stack, sends validated slices, and summarises from CloudWatch', async () => {
    const io = captureIo(dir);
    const code = await main(['--reader', '--rate', '10', '--duration', '1s', '--start-lead', '0', '--region', 'eu-west-1', '--json', '--run-id', 'aws-1', '--threshold', 'p99<5ms'], io);
    expect(code, io.stderr.join('\n')).to.equal(0);
    const bodies = sqsMock.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => e.MessageBody!));
    expect(bodies).to.have.length(1);
    const msg = parseMessage(bodies[0]!) as SliceMessage;
    expect(msg).to.deep.include({ kind: 'slice', runId: 'aws-1', rate: 10, durationMs: 1000, mix: [{ op: 'select', weight: 80, hash: hashOf('seed', 'select') }] });
    const summary = JSON.parse(io.stdout.join('\n')) as RunSummary & { thresholds: { ok: boolean }[] };
    expect(summary.source).to.equal('cloudwatch');
    expect(summary.achieved.statements).to.equal(10);
    expect(summary.thresholds).to.deep.equal([{ threshold: 'p99<5ms', ok: true, actual: '3.00 ms (select/reader)' }]);
    const namespaces = cwMock.commandCalls(GetMetricDataCommand)[0]!.args[0].input.MetricDataQueries!.map((q) => q.MetricStat!.Metric!.Namespace);
    expect(new Set(namespaces)).to.deep.equal(new Set(['TestNs']));
  });

  it('refuses a plan that needs more workers than the worker may run at once, before sending anything', async () => {
    const io = captureIo(dir);
    expect(await main(['--rate', '1000', '--duration', '10s', '--region', 'eu-west-1'], io)).to.equal(2);
    expect(io.stderr.at(-1)).to.match(/^error: plan needs 10 workers running at once but the worker's maximum concurrency is 3/);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).to.have.length(0);
  });

  it('refuses a plan over --max-connections, before sending anything', async () => {
    const io = captureIo(dir);
    expect(await main(['--rate', '300', '--duration', '10s', '--region', 'eu-west-1', '--max-connections', '20'], io)).to.equal(2);
    expect(io.stderr.at(-1)).to.match(/^error: plan needs 3 worker\(s\) x 8 connections/);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).to.have.length(0);
  });

  it('stop --yes purges the queue found in the stack', async () => {
    sqsMock.on(PurgeQueueCommand).resolves({});
    const io = captureIo(dir);
    expect(await main(['stop', '--yes', '--region', 'eu-west-1'], io)).to.equal(0);
    expect(sqsMock.commandCalls(PurgeQueueCommand)[0]!.args[0].input).to.deep.equal({ QueueUrl: QUEUE });
  });
  describe('failover drill (--failover-at)', () => {
    /** The stack as the pipeline deploys it: with the Aurora cluster. */
    const withCluster = (): void => {
      cfnMock.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'LoadTest-Load', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [
        { OutputKey: 'QueueUrl', OutputValue: QUEUE }, { OutputKey: 'WorkerMaxConcurrency', OutputValue: '3' }, { OutputKey: 'MetricNamespace', OutputValue: 'TestNs' },
        { OutputKey: 'DbClusterIdentifier', OutputValue: 'loadtest-db' },
      ] }] });
    };
    const drill = ['--reader', '--writer', '--rate', '10', '--start-lead', '0', '--region', 'eu-west-1', '--json', '--run-id', 'drill-1'];

    it('refuses in bring-your-own mode (no DbClusterIdentifier output) with one line and exit 2, before sending or calling RDS', async () => {
      const io = captureIo(dir);
      expect(await main([...drill, '--duration', '3s', '--failover-at', '1s'], io)).to.equal(2);
      expect(io.stderr.at(-1)).to.equal(`error: ${FAILOVER_NEEDS_CLUSTER}`);
      expect(sqsMock.commandCalls(SendMessageBatchCommand)).to.have.length(0);
      expect(rdsMock.calls()).to.have.length(0);
    });

    it('refuses a cluster with no reader instance to fail over to, before sending anything', async () => {
      withCluster();
      rdsMock.on(DescribeDBClustersCommand).resolves(cluster('available', 'db-a'));
      const io = captureIo(dir);
      expect(await main([...drill, '--duration', '3s', '--failover-at', '1s'], io)).to.equal(2);
      expect(io.stderr.at(-1)).to.equal('error: --failover-at: the Aurora cluster loadtest-db has no reader instance to fail over to');
      expect(sqsMock.commandCalls(SendMessageBatchCommand)).to.have.length(0);
      expect(rdsMock.commandCalls(FailoverDBClusterCommand)).to.have.length(0);
    });

    it('fails the stack\'s cluster over at load start + --failover-at and reports the outage read per second from CloudWatch', async () => {
      withCluster();
      let failoverCalledAt = 0;
      rdsMock.on(DescribeDBClustersCommand).callsFake(() => (failoverCalledAt ? cluster('available', 'db-b', 'db-a') : cluster('available', 'db-a', 'db-b')));
      rdsMock.on(FailoverDBClusterCommand).callsFake(() => { failoverCalledAt = Date.now(); return {}; });
      cwMock.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
        MetricDataResults: input.MetricDataQueries!.map((q) => {
          const m = q.MetricStat!;
          const dims = Object.fromEntries(m.Metric!.Dimensions!.map((d) => [d.Name!, d.Value!]));
          const metric = m.Metric!.MetricName!;
          if (m.Period !== 1) {
            // The whole-run read: 24 selects and 6 inserts, all the plan's 30 statements.
            const n = metric === 'Latency' && m.Stat === 'SampleCount' ? ({ 'select/reader': 24, 'insert/writer': 6 } as Record<string, number>)[`${dims.Operation}/${dims.Target}`] : undefined;
            return { Id: q.Id, Values: n === undefined ? [] : [n], Timestamps: n === undefined ? [] : [input.StartTime!] };
          }
          // Per second: the writer fails (class 08) for the whole second after the failover began, then recovers.
          const failSecond = Math.floor(failoverCalledAt / 1000) + 1;
          const first = input.StartTime!.getTime() / 1000;
          const timestamps: Date[] = [];
          const values: number[] = [];
          for (let sec = first; sec <= failSecond + 2; sec++) {
            let v = 0;
            if (metric === 'Latency' && dims.Operation === 'select' && dims.Target === 'reader') v = 8;
            if (metric === 'Latency' && dims.Operation === 'insert' && dims.Target === 'writer') v = sec === failSecond ? 0 : 2;
            if (metric === 'Errors' && dims.Operation === 'insert' && dims.Target === 'writer' && dims.ErrorClass === '08' && sec === failSecond) v = 2;
            if (v) { timestamps.push(new Date(sec * 1000)); values.push(v); }
          }
          return { Id: q.Id, Timestamps: timestamps, Values: values };
        }),
      }));
      const io = captureIo(dir);
      const code = await main([...drill, '--duration', '3s', '--failover-at', '1s'], io);
      expect(code, io.stderr.join('\n')).to.equal(0);
      const summary = JSON.parse(io.stdout.join('\n')) as RunJson;
      expect(rdsMock.commandCalls(FailoverDBClusterCommand)[0]!.args[0].input).to.deep.equal({ DBClusterIdentifier: 'loadtest-db' });
      const f = summary.failover!;
      expect(f).to.deep.include({ from: 'db-a', to: 'db-b' });
      expect(f.startedAt - Date.parse(summary.startedAt)).to.be.within(1_000, 1_500);
      const failSecond = Math.floor(failoverCalledAt / 1000) + 1;
      expect(f.analysis!.writes).to.deep.include({ firstFailureAt: failSecond * 1000, firstSuccessAfter: (failSecond + 1) * 1000, downtimeMs: 1_000, resolution: 'second', failedStatements: 2 });
      expect(f.analysis!.reads).to.deep.include({ firstFailureAt: null, downtimeMs: 0 });
      expect(f.analysis!.errorsBySqlstateClass).to.deep.equal({ '08': 2 });
      const perSecond = cwMock.commandCalls(GetMetricDataCommand).flatMap((c) => c.args[0].input.MetricDataQueries!).filter((q) => q.MetricStat!.Period === 1);
      const latencyTargets = perSecond.filter((q) => q.MetricStat!.Metric!.MetricName === 'Latency' && q.MetricStat!.Stat === 'SampleCount')
        .map((q) => q.MetricStat!.Metric!.Dimensions!.find((d) => d.Name === 'Target')!.Value);
      expect(new Set(latencyTargets)).to.deep.equal(new Set(['reader', 'writer']));
    });

    it('keeps the run when the failover fails: the summary is printed with the reason as a note', async () => {
      withCluster();
      rdsMock.on(DescribeDBClustersCommand).resolves(cluster('available', 'db-a', 'db-b'));
      rdsMock.on(FailoverDBClusterCommand).rejects(new InvalidDBClusterStateFault({ message: 'Cluster is being modified.', $metadata: {} }));
      cwMock.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
        MetricDataResults: input.MetricDataQueries!.map((q) => {
          const dims = Object.fromEntries(q.MetricStat!.Metric!.Dimensions!.map((d) => [d.Name!, d.Value!]));
          const n = q.MetricStat!.Metric!.MetricName === 'Latency' && q.MetricStat!.Stat === 'SampleCount' ? ({ 'select/reader': 16, 'insert/writer': 4 } as Record<string, number>)[`${dims.Operation}/${dims.Target}`] : undefined;
          return { Id: q.Id, Values: n === undefined ? [] : [n] };
        }),
      }));
      const io = captureIo(dir);
      const code = await main([...drill, '--duration', '2s', '--failover-at', '1s'], io);
      expect(code, io.stderr.join('\n')).to.equal(0);
      const summary = JSON.parse(io.stdout.join('\n')) as RunJson;
      expect(summary.achieved.statements).to.equal(20);
      expect(summary.failover).to.equal(undefined);
      expect(summary.notes.some((n) => /^the failover drill failed: failover of loadtest-db failed: InvalidDBClusterStateFault: Cluster is being modified\./.test(n))).to.equal(true);
    });
  });
});
