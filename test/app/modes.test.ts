import { Match } from 'aws-cdk-lib/assertions';
import { expect } from 'chai';
import { BYO_ARN_CONTEXT, BYO_CONTEXT, synthStacks, type SynthesizedStacks } from './synth';

function workerEnvironment(synth: SynthesizedStacks): Record<string, unknown> {
  const functions = synth.load.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.handler' } });
  const [worker] = Object.values(functions) as Array<{ Properties: { Environment: { Variables: Record<string, unknown> } } }>;
  if (!worker) throw new Error('no worker function');
  return worker.Properties.Environment.Variables;
}

describe('app: create mode and bring-your-own mode side by side', () => {
  let created: SynthesizedStacks;
  let existing: SynthesizedStacks;
  before(() => {
    created = synthStacks();
    existing = synthStacks(BYO_CONTEXT);
  });

  it('create mode deploys LoadTest-Network, LoadTest-Database and LoadTest-Load', () => {
    const { network, database, load } = created.stacks;
    expect([network?.stackName, database?.stackName, load.stackName]).to.deep.equal(['LoadTest-Network', 'LoadTest-Database', 'LoadTest-Load']);
  });

  it('bring-your-own mode deploys LoadTest-Load alone', () => {
    expect(existing.stacks.network).to.equal(undefined);
    expect(existing.stacks.database).to.equal(undefined);
    expect(existing.stacks.load.stackName).to.equal('LoadTest-Load');
  });

  it('bring-your-own mode creates no VPC, no cluster and no security group', () => {
    for (const type of ['AWS::EC2::VPC', 'AWS::RDS::DBCluster', 'AWS::RDS::DBInstance', 'AWS::EC2::SecurityGroup', 'AWS::SecretsManager::Secret']) {
      existing.load.resourceCountIs(type, 0);
    }
  });

  it('bring-your-own mode runs the worker in the given subnets with the given security groups', () => {
    existing.load.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: {
        SubnetIds: BYO_CONTEXT.Subnets.split(','),
        SecurityGroupIds: BYO_CONTEXT.SecurityGroups.split(','),
      },
    });
  });

  it('create mode runs the worker in the private subnets with the worker security group', () => {
    created.load.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: {
        SubnetIds: [
          Match.objectLike({ 'Fn::GetStackOutput': Match.objectLike({ StackName: 'LoadTest-Network', OutputName: Match.stringLikeRegexp('PrivateSubnet1') }) }),
          Match.objectLike({ 'Fn::GetStackOutput': Match.objectLike({ StackName: 'LoadTest-Network', OutputName: Match.stringLikeRegexp('PrivateSubnet2') }) }),
        ],
        SecurityGroupIds: [Match.objectLike({ 'Fn::GetStackOutput': Match.objectLike({ OutputName: Match.stringLikeRegexp('WorkerSecurityGroup') }) })],
      },
    });
  });

  it('bring-your-own mode points the worker at the given endpoints and secret name', () => {
    expect(workerEnvironment(existing)).to.include({
      DB_WRITER_HOST: BYO_CONTEXT.WriterEndpoint,
      DB_READER_HOST: BYO_CONTEXT.ReaderEndpoint,
      DB_SECRET_ID: BYO_CONTEXT.SecretName,
    });
  });

  it('create mode points the worker at the cluster endpoints and the generated secret', () => {
    const env = workerEnvironment(created);
    const fromDatabase = (output: RegExp) => Match.objectLike({ 'Fn::GetStackOutput': Match.objectLike({ StackName: 'LoadTest-Database', OutputName: Match.stringLikeRegexp(output.source) }) });
    expect(Match.objectLike({
      DB_WRITER_HOST: fromDatabase(/ClusterEndpointAddress/),
      DB_READER_HOST: fromDatabase(/ClusterReadEndpointAddress/),
      DB_SECRET_ID: fromDatabase(/ClusterSecretAttachment/),
    }).test(env).isSuccess, JSON.stringify(env)).to.equal(true);
  });

  it('bring-your-own mode grants read on the named secret only', () => {
    existing.load.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
          Effect: 'Allow',
          Resource: `arn:aws:secretsmanager:eu-west-1:111111111111:secret:${BYO_CONTEXT.SecretName}-??????`,
        }]),
      },
    });
  });

  it('bring-your-own mode accepts a complete secret ARN and passes it through', () => {
    const arn = BYO_ARN_CONTEXT.SecretName;
    const synth = synthStacks(BYO_ARN_CONTEXT);
    expect(workerEnvironment(synth).DB_SECRET_ID).to.equal(arn);
    synth.load.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Resource: arn })]) },
    });
  });

  it('both modes publish the outputs the trigger reads; DbClusterIdentifier only with a known cluster', () => {
    const common = ['QueueUrl', 'DeadLetterQueueUrl', 'WriterEndpoint', 'ReaderEndpoint', 'DashboardUrl', 'WorkerMaxConcurrency', 'WorkerPoolMax', 'MetricNamespace', 'OperatorPolicyArn', 'WorkerFunctionName'];
    expect(Object.keys(created.load.findOutputs('*'))).to.have.members([...common, 'DbClusterIdentifier']);
    expect(Object.keys(existing.load.findOutputs('*'))).to.have.members(common);
  });

  it('bring-your-own mode accepts the secret RDS manages, by name, and grants read on it', () => {
    const name = 'rds!cluster-0123abcd-4567-89ef-0123-456789abcdef';
    const synth = synthStacks({ ...BYO_CONTEXT, SecretName: name });
    expect(workerEnvironment(synth).DB_SECRET_ID).to.equal(name);
    synth.load.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Resource: `arn:aws:secretsmanager:eu-west-1:111111111111:secret:${name}-??????` })]) },
    });
  });

  it('bring-your-own mode with SecretKmsKey lets the worker decrypt with that key, through Secrets Manager only', () => {
    const key = 'arn:aws:kms:eu-west-1:111111111111:key/0123abcd-4567-89ef-0123-456789abcdef';
    synthStacks({ ...BYO_CONTEXT, SecretKmsKey: key }).load.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([{ Action: 'kms:Decrypt', Effect: 'Allow', Resource: key, Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } } }]) },
    });
  });

  it('bring-your-own mode outputs DbClusterIdentifier when it is given', () => {
    synthStacks(BYO_ARN_CONTEXT).load.hasOutput('DbClusterIdentifier', { Value: 'prod-aurora' });
  });

  it('bring-your-own mode outputs the given endpoints', () => {
    existing.load.hasOutput('WriterEndpoint', { Value: BYO_CONTEXT.WriterEndpoint });
    existing.load.hasOutput('ReaderEndpoint', { Value: BYO_CONTEXT.ReaderEndpoint });
  });

  it('outputs the worker limits the trigger plans with', () => {
    created.load.hasOutput('WorkerMaxConcurrency', { Value: '10' });
    created.load.hasOutput('WorkerPoolMax', { Value: '4' });
    created.load.hasOutput('MetricNamespace', { Value: 'AuroraLoadTest' });
  });
});
