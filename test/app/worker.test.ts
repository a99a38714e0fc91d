import { Capture, Match, type Template } from 'aws-cdk-lib/assertions';
import { expect } from 'chai';
import { ENV } from '../../handlers/config';
import { projectCatalog } from '../../handlers/workloads/project';
import { CUSTOM_CONTEXT, synthStacks } from './synth';

interface PolicyStatement {
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** The worker: the function whose handler is the bundled handlers/index.ts `handler`. */
const WORKER = { Properties: { Handler: 'index.handler', Runtime: 'nodejs22.x' } };

describe('app/load: the queue and the worker', () => {
  let template: Template;
  before(() => {
    template = synthStacks().load;
  });

  it('moves a message to the dead-letter queue after 6 receives', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WorkerDeadLetterQueue'), 'Arn'] }, maxReceiveCount: 6 },
    });
  });

  it('tells the worker the queue\'s maxReceiveCount, so it knows which receive of a message is its last', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { ...WORKER.Properties, Environment: { Variables: Match.objectLike({ [ENV.maxReceiveCount]: '6' }) } });
  });

  it('encrypts both queues with SQS-managed keys', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.allResourcesProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
  });

  it('refuses non-TLS access to both queues', () => {
    template.resourceCountIs('AWS::SQS::QueuePolicy', 2);
    template.allResourcesProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('keeps a message invisible at least 6 times as long as the worker may run', () => {
    const visibility = new Capture();
    const timeout = new Capture();
    template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: visibility, RedrivePolicy: Match.anyValue() });
    template.hasResourceProperties('AWS::Lambda::Function', { ...WORKER.Properties, Timeout: timeout });
    expect(timeout.asNumber()).to.equal(900);
    expect(visibility.asNumber()).to.be.at.least(6 * timeout.asNumber());
  });

  it('runs the worker on nodejs22.x, arm64', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { ...WORKER.Properties, Architectures: ['arm64'] });
  });

  it('reserves no concurrency by default, so it deploys on an account whose quota is 10; the event source caps the workers', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { ...WORKER.Properties, ReservedConcurrentExecutions: Match.absent() });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 10 } });
  });

  it('follows WorkerMaxConcurrency, WorkerReservedConcurrency, WorkerBatchSize and WorkerPoolMax', () => {
    const custom = synthStacks(CUSTOM_CONTEXT).load;
    custom.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 5, ScalingConfig: { MaximumConcurrency: 50 } });
    custom.hasResourceProperties('AWS::Lambda::Function', {
      ...WORKER.Properties,
      ReservedConcurrentExecutions: 60,
      Environment: { Variables: Match.objectLike({ [ENV.poolMax]: '8' }) },
    });
    custom.hasOutput('WorkerMaxConcurrency', { Value: '50' });
  });

  it('has the first connections wait for a paused cluster only when ServerlessMinCapacity is 0', () => {
    const variables = new Capture();
    synthStacks({ ServerlessMinCapacity: 0 }).load.hasResourceProperties('AWS::Lambda::Function', { ...WORKER.Properties, Environment: { Variables: variables } });
    expect(variables.asObject()).to.include({ [ENV.resumeWaitMs]: '30000' });
    template.hasResourceProperties('AWS::Lambda::Function', { ...WORKER.Properties, Environment: { Variables: Match.objectLike({ [ENV.resumeWaitMs]: Match.absent() }) } });
  });

  it('reports batch item failures from the SQS event source, one message per batch by default', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WorkerQueue'), 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 1,
    });
  });

  it('sets the worker\'s environment contract (handlers/config.ts ENV) and nothing else: no start-up options that slow every cold start', () => {
    const variables = new Capture();
    template.hasResourceProperties('AWS::Lambda::Function', { ...WORKER.Properties, Environment: { Variables: variables } });
    expect(Object.keys(variables.asObject())).to.have.members([
      ENV.writerHost, ENV.readerHost, ENV.port, ENV.database, ENV.secretId, ENV.allowedHosts, ENV.tls, ENV.caFile, ENV.poolMax, ENV.metricNamespace, ENV.maxReceiveCount,
    ]);
    expect(variables.asObject()).to.include({ [ENV.port]: '5432', [ENV.database]: 'postgres' });
  });

  it('configures TLS verify-full against the runtime\'s CA bundle, which holds the RDS CAs, given to the database connections only', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      ...WORKER.Properties,
      Environment: { Variables: Match.objectLike({ [ENV.tls]: 'verify-full', [ENV.caFile]: '/var/runtime/ca-cert.pem' }) },
    });
  });

  it('never puts a secret value in the environment: DB_SECRET_ID is a reference to the secret', () => {
    const variables = new Capture();
    template.hasResourceProperties('AWS::Lambda::Function', { ...WORKER.Properties, Environment: { Variables: variables } });
    const env = variables.asObject();
    expect(JSON.stringify(env)).not.to.match(/resolve:secretsmanager|SecretString|password/i);
    expect(JSON.stringify(env[ENV.secretId])).to.match(/ClusterSecretAttachment/);
  });

  it('adds AllowedHosts to the allowlist', () => {
    const variables = new Capture();
    synthStacks(CUSTOM_CONTEXT).load.hasResourceProperties('AWS::Lambda::Function', { ...WORKER.Properties, Environment: { Variables: variables } });
    expect(JSON.stringify(variables.asObject()[ENV.allowedHosts])).to.match(/,replica-east\.example\.com,10\.1\.2\.3:6432"\]\]\}$/);
  });

  it('puts metrics in the configured MetricNamespace, on the worker and in its permission', () => {
    const custom = synthStacks(CUSTOM_CONTEXT).load;
    custom.hasResourceProperties('AWS::Lambda::Function', { ...WORKER.Properties, Environment: { Variables: Match.objectLike({ [ENV.metricNamespace]: 'Team/LoadTest' }) } });
    custom.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'cloudwatch:PutMetricData', Condition: { StringEquals: { 'cloudwatch:namespace': 'Team/LoadTest' } } })]) },
    });
  });

  it('allows messages to name each instance endpoint explicitly', () => {
    const variables = new Capture();
    template.hasResourceProperties('AWS::Lambda::Function', { ...WORKER.Properties, Environment: { Variables: variables } });
    const allowed = JSON.stringify(variables.asObject()[ENV.allowedHosts]);
    expect(allowed).to.match(/ClusterWriterEndpointAddress/).and.to.match(/ClusterReader1EndpointAddress/);
  });

  describe('IAM', () => {
    let statements: PolicyStatement[];
    before(() => {
      const policies = template.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^WorkerFunctionServiceRole') }] },
      });
      const [policy] = Object.values(policies) as Array<{ Properties: { PolicyDocument: { Statement: PolicyStatement[] } } }>;
      if (!policy) throw new Error('no worker policy');
      statements = policy.Properties.PolicyDocument.Statement;
    });

    it('grants exactly three statements: consume the queue, read the secret, put metrics', () => {
      expect(statements).to.have.length(3);
    });

    it('lets the worker consume its own queue only', () => {
      expect(statements).to.deep.include({
        Action: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [Object.keys(template.findResources('AWS::SQS::Queue', { Properties: { RedrivePolicy: Match.anyValue() } }))[0], 'Arn'] },
      });
    });

    it('lets the worker read the cluster\'s secret only', () => {
      const read = statements.find((s) => JSON.stringify(s.Action).includes('secretsmanager:GetSecretValue'));
      expect(read?.Action).to.deep.equal(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
      expect(JSON.stringify(read?.Resource)).to.match(/LoadTest-Database.*ClusterSecretAttachment/);
    });

    it('lets the worker put metrics in its own namespace only', () => {
      expect(statements).to.deep.include({
        Action: 'cloudwatch:PutMetricData',
        Effect: 'Allow',
        Resource: '*',
        Condition: { StringEquals: { 'cloudwatch:namespace': 'AuroraLoadTest' } },
      });
    });

    it('has no other wildcard resource', () => {
      const wildcards = statements.filter((s) => JSON.stringify(s.Resource).includes('*'));
      expect(wildcards.map((s) => s.Action)).to.deep.equal(['cloudwatch:PutMetricData']);
    });
  });

  describe('the schema custom resource', () => {
    it('creates the schema of every workload on deploy, at Scale 1', () => {
      const names = projectCatalog().names;
      for (const workload of names) {
        template.hasResourceProperties('Custom::WorkloadSchema', { Workload: workload, Scale: 1 });
      }
      template.resourceCountIs('Custom::WorkloadSchema', names.length);
    });

    it('runs a workload\'s init.sql again on deploy when it changes (its content hash is a property)', () => {
      template.hasResourceProperties('Custom::WorkloadSchema', { Workload: 'seed', InitHash: projectCatalog().get('seed')!.init!.hash });
    });

    it('has the worker itself handle the events, through the provider framework', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: { USER_ON_EVENT_FUNCTION_ARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WorkerFunction'), 'Arn'] } } },
      });
    });

    it('creates the schemas at the configured Scale', () => {
      synthStacks(CUSTOM_CONTEXT).load.hasResourceProperties('Custom::WorkloadSchema', { Workload: 'tpcb', Scale: 10 });
    });
  });
});
