import { expect } from 'chai';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand, PutMetricDataCommand, type GetMetricDataCommandInput, type PutMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { RDSClient } from '@aws-sdk/client-rds';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityBatchCommand, GetQueueAttributesCommand, SendMessageBatchCommand, SQSClient, type SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import { STACK_OUTPUT } from '../../handlers/contract';
import { CloudWatchSink } from '../../handlers/metrics/cloudwatch-sink';
import { SqsRedelivery } from '../../handlers/redelivery';
import { createWorker, type Worker } from '../../handlers/worker';
import { projectCatalog } from '../../handlers/workloads/project';
import { main } from '../../trigger/cli';
import { LocalCluster } from '../../trigger/local/cluster';
import type { RunSummary } from '../../trigger/report/summary';
import { CapturedLog, configFor, context, sqsEvent } from '../helpers/worker-fixture';
import { captureIo } from './helpers/capture-io';
import { FakeCloudWatch } from './helpers/fake-cloudwatch';

/**
 * The password must never leave the worker: after a run that succeeded (so connections were
 * made, statements ran, metrics were published), nothing the user can read holds it: what the
 * trigger printed, the worker's log, the saved run (`.runs/ID.json`) and its HTML report.
 */
describe('secrets stay out of everything a run leaves behind (real PostgreSQL)', function () {
  this.timeout(180_000);
  const PASSWORD = `Canary-${randomBytes(12).toString('base64url')}`;
  const dir = mkdtempSync(join(tmpdir(), 'secrets-stay-out-'));
  let cluster: LocalCluster;

  before(async () => {
    cluster = await LocalCluster.start({ password: PASSWORD });
  });
  after(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every place where the password must not be, by name, with what it holds. */
  function leaks(places: Record<string, string>): string[] {
    return Object.entries(places).filter(([, text]) => text.includes(PASSWORD)).map(([where]) => where);
  }

  const savedRun = (runId: string): string => readFileSync(join(dir, '.runs', `${runId}.json`), 'utf8');

  it('with static credentials (--local --writer-url/--reader-url): not in the output, the worker log, the saved run or the HTML report', async () => {
    const url = (port: number): string => `postgres://${cluster.user}:${PASSWORD}@127.0.0.1:${port}/${cluster.database}`;
    const io = captureIo(dir);
    const code = await main(['--local', '--writer-url', url(cluster.writer.port), '--reader-url', url(cluster.reader.port),
      '--rate', '20', '--duration', '2s', '--run-id', 'static-creds', '--html', 'static.html', '--json'], io);
    expect(code, io.stderr.join('\n')).to.equal(0);
    const summary = JSON.parse(io.stdout.join('\n')) as RunSummary;
    expect(summary.totals.errors).to.equal(0);
    expect(summary.totals.ok, 'statements that ran').to.be.greaterThan(0);
    const log = readFileSync(io.stderr.map((l) => /^worker log: (.+)$/.exec(l)?.[1]).find(Boolean)!, 'utf8');
    expect(leaks({
      stdout: io.stdout.join('\n'), stderr: io.stderr.join('\n'), 'worker log': log,
      'saved run': savedRun('static-creds'), 'HTML report': readFileSync(join(dir, 'static.html'), 'utf8'),
    })).to.deep.equal([]);
  });

  describe('with the password in Secrets Manager, read by the worker (an AWS run against mocked AWS APIs)', () => {
    const NS = 'LeakTest';
    const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/LoadTest-Queue';
    const sqsMock = mockClient(SQSClient);
    const cfnMock = mockClient(CloudFormationClient);
    const cwMock = mockClient(CloudWatchClient);
    const rdsMock = mockClient(RDSClient);
    const smMock = mockClient(SecretsManagerClient);
    const env = { ...process.env };
    const cloudwatch = new FakeCloudWatch();
    const log = new CapturedLog();
    /** Invocations of the worker still running, one per message (batch size 1, as the stack's). */
    const running: Array<Promise<unknown>> = [];
    let worker: Worker;

    before(async () => {
      // Other files stub the same clients when mocha loads them: these stubs must be the ones installed.
      for (const m of [sqsMock, cfnMock, cwMock, rdsMock, smMock]) m.reset();
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'aws-secret', AWS_REGION: 'eu-west-1' });
      smMock.on(GetSecretValueCommand, { SecretId: 'loadtest/db' }).resolves({ SecretString: JSON.stringify({ username: cluster.user, password: PASSWORD, engine: 'postgres' }) });
      cfnMock.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'LoadTest-Load', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: Object.entries({
        [STACK_OUTPUT.queueUrl]: QUEUE, [STACK_OUTPUT.workerMaxConcurrency]: '3', [STACK_OUTPUT.workerPoolMax]: '4', [STACK_OUTPUT.metricNamespace]: NS,
      }).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }] });
      sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' } });
      sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
      // The queue delivers each message to the worker, as the event source mapping would.
      sqsMock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
        for (const e of input.Entries!) running.push(worker.handle(sqsEvent([e.MessageBody!]), context));
        return { Successful: input.Entries!.map((e) => ({ Id: e.Id!, MessageId: randomUUID(), MD5OfMessageBody: '' })), Failed: [] };
      });
      cwMock.on(PutMetricDataCommand).callsFake((input: PutMetricDataCommandInput) => {
        cloudwatch.put(input.Namespace!, input.MetricData!);
        return {};
      });
      cwMock.on(ListMetricsCommand).resolves({ Metrics: [] });
      // The report reads once every invocation has published what it measured.
      cwMock.on(GetMetricDataCommand).callsFake(async (input: GetMetricDataCommandInput) => {
        await Promise.all(running);
        return cloudwatch.getMetricData(input);
      });
      // The worker as the Lambda entry point builds it (handlers/index.ts), credentials from the secret.
      const config = configFor(cluster, { credentials: { kind: 'secretsManager', secretId: 'loadtest/db' }, metricNamespace: NS });
      worker = createWorker({ config, catalog: projectCatalog(), sink: new CloudWatchSink(NS), logger: log.logger, redelivery: new SqsRedelivery(log.logger) });
      // The schema, as the stack's custom resource creates it on deploy.
      await worker.init('seed');
    });
    after(async () => {
      await worker?.close();
      for (const m of [sqsMock, cfnMock, cwMock, rdsMock, smMock]) m.restore();
      process.env = env;
    });

    it('not in the output, the worker log, the published metrics, the saved run or the HTML report', async () => {
      const io = captureIo(dir);
      const code = await main(['--rate', '20', '--duration', '2s', '--start-lead', '1s', '--no-scale-up', '--run-id', 'secret-creds',
        '--html', 'secret.html', '--region', 'eu-west-1', '--json'], io);
      expect(code, io.stderr.join('\n')).to.equal(0);
      const summary = JSON.parse(io.stdout.join('\n')) as RunSummary;
      expect(summary.incomplete).to.equal(null);
      expect(summary.totals.errors).to.equal(0);
      expect(summary.totals.ok, 'statements that ran').to.be.greaterThan(0);
      expect(smMock.commandCalls(GetSecretValueCommand), 'the worker read the secret').to.have.length(1);
      expect(readdirSync(join(dir, '.runs'))).to.include('secret-creds.json');
      expect(leaks({
        stdout: io.stdout.join('\n'), stderr: io.stderr.join('\n'), 'worker log': log.text,
        'PutMetricData': JSON.stringify(cwMock.commandCalls(PutMetricDataCommand).map((c) => c.args[0].input)),
        'batch responses': JSON.stringify(await Promise.all(running)),
        'saved run': savedRun('secret-creds'), 'HTML report': readFileSync(join(dir, 'secret.html'), 'utf8'),
      })).to.deep.equal([]);
    });
  });
});
