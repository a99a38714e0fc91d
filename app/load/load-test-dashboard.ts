import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DIMENSION, DIMENSIONS_OF, METRIC } from '../../handlers/contract';

export interface LoadTestDashboardProps {
  /** The queue the trigger sends to. */
  readonly queue: sqs.IQueue;
  /** Its dead-letter queue. */
  readonly deadLetterQueue: sqs.IQueue;
  /** The worker function. */
  readonly function: lambda.IFunction;
  /** Namespace of the worker's custom metrics. */
  readonly metricNamespace: string;
  /**
   * Alarms shown at the top of the dashboard.
   *
   * @default - no alarm widget
   */
  readonly alarms?: readonly cloudwatch.IAlarm[];
  /**
   * The Aurora cluster, for its CPU, connections, commit latency and replica lag widgets.
   *
   * @default - no Aurora widgets (an existing database without a cluster identifier)
   */
  readonly clusterIdentifier?: string;
  /**
   * The cluster runs Aurora Serverless v2: adds the capacity (ACU) widget.
   *
   * @default false
   */
  readonly serverless?: boolean;
}

/** High-resolution custom metrics are summarised per minute on the dashboard. */
const PERIOD = Duration.minutes(1);
const WIDTH = 8;

/**
 * One dashboard for a test run, in the order one reads it: alarms; the latency the worker measured
 * (p50/p90/p99 per operation and target, errors, schedule lag, queue dwell); the queue; the worker
 * function and which server role answered; the Aurora cluster.
 */
export class LoadTestDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  /** Console URL of the dashboard. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: LoadTestDashboardProps) {
    super(scope, id);
    const ns = props.metricNamespace;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(1) });
    const region = Stack.of(this).region;
    this.url = `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${this.dashboard.dashboardName}`;

    if (props.alarms && props.alarms.length > 0) {
      this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 24, height: 3 }));
    }

    // Labels name the line by its dimensions, as the contract spells them.
    const dim = (name: string): string => `\${PROP('Dim.${name}')}`;
    const opOnTarget = `${dim(DIMENSION.operation)} on ${dim(DIMENSION.target)}`;
    this.dashboard.addWidgets(
      ...(['p50', 'p90', 'p99'] as const).map((stat) => new cloudwatch.GraphWidget({
        title: `Statement latency ${stat} (ms)`,
        width: WIDTH,
        left: [search(ns, METRIC.latency, stat, `${stat} ${opOnTarget} (${dim(DIMENSION.runId)})`)],
      })),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Statement errors by SQLSTATE class',
        width: WIDTH,
        left: [search(ns, METRIC.errors, 'Sum', `${dim(DIMENSION.errorClass)} ${opOnTarget}`)],
      }),
      new cloudwatch.GraphWidget({
        title: 'Schedule lag p99 (ms)',
        width: WIDTH,
        left: [search(ns, METRIC.scheduleLag, 'p99', opOnTarget)],
      }),
      new cloudwatch.GraphWidget({
        title: 'Queue dwell p50 / p99 (ms)',
        width: WIDTH,
        left: (['p50', 'p99'] as const).map((stat) => search(ns, METRIC.queueDwell, stat, `${stat} ${dim(DIMENSION.runId)}`)),
      }),
    );

    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Queue depth',
        width: WIDTH,
        left: [
          props.queue.metricApproximateNumberOfMessagesVisible({ label: 'visible', period: PERIOD, statistic: 'Maximum' }),
          props.queue.metricApproximateNumberOfMessagesNotVisible({ label: 'in flight', period: PERIOD, statistic: 'Maximum' }),
          props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ label: 'dead-letter', period: PERIOD, statistic: 'Maximum' }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Age of oldest message (s)',
        width: WIDTH,
        left: [props.queue.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: 'Maximum' })],
      }),
      new cloudwatch.GraphWidget({
        title: 'Worker invocations and concurrency',
        width: WIDTH,
        left: [props.function.metricInvocations({ period: PERIOD, statistic: 'Sum' })],
        right: [props.function.metric('ConcurrentExecutions', { period: PERIOD, statistic: 'Maximum' })],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Worker errors and throttles',
        width: WIDTH,
        left: [
          props.function.metricErrors({ period: PERIOD, statistic: 'Sum' }),
          props.function.metricThrottles({ period: PERIOD, statistic: 'Sum' }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Worker duration (ms)',
        width: WIDTH,
        left: [props.function.metricDuration({ period: PERIOD, statistic: 'p99' })],
      }),
      new cloudwatch.GraphWidget({
        title: 'Statements answered, by server role',
        width: WIDTH,
        // Proof that reads reach replicas: the worker asks each connection pg_is_in_recovery().
        left: [search(ns, METRIC.answered, 'Sum', `${opOnTarget} answered by ${dim(DIMENSION.server)}`)],
      }),
    );

    if (props.clusterIdentifier !== undefined) this.addAuroraWidgets(props.clusterIdentifier, props.serverless ?? false);
  }

  private addAuroraWidgets(clusterIdentifier: string, serverless: boolean): void {
    const rds = (metricName: string, statistic: string, role?: 'WRITER' | 'READER'): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: 'AWS/RDS',
        metricName,
        dimensionsMap: { DBClusterIdentifier: clusterIdentifier, ...(role ? { Role: role } : {}) },
        period: PERIOD,
        statistic,
        ...(role ? { label: role.toLowerCase() } : {}),
      });
    const byRole = (metricName: string, statistic: string): cloudwatch.Metric[] =>
      [rds(metricName, statistic, 'WRITER'), rds(metricName, statistic, 'READER')];
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Aurora CPU (%)', width: WIDTH, left: byRole('CPUUtilization', 'Maximum') }),
      new cloudwatch.GraphWidget({ title: 'Aurora connections', width: WIDTH, left: byRole('DatabaseConnections', 'Maximum') }),
      new cloudwatch.GraphWidget({ title: 'Aurora commit latency (ms)', width: WIDTH, left: [rds('CommitLatency', 'Average', 'WRITER')] }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Aurora replica lag (ms)', width: WIDTH, left: [rds('AuroraReplicaLag', 'Maximum', 'READER')] }),
      ...(serverless
        ? [new cloudwatch.GraphWidget({ title: 'Aurora Serverless capacity (ACU)', width: WIDTH, left: byRole('ServerlessDatabaseCapacity', 'Maximum') })]
        : []),
    );
  }
}

/**
 * A SEARCH over one of the worker's metrics. The schema names the metric's exact dimension set
 * (from the contract), so each (run, operation, target) is its own line and no other dimension
 * combination leaks in.
 */
function search(namespace: string, metricName: keyof typeof DIMENSIONS_OF, statistic: string, label: string): cloudwatch.SearchExpression {
  const quote = (name: string) => (/^[A-Za-z0-9_]+$/.test(name) ? name : `"${name}"`);
  const schema = [namespace, ...[...DIMENSIONS_OF[metricName]].sort()].map(quote).join(',');
  return new cloudwatch.SearchExpression({
    expression: `SEARCH('{${schema}} MetricName="${metricName}"', '${statistic}', ${PERIOD.toSeconds()})`,
    label,
    period: PERIOD,
  });
}
