/**
 * Every AWS call the project's code makes is allowed by the synthesized policy of the role that
 * makes it. Each role's real code path runs against aws-sdk-client-mock; every command it sends
 * is recorded, mapped to its IAM action, resource and condition keys (iam/requests.ts), and
 * evaluated against the statements of that role's policies as synthesized, with every reference
 * resolved to the resource it names in an imagined deployment (iam/deployment.ts). A grant on the
 * wrong queue, or a missing action, fails here; no list of expected actions is written down.
 *
 * - the pipeline's smoke test: the exact command line of the synthesized SmokeTest step;
 * - the worker: the Lambda entry point (handlers/index.ts) with the function's synthesized
 *   environment, serving the schema custom resource's events and an SQS batch with a failed message,
 *   against a real PostgreSQL;
 * - a person running the trigger: run, report, init, stop and the failover drill, against the
 *   stack's operator policy, and the README's list of permissions against the same record.
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { CloudFormationCustomResourceEvent, SQSEvent } from 'aws-lambda';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { CloudFormationClient, DescribeStacksCommand, type DescribeStacksCommandInput } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, GetMetricDataCommand, PutMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { DescribeDBClustersCommand, FailoverDBClusterCommand, RDSClient, type DescribeDBClustersCommandInput, type FailoverDBClusterCommandInput } from '@aws-sdk/client-rds';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient, type GetSecretValueCommandInput } from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityBatchCommand, GetQueueAttributesCommand, PurgeQueueCommand, SendMessageBatchCommand, SQSClient, type ChangeMessageVisibilityBatchCommandInput, type SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import { expect } from 'chai';
import { STACK_NAMES } from '../../app/load-test';
import { DIMENSION, METRIC, STACK_OUTPUT } from '../../handlers/contract';
import { WORKLOADS_GLOBAL } from '../../handlers/workloads/deployed';
import { readWorkloadFiles } from '../../handlers/workloads/files';
import { PROJECT_WORKLOADS_DIR, projectCatalog } from '../../handlers/workloads/project';
import { main } from '../../trigger/cli';
import { LocalCluster } from '../../trigger/local/cluster';
import { captureIo } from '../trigger/helpers/capture-io';
import { Deployment, type TemplateJson } from './iam/deployment';
import { allows, managedPolicyStatements, roleIdOf, roleStatements, type Statement } from './iam/policy';
import { iamRequestOf, type RecordedCall, type Service } from './iam/requests';
import { BYO_CONTEXT, type Context, ROOT, synthPipeline, synthStacks, TEST_ENV } from './synth';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyStub = AwsStub<any, any, any>;

const CLIENTS = { sqs: SQSClient, cloudformation: CloudFormationClient, cloudwatch: CloudWatchClient, rds: RDSClient, secretsmanager: SecretsManagerClient } as const;
/** The stubs, installed for this file's tests only (before/after), one per client class. */
const MOCKS = {} as Record<Service, AnyStub>;

/** Every command sent since the last reset, with the service of its client. */
function recorded(): RecordedCall[] {
  return (Object.entries(MOCKS) as Array<[Service, AnyStub]>).flatMap(([service, mock]) =>
    mock.calls().map((call) => {
      const command = call.args[0] as { constructor: { name: string }; input: Record<string, unknown> };
      return { service, command: command.constructor.name, input: command.input };
    }));
}

/** Each recorded call that `statements` do not allow, as "action on resource". */
function denied(d: Deployment, calls: readonly RecordedCall[], statements: readonly Statement[]): string[] {
  const refused = calls
    .map((call) => iamRequestOf(call, d.env, (name) => d.stackId(name)))
    .filter((r) => !allows(statements, r))
    .map((r) => `${r.action} on ${r.resource}${Object.keys(r.context).length ? ` with ${JSON.stringify(r.context)}` : ''}`);
  return [...new Set(refused)];
}

/**
 * Actions `statements` grant in the services the project's code calls (CDK's own grants for logs,
 * artifacts and builds left out), that none of `calls` needs.
 */
