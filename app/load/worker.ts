import * as path from 'node:path';
import { Annotations, Duration, RemovalPolicy, Stack, Stage, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULTS, ENV } from '../../handlers/config';
import { EVENT_SOURCE_DEFAULTS } from '../../handlers/event-source';
import type { Catalog } from '../../handlers/workloads/catalog';
import type { DatabaseTarget, WorkerPlacement } from './database-target';
import { bundleWorkloads, WORKER_BUNDLING } from './worker-bundling';

/** The repository root, where package-lock.json and handlers/ live. */
const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/**
 * Lambda's Node.js runtimes ship every Amazon CA, the RDS ones included, in this file, and load it
 * only when told to ("Building Lambda functions with Node.js", "CA certificate loading",
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html). The worker gives it to the
 * database's TLS alone, on the first connection (DB_CA_FILE; handlers/db/trust.ts), rather than
 * through NODE_EXTRA_CA_CERTS, which parses all of it as every process starts: about 40-55 ms of
 * each cold start on the benchmark machine (bench/README.md, coldInitMs).
 */
export const LAMBDA_CA_BUNDLE = '/var/runtime/ca-cert.pem';

export interface WorkerProps {
  /** Subnets and security groups the worker's ENIs use. */
  readonly placement: WorkerPlacement;
  /** The database to load. */
  readonly database: DatabaseTarget;
  /** The event source mapping's maximum concurrency: the most workers that run at once (2-1000). */
  readonly maxConcurrency: number;
  /**
   * Executions reserved for the worker out of the account's concurrency quota. Set it to keep
   * other functions from starving a test, on an account with the quota to spare: it must leave
   * 100 unreserved. The event source's maximum concurrency caps the SQS invocations without it.
   *
   * @default - no reservation
   */
  readonly reservedConcurrency?: number;
  /**
   * Messages per invocation. A slice message keeps its invocation busy for its whole duration, so
   * 1 keeps "one invocation per slice" and lets concurrency alone set the number of workers.
   *
   * @default EVENT_SOURCE_DEFAULTS.batchSize (1)
   */
  readonly batchSize?: number;
  /** Connections per pool in each worker; the worker keeps one pool per endpoint. */
  readonly poolMax: number;
  /** CloudWatch namespace of the custom metrics; PutMetricData is granted for it alone. */
  readonly metricNamespace: string;
  /**
   * Hosts a message may name besides the database's own endpoints.
   *
   * @default - none
   */
  readonly allowedHosts?: readonly string[];
  /**
   * The workloads folder bundled with the worker: its scripts are validated here, at synth, and
   * the worker runs exactly them.
   *
   * @default workloads/ at the project root
   */
  readonly workloadsDir?: string;
  /**
   * The handler's entry file, exporting `handler(event, context)`.
   *
   * @default handlers/index.ts
   */
  readonly entry?: string;
  /**
   * How long one invocation may run. A slice may last up to 14 minutes (LIMITS.maxDurationMs) and
   * the worker stops scheduling shortly before its deadline, so keep the 15-minute maximum unless
   * slices are shortened too.
   *
   * @default EVENT_SOURCE_DEFAULTS.functionTimeoutMs (15 minutes, what the trigger plans with)
   */
  readonly timeout?: Duration;
  /**
   * Memory, MB; Lambda allots CPU and network in proportion. Less is cheaper, but an event loop that
   * is short of CPU delays statements and shows up as schedule lag.
   *
   * @default 1024
   */
  readonly memorySize?: number;
}

/**
 * The load generator: an SQS queue with its dead-letter queue, and the worker Lambda function that
 * the queue feeds. IAM comes from grants only: consume this queue, read this secret, put metrics in
 * this namespace.
 */
export class Worker extends Construct {
  /**
   * SQS delivers a message this many times before it moves to the dead-letter queue; written once
   * in handlers/event-source.ts, and passed to the worker, which counts what it dead-letters.
   */
  static readonly MAX_RECEIVE_COUNT = EVENT_SOURCE_DEFAULTS.maxReceiveCount;
  /**
   * Visibility timeout as a multiple of the function timeout, as Lambda's documentation advises for
   * SQS event sources: Lambda can retry a throttled batch before its messages become visible again
   * and reach a second worker while the first still runs them.
   */
  static readonly VISIBILITY_TIMEOUT_FACTOR = 6;

  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly function: nodejs.NodejsFunction;
  /** The workloads bundled with the function (validated at synth). */
  readonly workloads: Catalog;

