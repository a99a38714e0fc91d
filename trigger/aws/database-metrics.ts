/**
 * The database's own view of an AWS run: the Aurora instances' metrics (AWS/RDS) and the worker
 * function's (AWS/Lambda) over the run's window, read with GetMetricData, in the shape a local
 * run's sampled servers have (report/database.ts).
 *
 * - Aurora, per instance (dimension DBInstanceIdentifier), or per role (DBClusterIdentifier + Role
 *   WRITER/READER) when the instances are not known: ServerlessDatabaseCapacity, CPUUtilization,
 *   DatabaseConnections, CommitThroughput, CommitLatency, AuroraReplicaLag ("Amazon CloudWatch
 *   metrics for Amazon Aurora", https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.AuroraMonitoring.Metrics.html;
 *   "Amazon CloudWatch dimensions for Aurora", https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/dimensions.html).
 *   A metric an instance does not publish (no replica lag on the writer, no capacity on a
 *   provisioned instance) is left out.
 * - Lambda, by FunctionName: ConcurrentExecutions and Throttles ("Types of metrics for Lambda
 *   functions", https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html).
 *
 * Both services publish once a minute (regular resolution), and GetMetricData takes no period
 * under 60 s for such metrics (API Reference, MetricStat:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricStat.html): this
 * section has 60-second steps, or coarser for old windows, while the load's own are 1 s.
 * GetMetricData needs cloudwatch:GetMetricData (no resource-level permissions); the instances come
 * from rds:DescribeDBClusters on the cluster.
 */
