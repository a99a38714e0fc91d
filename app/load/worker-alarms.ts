import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface WorkerAlarmsProps {
  /** The worker's dead-letter queue: any message in it is an alarm. */
  readonly deadLetterQueue: sqs.IQueue;
  /** The worker function: any error or throttle is an alarm. */
  readonly function: lambda.IFunction;
}

/**
 * The three things that mean a load test's numbers cannot be trusted: messages that gave up
 * (dead-letter queue not empty), invocations that crashed, and invocations Lambda refused. They
 * have no actions: they show on the dashboard (add an SNS action to be notified).
 */
export class WorkerAlarms extends Construct {
  readonly deadLetterQueueNotEmpty: cloudwatch.Alarm;
  readonly workerErrors: cloudwatch.Alarm;
  readonly workerThrottles: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: WorkerAlarmsProps) {
    super(scope, id);
    const atLeastOne = {
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    this.deadLetterQueueNotEmpty = new cloudwatch.Alarm(this, 'DeadLetterQueueNotEmpty', {
      ...atLeastOne,
      alarmDescription: 'Messages reached the dead-letter queue: they failed maxReceiveCount times. Inspect them before trusting a run.',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
    });
    this.workerErrors = new cloudwatch.Alarm(this, 'WorkerErrors', {
      ...atLeastOne,
      alarmDescription: 'Worker invocations failed as a whole (not single statements): see the function logs.',
      metric: props.function.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }),
    });
    this.workerThrottles = new cloudwatch.Alarm(this, 'WorkerThrottles', {
      ...atLeastOne,
      alarmDescription: 'Lambda throttled the worker: the account concurrency or the reserved concurrency is too low for the planned workers.',
      metric: props.function.metricThrottles({ period: Duration.minutes(1), statistic: 'Sum' }),
    });
  }

  get all(): cloudwatch.Alarm[] {
    return [this.deadLetterQueueNotEmpty, this.workerErrors, this.workerThrottles];
  }
}
