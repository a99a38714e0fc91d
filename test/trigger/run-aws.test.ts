import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { GetQueueAttributesCommand, PurgeQueueCommand, SendMessageBatchCommand, SQSClient, type SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import { parseMessage, type SliceMessage } from '../../handlers/protocol/message';
import { main } from '../../trigger/cli';
import type { RunSummary } from '../../trigger/report/summary';
import { captureIo } from './helpers/capture-io';

const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/LoadTest-Queue';

describe('trigger: a run in AWS, against mocked SQS, CloudFormation and CloudWatch', function () {
  this.timeout(30_000);
  const sqsMock = mockClient(SQSClient);
  const cfnMock = mockClient(CloudFormationClient);
  const cwMock = mockClient(CloudWatchClient);
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
    expect(msg).to.deep.include({ kind: 'slice', runId: 'aws-1', rate: 10, durationMs: 1000, mix: [{ op: 'select', weight: 80 }] });
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
});
