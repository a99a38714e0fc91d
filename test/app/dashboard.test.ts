import { Capture, Match, type Template } from 'aws-cdk-lib/assertions';
import { expect } from 'chai';
import { METRIC } from '../../handlers/contract';
import { BYO_ARN_CONTEXT, BYO_CONTEXT, CUSTOM_CONTEXT, synthStacks } from './synth';

/** The dashboard body with its tokens (Fn::Join pieces, references) flattened into one string. */
function dashboardBody(template: Template): string {
  const body = new Capture();
  template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardBody: body });
  const flatten = (value: unknown): string =>
    typeof value === 'string' ? value
      : Array.isArray(value) ? value.map(flatten).join('')
      : value && typeof value === 'object' && 'Fn::Join' in value ? flatten((value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1])
      : `<${JSON.stringify(value)}>`;
  return flatten(body.asObject());
}

describe('app/load: dashboard and alarms', () => {
  let created: string;
  let existing: string;
  before(() => {
    created = dashboardBody(synthStacks().load);
    existing = dashboardBody(synthStacks(BYO_CONTEXT).load);
  });

  for (const stat of ['p50', 'p90', 'p99']) {
    it(`graphs statement latency ${stat} per operation, target and run from the worker's namespace`, () => {
      expect(created).to.include(`SEARCH('{AuroraLoadTest,Operation,RunId,Target} MetricName=\\"${METRIC.latency}\\"', '${stat}', 60)`);
    });
  }

  it('graphs statement errors by SQLSTATE class, schedule lag and queue dwell', () => {
    expect(created).to.include(`SEARCH('{AuroraLoadTest,ErrorClass,Operation,RunId,Target} MetricName=\\"${METRIC.errors}\\"', 'Sum', 60)`);
    expect(created).to.include(`SEARCH('{AuroraLoadTest,Operation,RunId,Target} MetricName=\\"${METRIC.scheduleLag}\\"', 'p99', 60)`);
    expect(created).to.include(`SEARCH('{AuroraLoadTest,RunId} MetricName=\\"${METRIC.queueDwell}\\"', 'p99', 60)`);
  });

  it('graphs which server role (primary or standby) answered each operation and target', () => {
    expect(created).to.include(`SEARCH('{AuroraLoadTest,Operation,RunId,Server,Target} MetricName=\\"${METRIC.answered}\\"', 'Sum', 60)`);
  });

  it('searches the configured MetricNamespace', () => {
    const body = dashboardBody(synthStacks(CUSTOM_CONTEXT).load);
    expect(body).to.include(`SEARCH('{\\"Team/LoadTest\\",Operation,RunId,Target} MetricName=\\"${METRIC.latency}\\"', 'p99', 60)`);
  });

  it('graphs queue depth and the age of the oldest message', () => {
    for (const metric of ['ApproximateNumberOfMessagesVisible', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateAgeOfOldestMessage']) {
      expect(created).to.include(`"AWS/SQS","${metric}"`);
    }
  });

  it('graphs worker invocations, concurrent executions, errors and throttles', () => {
    for (const metric of ['Invocations', 'ConcurrentExecutions', 'Errors', 'Throttles']) {
      expect(created).to.include(`"AWS/Lambda","${metric}"`);
    }
  });

  it('graphs Aurora CPU, connections, commit latency and replica lag in create mode', () => {
    for (const metric of ['CPUUtilization', 'DatabaseConnections', 'CommitLatency', 'AuroraReplicaLag', 'ServerlessDatabaseCapacity']) {
      expect(created).to.include(`"AWS/RDS","${metric}"`);
    }
  });

  it('has no Aurora widgets for an existing database without DbClusterIdentifier', () => {
    expect(existing).not.to.include('AWS/RDS');
  });

  it('graphs the Aurora cluster of an existing database given DbClusterIdentifier', () => {
    const body = dashboardBody(synthStacks(BYO_ARN_CONTEXT).load);
    expect(body).to.include('"AWS/RDS","CPUUtilization","DBClusterIdentifier","prod-aurora","Role","WRITER"');
    expect(body).not.to.include('ServerlessDatabaseCapacity');
  });

  it('alarms when the dead-letter queue is not empty, and on worker errors and throttles', () => {
    const template = synthStacks().load;
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
    const atLeastOne = { Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' };
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...atLeastOne, Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WorkerDeadLetterQueue'), 'QueueName'] } }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { ...atLeastOne, Namespace: 'AWS/Lambda', MetricName: 'Errors' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { ...atLeastOne, Namespace: 'AWS/Lambda', MetricName: 'Throttles' });
  });

  it('links the dashboard from the DashboardUrl output', () => {
    const url = new Capture();
    synthStacks().load.hasOutput('DashboardUrl', { Value: url });
    expect(JSON.stringify(url.asObject())).to.match(/console\.aws\.amazon\.com\/cloudwatch\/home\?region=eu-west-1#dashboards:name=.*Dashboard/);
  });
});
