import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { STACK_OUTPUT } from '../../handlers/contract';
import type { ExistingDatabaseConfig, WorkerSettings } from '../config';
import type { DatabaseTarget, WorkerPlacement } from './database-target';
import { ExistingDatabase } from './existing-database';
import { LoadTestDashboard } from './load-test-dashboard';
import { OperatorPolicy } from './operator-policy';
import { Worker } from './worker';
import { WorkerAlarms } from './worker-alarms';
import { WorkloadSchema } from './workload-schema';

/** The database the worker loads, and where the worker runs to reach it. */
export type LoadStackDatabase =
  /** Created by the network and database stacks. */
  | { readonly kind: 'created'; readonly placement: WorkerPlacement; readonly target: DatabaseTarget }
  /** The user's own, imported into this stack (imports create nothing). */
  | { readonly kind: 'existing'; readonly config: ExistingDatabaseConfig };

export interface LoadStackProps extends StackProps {
  /** The database to load: created by the other stacks, or the user's own. */
  readonly database: LoadStackDatabase;
  /** Concurrency, batch size, pool size, namespace, allowlist and schema scale of the worker. */
  readonly worker: WorkerSettings;
}

/**
 * Stateless: the queue, the worker, the schema custom resource, the alarms and the dashboard.
 * Safe to destroy and redeploy at any time; its outputs are how the trigger finds everything.
 */
export class LoadStack extends Stack {
  readonly worker: Worker;
  readonly dashboard: LoadTestDashboard;
  readonly outputs: { readonly [K in keyof typeof STACK_OUTPUT]?: CfnOutput };

  constructor(scope: Construct, id: string, props: LoadStackProps) {
    super(scope, id, props);
    const settings = props.worker;
    const { placement, target } = props.database.kind === 'existing'
      ? new ExistingDatabase(this, 'ExistingDatabase', props.database.config)
      : props.database;
    this.worker = new Worker(this, 'Worker', {
      placement,
      database: target,
      maxConcurrency: settings.maxConcurrency,
      ...(settings.reservedConcurrency !== undefined ? { reservedConcurrency: settings.reservedConcurrency } : {}),
      batchSize: settings.batchSize,
      poolMax: settings.poolMax,
      metricNamespace: settings.metricNamespace,
      allowedHosts: settings.allowedHosts,
    });
    new WorkloadSchema(this, 'Schema', { worker: this.worker.function, catalog: this.worker.workloads, scale: settings.scale });
    const alarms = new WorkerAlarms(this, 'Alarms', { deadLetterQueue: this.worker.deadLetterQueue, function: this.worker.function });
    this.dashboard = new LoadTestDashboard(this, 'Dashboard', {
      queue: this.worker.queue,
      deadLetterQueue: this.worker.deadLetterQueue,
      function: this.worker.function,
      metricNamespace: settings.metricNamespace,
      alarms: alarms.all,
      ...(target.clusterIdentifier !== undefined ? { clusterIdentifier: target.clusterIdentifier } : {}),
      serverless: target.serverless ?? false,
    });

    const operator = new OperatorPolicy(this, 'Operator', {
      queue: this.worker.queue,
      deadLetterQueue: this.worker.deadLetterQueue,
      ...(target.clusterIdentifier !== undefined ? { clusterIdentifier: target.clusterIdentifier } : {}),
    });

    const output = (name: string, value: string, description: string) => new CfnOutput(this, name, { value, description });
    this.outputs = {
      queueUrl: output(STACK_OUTPUT.queueUrl, this.worker.queue.queueUrl, 'The trigger sends load here'),
      deadLetterQueueUrl: output(STACK_OUTPUT.deadLetterQueueUrl, this.worker.deadLetterQueue.queueUrl, 'Messages that failed maxReceiveCount times'),
      writerEndpoint: output(STACK_OUTPUT.writerEndpoint, target.writerHost, 'Writes go here'),
      readerEndpoint: output(STACK_OUTPUT.readerEndpoint, target.readerHost, 'Reads go here'),
      dashboardUrl: output(STACK_OUTPUT.dashboardUrl, this.dashboard.url, 'CloudWatch dashboard of the load test'),
      ...(target.clusterIdentifier !== undefined
        ? { dbClusterIdentifier: output(STACK_OUTPUT.dbClusterIdentifier, target.clusterIdentifier, 'Aurora cluster, for failover drills') }
        : {}),
      workerMaxConcurrency: output(STACK_OUTPUT.workerMaxConcurrency, String(settings.maxConcurrency), 'Most workers that run at once'),
      workerPoolMax: output(STACK_OUTPUT.workerPoolMax, String(settings.poolMax), 'Connections per pool in each worker'),
      metricNamespace: output(STACK_OUTPUT.metricNamespace, settings.metricNamespace, 'Namespace of the custom metrics'),
      operatorPolicyArn: output(STACK_OUTPUT.operatorPolicyArn, operator.policy.managedPolicyArn, 'Attach to whoever runs node trigger'),
      workerFunctionName: output(STACK_OUTPUT.workerFunctionName, this.worker.function.functionName, 'The worker function, for its concurrency and throttles in reports'),
    };
  }
}