  constructor(scope: Construct, id: string, props: WorkerProps) {
    super(scope, id);
    const bundled = bundleWorkloads(props.workloadsDir ?? path.join(PROJECT_ROOT, 'workloads'), path.join(Stage.of(this)?.outdir ?? 'cdk.out', 'worker-workloads'));
    this.workloads = bundled.catalog;
    // A broken script is a synth error, one line each (file:line), so `cdk synth` fails and it never deploys.
    for (const problem of bundled.catalog.problems) Annotations.of(this).addError(problem.line);
    const timeout = props.timeout ?? Duration.millis(EVENT_SOURCE_DEFAULTS.functionTimeoutMs);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * Worker.VISIBILITY_TIMEOUT_FACTOR),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: Worker.MAX_RECEIVE_COUNT },
    });

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const db = props.database;
    const allowedHosts = [...db.extraHosts, ...(props.allowedHosts ?? [])];
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      description: 'Aurora load test worker: runs SQS-delivered statements and slices against Aurora',
      entry: props.entry ?? path.join(PROJECT_ROOT, 'handlers', 'index.ts'),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout,
      // No reservation unless asked for: a new account's quota may be 10, and a reservation must
      // leave 100 unreserved. The event source's MaximumConcurrency alone caps SQS invocations
      // ("Configuring scaling behavior for SQS event source mappings",
      // https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html); the deploy-time
      // init is invoked directly, outside that cap.
      ...(props.reservedConcurrency !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrency } : {}),
      vpc: props.placement.vpc,
      vpcSubnets: props.placement.subnets,
      securityGroups: [...props.placement.securityGroups],
      logGroup,
      bundling: {
        ...WORKER_BUNDLING,
        bundleAwsSDK: WORKER_BUNDLING.bundleAwsSDK,
        externalModules: [...WORKER_BUNDLING.externalModules],
        mainFields: [...WORKER_BUNDLING.mainFields],
        esbuildArgs: { ...WORKER_BUNDLING.esbuildArgs },
        // The scripts travel inside index.js (see worker-bundling.ts), so a change to one is a new asset.
        inject: [bundled.inject],
        forceDockerBundling: false,
        logLevel: nodejs.LogLevel.WARNING,
      },
      environment: {
        [ENV.writerHost]: db.writerHost,
        [ENV.readerHost]: db.readerHost,
        [ENV.port]: String(db.port),
        [ENV.database]: db.databaseName,
        // The secret's id, never its value: the worker fetches the value once per cold start.
        [ENV.secretId]: db.secretId,
        ...(allowedHosts.length > 0 ? { [ENV.allowedHosts]: [...new Set(allowedHosts)].join(',') } : {}),
        [ENV.tls]: 'verify-full',
        [ENV.caFile]: LAMBDA_CA_BUNDLE,
        [ENV.poolMax]: String(props.poolMax),
        ...(db.mayPause ? { [ENV.resumeWaitMs]: String(DEFAULTS.resumeWaitMs) } : {}),
        [ENV.metricNamespace]: props.metricNamespace,
        [ENV.maxReceiveCount]: String(Worker.MAX_RECEIVE_COUNT),
        // No NODE_OPTIONS=--enable-source-maps: Node then parses the 300 KB source map as the bundle
        // loads, 12-14 ms of every cold start, for stack traces the worker never logs (errors are
        // logged by message and SQLSTATE). Set it on the function to debug a crash.
      },
    });

    this.function.addEventSource(new SqsEventSource(this.queue, {
      batchSize: props.batchSize ?? EVENT_SOURCE_DEFAULTS.batchSize,
      maxConcurrency: props.maxConcurrency,
      reportBatchItemFailures: true,
    }));
    db.secret.grantRead(this.function);
    if (db.secretKmsKeyArn !== undefined) {
      // A secret encrypted with a customer-managed key: Secrets Manager decrypts it with the
      // caller's permissions. Only through Secrets Manager, only for this key (the key's own
      // policy must allow IAM policies to grant it, as the default key policy does).
      iam.Grant.addToPrincipal({
        grantee: this.function,
        actions: ['kms:Decrypt'],
        resourceArns: [db.secretKmsKeyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` } },
      });
    }
    iam.Grant.addToPrincipal({
      grantee: this.function,
      actions: ['cloudwatch:PutMetricData'],
      // PutMetricData has no resource-level permissions; the namespace condition is the scope.
      resourceArns: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': props.metricNamespace } },
    });

    const acknowledge = (id: string, reason: string) => Validations.of(this.function).acknowledge({ id, reason });
    acknowledge(
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      "AWS's minimal policy for a function's own logs (CreateLogStream/PutLogEvents), maintained by AWS.",
    );
    acknowledge(
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      "AWS's minimal policy for a VPC function's network interfaces (ec2:CreateNetworkInterface etc.), which support no resource scoping.",
    );
    acknowledge(
      'AwsSolutions-IAM5[Resource::*]',
      'cloudwatch:PutMetricData supports no resource-level permissions; the statement is limited by the cloudwatch:namespace condition to this worker\'s namespace.',
    );
    acknowledge(
      'AwsSolutions-L1',
      'The worker is pinned to nodejs22.x on purpose: a runtime change is a reviewed, tested change (pg and the RDS CA handling run on it), not an automatic one.',
    );
  }
}
