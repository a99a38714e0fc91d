import { expect } from 'chai';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { DescribeDBClustersCommand, RDSClient } from '@aws-sdk/client-rds';
import { readDatabaseSection } from '../../trigger/aws/database-metrics';
import type { Timeline } from '../../trigger/report/run-record';
import { FakeCloudWatch } from './helpers/fake-cloudwatch';

/** A whole minute, epoch ms. */
const T0 = 1_800_000_000_000 - (1_800_000_000_000 % 60_000);
const creds = { region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };
/** A run's timeline of 90 one-second steps from T0 + 10 s: only its window matters here. */
const timeline: Timeline = { startMs: T0 + 10_000, stepSeconds: 1, steps: 90, series: [], messages: { ok: [], failed: [], invalid: [], dwell: [] } };

const datum = (namespace: string, name: string, dims: Record<string, string>, minute: number, value: number): [string, MetricDatum] =>
  [namespace, { MetricName: name, Dimensions: Object.entries(dims).map(([Name, Value]) => ({ Name, Value })), Timestamp: new Date(T0 + minute * 60_000 + 5_000), Value: value }];

describe('trigger: the database beside an AWS run (CloudWatch AWS/RDS and AWS/Lambda)', () => {
  const cwMock = mockClient(CloudWatchClient);
  const rdsMock = mockClient(RDSClient);
  let fake: FakeCloudWatch;
  const cw = new CloudWatchClient(creds);
  const rds = async () => new RDSClient(creds);

  beforeEach(() => {
    cwMock.reset();
    rdsMock.reset();
    fake = new FakeCloudWatch();
    for (const [ns, d] of [
      datum('AWS/RDS', 'CPUUtilization', { DBInstanceIdentifier: 'db-writer' }, 0, 35),
      datum('AWS/RDS', 'CPUUtilization', { DBInstanceIdentifier: 'db-writer' }, 1, 55),
      datum('AWS/RDS', 'ServerlessDatabaseCapacity', { DBInstanceIdentifier: 'db-writer' }, 1, 2.5),
      datum('AWS/RDS', 'DatabaseConnections', { DBInstanceIdentifier: 'db-reader' }, 0, 12),
      datum('AWS/RDS', 'AuroraReplicaLag', { DBInstanceIdentifier: 'db-reader' }, 1, 18.5),
      datum('AWS/RDS', 'CPUUtilization', { DBClusterIdentifier: 'db', Role: 'WRITER' }, 0, 41),
      datum('AWS/Lambda', 'ConcurrentExecutions', { FunctionName: 'worker-fn' }, 0, 3),
      datum('AWS/Lambda', 'Throttles', { FunctionName: 'worker-fn' }, 1, 2),
    ] as const) fake.put(ns, [d]);
    cwMock.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => fake.getMetricData(input));
    rdsMock.on(DescribeDBClustersCommand).resolves({ DBClusters: [{ DBClusterMembers: [
      { DBInstanceIdentifier: 'db-reader', IsClusterWriter: false }, { DBInstanceIdentifier: 'db-writer', IsClusterWriter: true },
    ] }] });
  });
  after(() => {
    cwMock.restore();
    rdsMock.restore();
  });

  it('reads each instance of the cluster, writer first, per minute, with only the metrics it publishes', async () => {
    const d = await readDatabaseSection(cw, rds, { clusterIdentifier: 'db', functionName: 'worker-fn' }, timeline, T0 + 600_000);
    expect(d.notes).to.deep.equal([]);
    expect(d.source.instances).to.deep.equal([{ id: 'db-writer', role: 'writer' }, { id: 'db-reader', role: 'reader' }]);
    const s = d.samples!;
    expect(s).to.include({ source: 'cloudwatch', startMs: T0, stepSeconds: 60, steps: 2 });
    expect(s.servers.map((x) => [x.name, x.role, Object.keys(x.metrics).sort()])).to.deep.equal([
      ['db-writer', 'writer', ['capacity', 'cpu']],
      ['db-reader', 'reader', ['connections', 'replicaLag']],
    ]);
    expect(s.servers[0]!.metrics.cpu).to.deep.equal([35, 55]);
    expect(s.servers[1]!.metrics.replicaLag).to.deep.equal([null, 18.5]);
    expect(s.worker).to.deep.equal({ concurrency: [3, null], throttles: [null, 2] });
    const periods = cwMock.commandCalls(GetMetricDataCommand).flatMap((c) => c.args[0].input.MetricDataQueries!.map((q) => q.MetricStat!.Period));
    expect(new Set(periods)).to.deep.equal(new Set([60]));
  });

  it('reads the writer and the readers by role when the instances cannot be listed, and says why', async () => {
    rdsMock.on(DescribeDBClustersCommand).rejects(Object.assign(new Error('User is not authorized to perform: rds:DescribeDBClusters'), { name: 'AccessDenied' }));
    const d = await readDatabaseSection(cw, rds, { clusterIdentifier: 'db' }, timeline, T0 + 600_000);
    expect(d.notes).to.have.length(1);
    expect(d.notes[0]).to.match(/^the instances of cluster db could not be listed \(AccessDenied: .*\): the database section shows its writer and its readers by role$/);
    expect(d.samples!.servers.map((x) => x.name)).to.deep.equal(['db writers', 'db readers']);
    expect(d.samples!.servers[0]!.metrics.cpu).to.deep.equal([41, null]);
  });

  it('reads the instances saved with a run again without listing them', async () => {
    const d = await readDatabaseSection(cw, rds, { clusterIdentifier: 'db', instances: [{ id: 'db-writer', role: 'reader' }] }, timeline, T0 + 600_000);
    expect(rdsMock.commandCalls(DescribeDBClustersCommand)).to.have.length(0);
    expect(d.samples!.servers.map((x) => [x.name, x.role])).to.deep.equal([['db-writer', 'reader']]);
  });

  it('never fails the run: a CloudWatch failure, or nothing to read, is a note', async () => {
    cwMock.on(GetMetricDataCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    const failed = await readDatabaseSection(cw, rds, { clusterIdentifier: 'db' }, timeline, T0 + 600_000);
    expect(failed.samples).to.equal(undefined);
    expect(failed.notes.at(-1)).to.equal('the database\'s own metrics could not be read from CloudWatch: Throttling: Rate exceeded');
    const none = await readDatabaseSection(cw, rds, {}, timeline, T0 + 600_000);
    expect(none.samples).to.equal(undefined);
    expect(none.notes).to.deep.equal(['no database metrics: the stack\'s DbClusterIdentifier and WorkerFunctionName outputs are unknown']);
  });
});
