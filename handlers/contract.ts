/**
 * What the worker, the trigger and the CDK app must agree on, written once: the CloudWatch
 * namespace default, the metric and dimension names and which dimensions each metric carries, the
 * bounded set of error classes, the server roles, the message outcomes and the stack outputs.
 * The worker's sink publishes with it, the dashboard and alarms draw with it, the trigger's report
 * builds every CloudWatch query from it, and discovery reads the stack outputs by it; a test fails
 * when one of these names is typed anywhere else (test/handlers/contract.test.ts).
 *
 * No imports with a runtime cost: the CDK app loads it to draw a dashboard.
 */
import type { Target } from './workloads/catalog';

/** Namespace of the worker's metrics when the stack does not set one (`MetricNamespace`). */
export const METRIC_NAMESPACE_DEFAULT = 'AuroraLoadTest';

/** The worker's metrics. */
export const METRIC = {
  /** ms of each successful statement (slices: from its scheduled start). Values/Counts. */
  latency: 'Latency',
  /** ms a slice statement started after its scheduled time. Values/Counts. */
  scheduleLag: 'ScheduleLag',
  /** Failed statements, by error class. */
  errors: 'Errors',
  /** Slice statements that could not start in time (pgbench -L). */
  skipped: 'Skipped',
  /** Successful statements, by the role of the server that answered. */
  answered: 'Answered',
  /** ms from the trigger sending a message to a worker receiving it. Values/Counts. */
  queueDwell: 'QueueDwell',
  /** Messages handled, by outcome. */
  messages: 'Messages',
  /**
   * ms the sender's clock is ahead of the worker's at least (a message received before it was
   * sent); published only when above 0. Maximum.
   */
  senderClockAhead: 'SenderClockAhead',
  /**
   * ms from the writer acknowledging a staleness marker's commit to the first read on a reader
   * that returns it: replica staleness as a client sees it (the probe). Values/Counts.
   */
  staleness: 'Staleness',
  /** Staleness markers, by outcome: seen on the reader, not seen in time, or not written. */
  markers: 'StalenessMarkers',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** The dimensions the worker's metrics carry. */
export const DIMENSION = {
  runId: 'RunId',
  operation: 'Operation',
  target: 'Target',
  errorClass: 'ErrorClass',
  server: 'Server',
  outcome: 'Outcome',
} as const;
export type DimensionName = (typeof DIMENSION)[keyof typeof DIMENSION];

/** Which kind of server answered, as that server reported it (pg_is_in_recovery()). */
export const SERVER_ROLES = ['primary', 'standby'] as const;
export type ServerRole = (typeof SERVER_ROLES)[number];

/**
 * How the worker ended a message: done, failed (SQS redelivers it), refused as invalid, or not
 * run because it is a copy of one this execution environment already ran (SQS delivers at least
 * once). `deadLettered` counts, besides, the failed and invalid ones that were on their last
 * receive (ApproximateReceiveCount at the queue's maxReceiveCount): SQS moves them to the
 * dead-letter queue instead of delivering them again. It carries the message's own RunId
 * (`unknown` when the body cannot be read), so a run counts its own dead letters, never another
 * run's that happen to reach the queue meanwhile.
 */
export const MESSAGE_OUTCOMES = ['ok', 'failed', 'invalid', 'duplicate', 'deadLettered'] as const;
export type MessageOutcome = (typeof MESSAGE_OUTCOMES)[number];

/**
 * What became of a staleness marker: read back on the reader, written but not seen within the
 * probe's limit, or not written at all (the writer failed).
 */
export const MARKER_OUTCOMES = ['seen', 'unseen', 'failed'] as const;
export type MarkerOutcome = (typeof MARKER_OUTCOMES)[number];

/**
 * The error classes the worker publishes, with what they mean: SQLSTATE classes a load test meets
 * (PostgreSQL Appendix A), `client` for failures without a SQLSTATE that are not a lost connection,
 * and `other` for every other SQLSTATE class.
 *
 * A bounded set, so that the report asks CloudWatch for every class by name and never lists
 * metrics: "After you create a metric, allow up to 15 minutes for the metric to appear. To see
 * metric statistics sooner, use GetMetricData or GetMetricStatistics." (Amazon CloudWatch API
 * Reference, ListMetrics, https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_ListMetrics.html).
 * Every run's metrics are new (each run has its own RunId), so a report that listed them first
 * could miss a fresh run's errors and pass a failing run.
 */
export const ERROR_CLASSES = {
  '08': 'connection exception',
  '22': 'data exception',
  '23': 'integrity constraint violation',
  '25': 'invalid transaction state (e.g. write on a read-only standby)',
  '28': 'invalid authorization',
  '40': 'transaction rollback (serialization / deadlock)',
  '42': 'syntax error or access rule violation (e.g. a missing table)',
  '53': 'insufficient resources (e.g. too many connections)',
  '54': 'program limit exceeded',
  '55': 'object not in prerequisite state (e.g. lock not available)',
  '57': 'operator intervention (e.g. statement timeout, shutdown)',
  '58': 'system error',
  XX: 'internal error',
  client: 'client-side failure without a SQLSTATE',
  other: 'any other SQLSTATE class',
} as const;
export type ErrorClass = keyof typeof ERROR_CLASSES;
export const ERROR_CLASS_NAMES = Object.keys(ERROR_CLASSES) as ErrorClass[];

/** The published class of a SQLSTATE class ("08", "P0", ...) or `client`: itself when in the set, else `other`. */
export function errorClassFor(sqlstateClass: string): ErrorClass {
  return Object.prototype.hasOwnProperty.call(ERROR_CLASSES, sqlstateClass) ? (sqlstateClass as ErrorClass) : 'other';
}

/** A CloudWatch dimension, as PutMetricData and GetMetricData take it. */
export interface Dimension {
  readonly Name: DimensionName;
  readonly Value: string;
}

/**
 * The dimensions of each metric, in one order, for the sink and every query. A statement's
 * metrics: run, operation, target (Errors add the class, Answered the server role); a message's:
 * run (Messages add the outcome).
 */
export const DIMENSIONS_OF = {
  [METRIC.latency]: [DIMENSION.runId, DIMENSION.operation, DIMENSION.target],
  [METRIC.scheduleLag]: [DIMENSION.runId, DIMENSION.operation, DIMENSION.target],
  [METRIC.skipped]: [DIMENSION.runId, DIMENSION.operation, DIMENSION.target],
  [METRIC.errors]: [DIMENSION.runId, DIMENSION.operation, DIMENSION.target, DIMENSION.errorClass],
  [METRIC.answered]: [DIMENSION.runId, DIMENSION.operation, DIMENSION.target, DIMENSION.server],
  [METRIC.queueDwell]: [DIMENSION.runId],
  [METRIC.messages]: [DIMENSION.runId, DIMENSION.outcome],
  [METRIC.senderClockAhead]: [DIMENSION.runId],
  [METRIC.staleness]: [DIMENSION.runId],
  [METRIC.markers]: [DIMENSION.runId, DIMENSION.outcome],
} as const satisfies Record<MetricName, readonly DimensionName[]>;

/** Dimensions of a statement metric (Latency, ScheduleLag, Skipped). */
export function statementDimensions(runId: string, op: string, target: Target): Dimension[] {
  return [{ Name: DIMENSION.runId, Value: runId }, { Name: DIMENSION.operation, Value: op }, { Name: DIMENSION.target, Value: target }];
}

export function errorDimensions(runId: string, op: string, target: Target, errorClass: ErrorClass): Dimension[] {
  return [...statementDimensions(runId, op, target), { Name: DIMENSION.errorClass, Value: errorClass }];
}

export function answeredDimensions(runId: string, op: string, target: Target, server: ServerRole): Dimension[] {
  return [...statementDimensions(runId, op, target), { Name: DIMENSION.server, Value: server }];
}

/** Dimensions of a per-run message metric (QueueDwell, SenderClockAhead). */
export function dwellDimensions(runId: string): Dimension[] {
  return [{ Name: DIMENSION.runId, Value: runId }];
}

export function messageDimensions(runId: string, outcome: MessageOutcome): Dimension[] {
  return [{ Name: DIMENSION.runId, Value: runId }, { Name: DIMENSION.outcome, Value: outcome }];
}

/** Dimensions of the staleness probe's latency (Staleness). */
export function stalenessDimensions(runId: string): Dimension[] {
  return [{ Name: DIMENSION.runId, Value: runId }];
}

export function markerDimensions(runId: string, outcome: MarkerOutcome): Dimension[] {
  return [{ Name: DIMENSION.runId, Value: runId }, { Name: DIMENSION.outcome, Value: outcome }];
}

/** The load stack's outputs: the trigger finds the deployed system by them (DescribeStacks). */
export const STACK_OUTPUT = {
  queueUrl: 'QueueUrl',
  deadLetterQueueUrl: 'DeadLetterQueueUrl',
  writerEndpoint: 'WriterEndpoint',
  readerEndpoint: 'ReaderEndpoint',
  dashboardUrl: 'DashboardUrl',
  dbClusterIdentifier: 'DbClusterIdentifier',
  workerMaxConcurrency: 'WorkerMaxConcurrency',
  workerPoolMax: 'WorkerPoolMax',
  metricNamespace: 'MetricNamespace',
  operatorPolicyArn: 'OperatorPolicyArn',
  /** The worker function's name: the report reads its concurrency and throttles (AWS/Lambda). */
  workerFunctionName: 'WorkerFunctionName',
} as const;
export type StackOutputKey = keyof typeof STACK_OUTPUT;