import { GetMetricDataCommand, type CloudWatchClient, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { RDSClient } from '@aws-sdk/client-rds';
import { STACK_OUTPUT } from '../../handlers/contract';
import type { DatabaseMetric, DatabaseSamples, DatabaseServer, Samples } from '../report/database';
import type { DatabaseSource, Timeline } from '../report/run-record';
import { round } from '../round';
import { describeAwsFailure } from './discovery';
import { stepSecondsFor } from './run-metrics';

const RDS_NAMESPACE = 'AWS/RDS';
const LAMBDA_NAMESPACE = 'AWS/Lambda';

/**
 * Each database metric: its AWS/RDS name and the statistic per step. Maximum for gauges whose
 * peaks matter (a minute's worst CPU, most connections, largest capacity and lag); Average for
 * the rates and latencies Aurora itself reports as averages.
 */
const RDS_METRICS: Readonly<Record<DatabaseMetric, { readonly name: string; readonly stat: 'Maximum' | 'Average' }>> = {
  capacity: { name: 'ServerlessDatabaseCapacity', stat: 'Maximum' },
  cpu: { name: 'CPUUtilization', stat: 'Maximum' },
  connections: { name: 'DatabaseConnections', stat: 'Maximum' },
  commits: { name: 'CommitThroughput', stat: 'Average' },
  commitLatency: { name: 'CommitLatency', stat: 'Average' },
  replicaLag: { name: 'AuroraReplicaLag', stat: 'Maximum' },
};

/**
 * The cluster's instances and their roles, from DescribeDBClusters; undefined when they cannot
 * be read (the caller falls back to per-role metrics and says so).
 */
async function describeInstances(client: RDSClient, clusterIdentifier: string): Promise<DatabaseSource['instances']> {
  const { DescribeDBClustersCommand } = require('@aws-sdk/client-rds') as typeof import('@aws-sdk/client-rds');
  const cluster = (await client.send(new DescribeDBClustersCommand({ DBClusterIdentifier: clusterIdentifier }))).DBClusters?.[0];
  const members = (cluster?.DBClusterMembers ?? []).filter((m) => m.DBInstanceIdentifier);
  if (!members.length) return undefined;
  return members
    .map((m) => ({ id: m.DBInstanceIdentifier!, role: m.IsClusterWriter ? 'writer' as const : 'reader' as const }))
    .sort((a, b) => (a.role === b.role ? a.id.localeCompare(b.id) : a.role === 'writer' ? -1 : 1));
}

interface Want {
  readonly server?: number;
  readonly metric?: DatabaseMetric;
  readonly worker?: 'concurrency' | 'throttles';
}

/**
 * The database section over [startMs, endMs), read at `now`: one step per minute (coarser for old
 * windows), instances (or roles) in the order given, writer first. Undefined when there is
 * nothing to read (no cluster and no function known).
 */
async function readDatabase(cw: CloudWatchClient, source: DatabaseSource, startMs: number, endMs: number, now: number): Promise<DatabaseSamples | undefined> {
  const servers: Array<{ name: string; role: 'writer' | 'reader'; dims: Array<{ Name: string; Value: string }> }> = source.instances
    ? source.instances.map((i) => ({ name: i.id, role: i.role, dims: [{ Name: 'DBInstanceIdentifier', Value: i.id }] }))
    : source.clusterIdentifier
      ? (['writer', 'reader'] as const).map((role) => ({
          name: `${source.clusterIdentifier} ${role}s`, role,
          dims: [{ Name: 'DBClusterIdentifier', Value: source.clusterIdentifier! }, { Name: 'Role', Value: role.toUpperCase() }],
        }))
      : [];
  if (!servers.length && !source.functionName) return undefined;

  const stepSeconds = Math.max(60, stepSecondsFor(startMs, now));
  const stepMs = stepSeconds * 1000;
  const start = Math.floor(startMs / stepMs) * stepMs;
  const end = Math.max(start + stepMs, Math.ceil(endMs / stepMs) * stepMs);
  const steps = (end - start) / stepMs;

  const queries: MetricDataQuery[] = [];
  const wants = new Map<string, Want>();
  const add = (want: Want, namespace: string, name: string, dims: Array<{ Name: string; Value: string }>, stat: string): void => {
    const Id = `d${queries.length}`;
    wants.set(Id, want);
    queries.push({ Id, ReturnData: true, MetricStat: { Metric: { Namespace: namespace, MetricName: name, Dimensions: dims }, Period: stepSeconds, Stat: stat } });
  };
  servers.forEach((s, server) => {
    for (const [metric, m] of Object.entries(RDS_METRICS) as Array<[DatabaseMetric, (typeof RDS_METRICS)[DatabaseMetric]]>) add({ server, metric }, RDS_NAMESPACE, m.name, s.dims, m.stat);
  });
  if (source.functionName) {
    const dims = [{ Name: 'FunctionName', Value: source.functionName }];
    add({ worker: 'concurrency' }, LAMBDA_NAMESPACE, 'ConcurrentExecutions', dims, 'Maximum');
    add({ worker: 'throttles' }, LAMBDA_NAMESPACE, 'Throttles', dims, 'Sum');
  }

  const values = new Map<string, Array<number | null>>();
  for (let i = 0; i < queries.length; i += 500) {
    let NextToken: string | undefined;
    do {
      const res = await cw.send(new GetMetricDataCommand({
        MetricDataQueries: queries.slice(i, i + 500), StartTime: new Date(start), EndTime: new Date(end), ScanBy: 'TimestampAscending',
        ...(NextToken ? { NextToken } : {}),
      }));
      for (const r of res.MetricDataResults ?? []) {
        let xs = values.get(r.Id ?? '');
        if (!xs) values.set(r.Id ?? '', (xs = new Array<number | null>(steps).fill(null)));
        (r.Timestamps ?? []).forEach((t, j) => {
          const v = r.Values?.[j];
          const k = Math.floor((new Date(t).getTime() - start) / stepMs);
          if (v !== undefined && Number.isFinite(v) && k >= 0 && k < steps) xs![k] = round(v, 3);
        });
      }
      NextToken = res.NextToken;
    } while (NextToken);
  }
  const samplesOf = (f: (w: Want) => boolean): Samples | undefined => {
    for (const [id, w] of wants) if (f(w)) return values.get(id)?.some((x) => x !== null) ? values.get(id) : undefined;
    return undefined;
  };
  const out: DatabaseServer[] = servers.map((s, server) => {
    const metrics: Partial<Record<DatabaseMetric, Samples>> = {};
    for (const metric of Object.keys(RDS_METRICS) as DatabaseMetric[]) {
      const xs = samplesOf((w) => w.server === server && w.metric === metric);
      if (xs) metrics[metric] = xs;
    }
    return { name: s.name, role: s.role, metrics };
  });
  const empty = new Array<number | null>(steps).fill(null);
  return {
    source: 'cloudwatch', startMs: start, stepSeconds, steps, servers: out,
    ...(source.functionName ? {
      worker: { concurrency: samplesOf((w) => w.worker === 'concurrency') ?? empty, throttles: samplesOf((w) => w.worker === 'throttles') ?? empty },
    } : {}),
  };
}

/** What {@link readDatabaseSection} found: the samples, whose they are (saved to read again), and notes. */
export interface DatabaseSection {
  readonly samples?: DatabaseSamples;
  readonly source: DatabaseSource;
  readonly notes: string[];
}

/**
 * The database section of an AWS run over its timeline's window: the cluster's instances are
 * looked up once (unless `source` already has them, as a saved run does), then their metrics and
 * the worker's are read. Never fails the run: what cannot be read becomes a note.
 */
export async function readDatabaseSection(cw: CloudWatchClient, rdsClient: () => Promise<RDSClient>, source: DatabaseSource, timeline: Timeline, now: number): Promise<DatabaseSection> {
  const notes: string[] = [];
  let src = source;
  if (src.clusterIdentifier && !src.instances) {
    const client = await rdsClient();
    try {
      const instances = await describeInstances(client, src.clusterIdentifier);
      if (instances) src = { ...src, instances };
    } catch (e) {
      notes.push(`the instances of cluster ${src.clusterIdentifier} could not be listed (${describeAwsFailure(e)}): the database section shows its writer and its readers by role`);
    } finally {
      client.destroy();
    }
  }
  if (!src.clusterIdentifier && !src.functionName) notes.push(`no database metrics: the stack's ${STACK_OUTPUT.dbClusterIdentifier} and ${STACK_OUTPUT.workerFunctionName} outputs are unknown`);
  else if (!src.clusterIdentifier) notes.push(`the stack has no ${STACK_OUTPUT.dbClusterIdentifier} output (bring-your-own database): the database section has only the worker's metrics`);
  try {
    const samples = await readDatabase(cw, src, timeline.startMs, timeline.startMs + timeline.steps * timeline.stepSeconds * 1000, now);
    return { ...(samples ? { samples } : {}), source: src, notes };
  } catch (e) {
    notes.push(`the database's own metrics could not be read from CloudWatch: ${describeAwsFailure(e)}`);
    return { source: src, notes };
  }
}