function unused(d: Deployment, calls: readonly RecordedCall[], statements: readonly Statement[]): string[] {
  const needed = new Set(calls.map((c) => iamRequestOf(c, d.env, (name) => d.stackId(name)).action));
  const services = new Set<string>(Object.keys(CLIENTS));
  const granted = statements.flatMap((s) => [s.Action ?? []].flat()).filter((a) => services.has(a.split(':')[0]!));
  return [...new Set(granted.filter((a) => !needed.has(a)))];
}

/**
 * What the recorded calls read of the database beside the load (the report's database section):
 * the clusters described, and the AWS/RDS instances and AWS/Lambda functions whose metrics were read.
 */
function databaseReads(calls: readonly RecordedCall[]): { clusters: string[]; instances: string[]; functions: string[] } {
  const dims = (namespace: string, name: string): string[] => [...new Set(calls
    .filter((c) => c.service === 'cloudwatch' && c.command === 'GetMetricDataCommand')
    .flatMap((c) => (c.input as unknown as GetMetricDataCommandInput).MetricDataQueries ?? [])
    .filter((q) => q.MetricStat?.Metric?.Namespace === namespace)
    .flatMap((q) => (q.MetricStat!.Metric!.Dimensions ?? []).filter((x) => x.Name === name).map((x) => x.Value!)))].sort();
  const clusters = [...new Set(calls.filter((c) => c.command === 'DescribeDBClustersCommand').map((c) => String(c.input.DBClusterIdentifier)))];
  return { clusters, instances: dims('AWS/RDS', 'DBInstanceIdentifier'), functions: dims('AWS/Lambda', 'FunctionName') };
}

/** The stacks of the LoadTest stage, as one imagined deployment. */
function stageDeployment(stacks: { network?: unknown; database?: unknown; load: unknown }): Deployment {
  const d = new Deployment(TEST_ENV);
  for (const [key, stack] of Object.entries(stacks)) {
    if (stack) d.add(STACK_NAMES[key as keyof typeof STACK_NAMES], Template.fromStack(stack as never).toJSON() as TemplateJson);
  }
  return d;
}

/**
 * A healthy deployment's answers: queues accept, stack outputs as synthesized, metrics for every
 * query: every message sent reports `ok` (so a run's outcomes add up to what it sent, and the
 * trigger stops waiting at its first read), with plenty of every statement.
 */
function answerAsDeployed(d: Deployment): void {
  for (const mock of Object.values(MOCKS)) mock.reset();
  const sent = new Map<string, number>();
  MOCKS.cloudformation.on(DescribeStacksCommand).callsFake((input: DescribeStacksCommandInput) => ({
    Stacks: [{ StackName: input.StackName, StackId: d.stackId(String(input.StackName)), CreationTime: new Date(), StackStatus: 'UPDATE_COMPLETE', Outputs: d.outputs(String(input.StackName)) }],
  }));
  MOCKS.sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
    for (const e of input.Entries!) {
      const { runId } = JSON.parse(e.MessageBody!) as { runId: string };
      sent.set(runId, (sent.get(runId) ?? 0) + 1);
    }
    return { Successful: input.Entries!.map((e) => ({ Id: e.Id!, MessageId: `m-${e.Id}`, MD5OfMessageBody: '' })), Failed: [] };
  });
  MOCKS.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' } });
  MOCKS.sqs.on(PurgeQueueCommand).resolves({});
  MOCKS.sqs.on(ChangeMessageVisibilityBatchCommand).callsFake((input: ChangeMessageVisibilityBatchCommandInput) => ({
    Successful: input.Entries!.map((e) => ({ Id: e.Id! })), Failed: [],
  }));
  MOCKS.cloudwatch.on(PutMetricDataCommand).resolves({});
  // The cluster: a writer and a reader instance, until a failover swaps their roles.
  let failedOver = false;
  MOCKS.rds.on(DescribeDBClustersCommand).callsFake((input: DescribeDBClustersCommandInput) => ({
    DBClusters: [{
      DBClusterIdentifier: input.DBClusterIdentifier, Status: 'available',
      DBClusterMembers: [{ DBInstanceIdentifier: 'writer', IsClusterWriter: !failedOver }, { DBInstanceIdentifier: 'reader', IsClusterWriter: failedOver }],
    }],
  }));
  MOCKS.rds.on(FailoverDBClusterCommand).callsFake((input: FailoverDBClusterCommandInput) => {
    failedOver = true;
    return { DBCluster: { DBClusterIdentifier: input.DBClusterIdentifier } };
  });
  MOCKS.cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
    MetricDataResults: input.MetricDataQueries!.map((q) => {
      const m = q.MetricStat;
      if (!m) return { Id: q.Id, Values: [], Timestamps: [] };
      const dims = Object.fromEntries((m.Metric?.Dimensions ?? []).map((x) => [x.Name, x.Value]));
      const messages = m.Metric?.MetricName === METRIC.messages && dims[DIMENSION.outcome] === 'ok' ? (sent.get(dims[DIMENSION.runId]!) ?? 0) : 0;
      const value = m.Stat === 'SampleCount' ? 1000 : m.Stat === 'Sum' ? messages : 1;
      return { Id: q.Id, Values: [value], Timestamps: [input.StartTime!] };
    }),
  }));
}

