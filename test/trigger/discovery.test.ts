import { expect } from 'chai';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { discover, DiscoveryError } from '../../trigger/aws/discovery';

describe('trigger: discovery from the deployed stack', () => {
  const cfnMock = mockClient(CloudFormationClient);
  const cfn = new CloudFormationClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  beforeEach(() => cfnMock.reset());
  after(() => cfnMock.restore());

  const outputs = (o: Record<string, string>) => ({ Stacks: [{ StackName: 'LoadTest-Load', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE' as const, Outputs: Object.entries(o).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }] });

  it('reads the queue, endpoints, worker limits and namespace from the stack outputs', async () => {
    cfnMock.on(DescribeStacksCommand, { StackName: 'LoadTest-Load' }).resolves(outputs({
      QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/q', DeadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/dlq',
      WriterEndpoint: 'c.cluster-x.eu-west-1.rds.amazonaws.com', ReaderEndpoint: 'c.cluster-ro-x.eu-west-1.rds.amazonaws.com',
      WorkerMaxConcurrency: '50', WorkerPoolMax: '4', MetricNamespace: 'MyNs',
    }));
    const d = await discover(cfn, 'LoadTest-Load', 'eu-west-1');
    expect(d).to.deep.include({ queueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/q', workerMaxConcurrency: 50, workerPoolMax: 4, metricNamespace: 'MyNs' });
    expect(d.dbClusterIdentifier).to.equal(undefined);
  });

  it('defaults the namespace to AuroraLoadTest when the stack does not say', async () => {
    cfnMock.on(DescribeStacksCommand).resolves(outputs({ QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/q' }));
    expect((await discover(cfn, 'LoadTest-Load', undefined)).metricNamespace).to.equal('AuroraLoadTest');
  });

  it('says in one line that nothing is deployed, and what to do, when the stack does not exist', async () => {
    const e = Object.assign(new Error('Stack with id LoadTest-Load does not exist'), { name: 'ValidationError' });
    cfnMock.on(DescribeStacksCommand).rejects(e);
    const err = await discover(cfn, 'LoadTest-Load', 'eu-west-1').catch((x: unknown) => x) as DiscoveryError;
    expect(err).to.be.instanceOf(DiscoveryError);
    expect(err.exitCode).to.equal(2);
    expect(err.message).to.equal('No deployed load test found: stack LoadTest-Load in eu-west-1 does not exist. '
      + 'Deploy the load test (npx cdk deploy LoadTestPipeline, then git push), pass --queue-url URL, or run on this machine with --local');
  });

  it('turns a network failure into the same one-line advice', async () => {
    cfnMock.on(DescribeStacksCommand).rejects(Object.assign(new Error('getaddrinfo ENOTFOUND cloudformation.eu-west-1.amazonaws.com'), { code: 'ENOTFOUND' }));
    const err = await discover(cfn, 'LoadTest-Load', 'eu-west-1').catch((x: unknown) => x) as DiscoveryError;
    expect(err.message).to.match(/^Cannot look up the deployed load test \(stack LoadTest-Load in eu-west-1\): AWS is not reachable from here \(no network\?\)\. Deploy/);
    expect(err.message).not.to.contain('\n');
  });

  it('refuses a stack without a QueueUrl output', async () => {
    cfnMock.on(DescribeStacksCommand).resolves(outputs({ DashboardUrl: 'https://x' }));
    const err = await discover(cfn, 'Other', 'eu-west-1').catch((x: unknown) => x) as DiscoveryError;
    expect(err.message).to.match(/^stack Other in eu-west-1 has no QueueUrl output/);
  });
});
