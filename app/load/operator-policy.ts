import { Aws, ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface OperatorPolicyProps {
  /** The queue `node trigger` sends to, reads the depth of, and `stop` purges. */
  readonly queue: sqs.IQueue;
  /** The dead-letter queue, whose depth the summary reports. */
  readonly deadLetterQueue: sqs.IQueue;
  /**
   * The Aurora cluster: a run's report lists its instances (to read their metrics) and
   * `--failover-at` fails it over.
   *
   * @default - no cluster permissions (a bring-your-own database without DbClusterIdentifier)
   */
  readonly clusterIdentifier?: string;
}

/**
 * What a person needs to run `node trigger` against this stack (run, report, init, stop and the
 * failover drill), as one managed policy to attach to their role or user: the stack's outputs,
 * the queues, the metrics, and the cluster (its instances for the report, failover for drills). test/app/iam-from-calls.test.ts runs the
 * trigger's code paths and checks every AWS call it makes against this policy.
 */
export class OperatorPolicy extends Construct {
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: OperatorPolicyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const statements = [
      // The trigger finds the queue, endpoints and limits in this stack's outputs.
      new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: [Aws.STACK_ID] }),
      new iam.PolicyStatement({ actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:PurgeQueue'], resources: [props.queue.queueArn] }),
      new iam.PolicyStatement({ actions: ['sqs:GetQueueAttributes'], resources: [props.deadLetterQueue.queueArn] }),
      // GetMetricData supports no resource-level permissions.
      new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }),
    ];
    if (props.clusterIdentifier !== undefined) {
      const cluster = stack.formatArn({ service: 'rds', resource: 'cluster', resourceName: props.clusterIdentifier, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
      statements.push(new iam.PolicyStatement({ actions: ['rds:DescribeDBClusters', 'rds:FailoverDBCluster'], resources: [cluster] }));
    }
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description: 'Aurora load test: run node trigger against this stack (run, report, init, stop, --failover-at)',
      statements,
    });
    Validations.of(this.policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'cloudwatch:GetMetricData supports no resource-level permissions: the trigger reads its runs\' metrics with it.',
    });
  }
}