/** Splits a shell command line into words: "double quotes" with $VAR expansion, 'single quotes', bare words. */
function shellWords(line: string, env: Readonly<Record<string, string>>): string[] {
  const expand = (s: string) => s.replace(/\$\{?([A-Z_][A-Z0-9_]*)\}?/g, (_, name: string) => {
    if (!(name in env)) throw new Error(`$${name} is not set`);
    return env[name]!;
  });
  const words: string[] = [];
  for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)) {
    words.push(m[1] !== undefined ? expand(m[1]) : m[2] !== undefined ? m[2] : expand(m[3]!));
  }
  return words;
}

describe('IAM from calls: every AWS call is allowed by the synthesized policy of the role that makes it', function () {
  this.timeout(240_000);
  const env = { ...process.env };
  const dir = mkdtempSync(path.join(tmpdir(), 'iam-from-calls-'));

  before(() => {
    for (const [service, client] of Object.entries(CLIENTS)) MOCKS[service as Service] = mockClient(client as never);
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'example';
    process.env.AWS_REGION = TEST_ENV.region;
  });
  after(() => {
    for (const mock of Object.values(MOCKS)) mock.restore();
    delete (globalThis as Record<string, unknown>)[WORKLOADS_GLOBAL];
    process.env = env;
    rmSync(dir, { recursive: true, force: true });
  });

  describe('the pipeline\'s smoke test, with the exact command line of the synthesized SmokeTest step', () => {
    let d: Deployment;
    let statements: Statement[];
    let calls: RecordedCall[];
    let exitCode: number;

    before(async () => {
      const { stack, template } = synthPipeline();
      d = stageDeployment(stack.stage.stacks).add(stack.stackName, template.toJSON() as TemplateJson);
      const pipelineJson = template.toJSON() as TemplateJson;
      const [, project] = Object.entries(pipelineJson.Resources ?? {}).find(([id, r]) => r.Type === 'AWS::CodeBuild::Project' && id.startsWith('PipelineLoadTestSmokeTest'))!;
      statements = roleStatements(d, stack.stackName, roleIdOf(project.Properties!.ServiceRole));
      const buildSpec = JSON.parse((project.Properties!.Source as { BuildSpec: string }).BuildSpec) as { phases: { build: { commands: string[] } } };
      answerAsDeployed(d);
      const [command] = buildSpec.phases.build.commands.filter((c) => /^node trigger\b/.test(c));
      const argv = shellWords(command!, {});
      const io = captureIo(dir);
      exitCode = await main(argv.slice(2), io);
      calls = recorded();
    });

    it('passes against a healthy deployment (the path ran to its end)', () => {
      expect(exitCode).to.equal(0);
    });

    it('reads the database beside the load: the cluster\'s instances, their AWS/RDS metrics, the worker\'s AWS/Lambda metrics', () => {
      const load = STACK_NAMES.load;
      expect(databaseReads(calls)).to.deep.equal({
        clusters: [d.output(load, STACK_OUTPUT.dbClusterIdentifier)], instances: ['reader', 'writer'], functions: [d.output(load, STACK_OUTPUT.workerFunctionName)],
      });
    });

    it('makes no call its CodeBuild role does not allow', () => {
      expect(calls).not.to.be.empty;
      expect(denied(d, calls, statements)).to.deep.equal([]);
    });

    it('is granted no AWS action it does not call', () => {
      expect(unused(d, calls, statements)).to.deep.equal([]);
    });
  });

  describe('the worker, through its Lambda entry point with the synthesized environment', () => {
    let cluster: LocalCluster;
    before(async () => {
      cluster = await LocalCluster.start();
    });
    after(async () => {
      await cluster?.stop();
    });

    const modes: Array<[string, Context]> = [
      ['with the cluster and secret the stacks create', {}],
      ['with your database, an RDS-managed secret by name and its KMS key', {
        ...BYO_CONTEXT, SecretName: 'rds!cluster-0123abcd-4567-89ef-0123-456789abcdef', SecretKmsKey: 'arn:aws:kms:eu-west-1:111111111111:key/0123abcd-4567-89ef-0123-456789abcdef',
      }],
    ];
    for (const [mode, settings] of modes) {
      describe(mode, () => {
        let d: Deployment;
        let statements: Statement[];
        let calls: RecordedCall[];
        let created: string[];
        let failures: number;

        before(async () => {
          d = stageDeployment(synthStacks(settings).stacks);
          const load = STACK_NAMES.load;
          const resources = Object.entries(d.template(load).Resources ?? {});
          const [, fn] = resources.find(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties?.Handler === 'index.handler' && r.Properties?.Runtime === 'nodejs22.x')!;
          statements = roleStatements(d, load, roleIdOf(fn.Properties!.Role));
          const environment = d.resolve((fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables, load) as Record<string, string>;
          const queueArn = d.resolveString(resources.find(([, r]) => r.Type === 'AWS::Lambda::EventSourceMapping')![1].Properties!.EventSourceArn, load);

          answerAsDeployed(d);
          MOCKS.secretsmanager.on(GetSecretValueCommand).callsFake((input: GetSecretValueCommandInput) => {
            if (input.SecretId !== environment.DB_SECRET_ID) throw new ResourceNotFoundException({ message: 'Secrets Manager can\'t find the specified secret.', $metadata: {} });
            return { SecretString: JSON.stringify({ username: cluster.user, password: cluster.password }) };
          });
          // The deployed environment, except where the database is: here, not in a VPC, without TLS.
          process.env = {
            ...process.env, ...environment,
            // One DB_PORT serves both endpoints, so both are the writer here; the batch only writes.
            DB_WRITER_HOST: cluster.writer.host, DB_READER_HOST: cluster.writer.host, DB_PORT: String(cluster.writer.port), DB_NAME: cluster.database, DB_TLS: 'disable',
          };
          // The workloads the bundler injects (app/load/worker-bundling.ts): the synthesized
          // function carries this checkout's workloads/ folder.
          (globalThis as Record<string, unknown>)[WORKLOADS_GLOBAL] = readWorkloadFiles(PROJECT_WORKLOADS_DIR);
          // Loaded afresh: the entry point reads its configuration from process.env at load, as in Lambda.
          const entry = require.resolve('../../handlers/index');
          delete require.cache[entry];
          const { handler } = require(entry) as typeof import('../../handlers/index');
          const context = { awsRequestId: 'iam-test', getRemainingTimeInMillis: () => 900_000 } as never;

          // On deploy: the provider framework hands the worker each schema resource's Create event.
          created = [];
          for (const [id, r] of resources.filter(([, x]) => x.Type === 'Custom::WorkloadSchema')) {
            const event = {
              RequestType: 'Create', ServiceToken: 'arn', ResponseURL: 'https://example.com', StackId: d.stackId(load), RequestId: id,
              // CloudFormation hands every property value over as a string.
              LogicalResourceId: id, ResourceType: 'Custom::WorkloadSchema', ResourceProperties: Object.fromEntries(Object.entries(d.resolve(r.Properties, load) as object).map(([k, v]) => [k, String(v)])),
            } as CloudFormationCustomResourceEvent;
            created.push(((await handler(event, context)) as { PhysicalResourceId: string }).PhysicalResourceId);
          }
          // Then load: a batch with one good message and one the worker must hand back.
          const now = String(Date.now());
          const record = (messageId: string, body: string) => ({
            messageId, receiptHandle: `rh-${messageId}`, body, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: queueArn, awsRegion: TEST_ENV.region, messageAttributes: {},
            attributes: { ApproximateReceiveCount: '1', SentTimestamp: now, SenderId: 'iam-test', ApproximateFirstReceiveTimestamp: now },
          });
          const hash = projectCatalog().get('seed')!.scripts.get('insert')!.hash;
          const good = JSON.stringify({ v: 1, kind: 'statements', runId: 'iam-run', seq: 0, sentAt: Date.now(), workload: 'seed', op: 'insert', hash, count: 2 });
          const event: SQSEvent = { Records: [record('good', good), record('bad', '{"v":1,"kind":"nonsense"}')] };
          failures = ((await handler(event, context)) as { batchItemFailures: unknown[] }).batchItemFailures.length;
          calls = recorded();
        });

        it('serves the schema custom resources and hands back exactly the bad message (the paths ran)', () => {
          expect(created).to.deep.equal(['workload-seed', 'workload-tpcb']);
          expect(failures).to.equal(1);
        });

        it('makes no call its execution role does not allow', () => {
          expect(calls).not.to.be.empty;
          expect(denied(d, calls, statements)).to.deep.equal([]);
        });
      });
    }
  });

  describe('a person running the trigger, with the stack\'s operator policy', () => {
    let d: Deployment;
    let statements: Statement[];
    let calls: RecordedCall[];
    let codes: number[];

    before(async () => {
      d = stageDeployment(synthStacks().stacks);
      const load = STACK_NAMES.load;
      const [policyId] = Object.entries(d.template(load).Resources ?? {}).find(([, r]) => r.Type === 'AWS::IAM::ManagedPolicy')!;
      statements = managedPolicyStatements(d, load, policyId);
      answerAsDeployed(d);
      const region = ['--region', TEST_ENV.region];
      const run = (argv: string[]) => main([...argv, ...region], captureIo(dir));
      codes = await Promise.all([
        run(['--reader', '--writer', '--rate', '10', '--duration', '1s', '--start-lead', '0', '--no-save']),
        run(['report', '--run', 'an-earlier-run']),
        run(['init', '--workload', 'tpcb', '--scale', '2', '--wait', '1m']),
        run(['init', '--workload', 'seed', '--wait', '1m']),
        run(['stop', '--yes']),
        run(['--reader', '--writer', '--rate', '10', '--duration', '3s', '--start-lead', '0', '--failover-at', '1s', '--no-save']),
      ]);
      calls = recorded();
    });

    it('runs, reports, inits, stops and fails over against a healthy deployment (the paths ran)', () => {
      expect(codes).to.deep.equal([0, 0, 0, 0, 0, 0]);
    });

    it('reads the database beside the load: the cluster\'s instances, their AWS/RDS metrics, the worker\'s AWS/Lambda metrics', () => {
      const load = STACK_NAMES.load;
      expect(databaseReads(calls)).to.deep.equal({
        clusters: [d.output(load, STACK_OUTPUT.dbClusterIdentifier)], instances: ['reader', 'writer'], functions: [d.output(load, STACK_OUTPUT.workerFunctionName)],
      });
    });

    it('makes no call the operator policy does not allow', () => {
      expect(calls).not.to.be.empty;
      expect(denied(d, calls, statements)).to.deep.equal([]);
    });

    it('is granted no action by the operator policy that none of these paths calls', () => {
      expect(unused(d, calls, statements)).to.deep.equal([]);
    });

    it('needs exactly the permissions the README lists for whoever runs the trigger', () => {
      const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
      const paragraph = /<!-- iam:operator -->([\s\S]*?)<!-- \/iam:operator -->/.exec(readme)?.[1];
      if (!paragraph) throw new Error('README.md has no <!-- iam:operator --> list');
      const listed = new Set([...paragraph.matchAll(/`([a-z0-9]+:[A-Za-z]+)`/g)].map((m) => m[1]));
      const needed = new Set(calls.map((c) => iamRequestOf(c, d.env, (n) => d.stackId(n)).action));
      expect([...listed].sort()).to.deep.equal([...needed].sort());
    });
  });
});
