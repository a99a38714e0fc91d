/**
 * The Lambda entry point. Everything here is module scope, so it is built once per execution
 * environment and reused by every warm invocation: configuration, logger, pools, cached secret,
 * metrics client.
 *
 * Two kinds of event arrive: SQS batches (the load), and CloudFormation custom resource events
 * from the stack's provider, which create the workload schema on deploy (only code inside the VPC
 * can reach the database).
 */
import type { CloudFormationCustomResourceEvent, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { configFromEnv } from './config';
import { handleCustomResource, type CustomResourceResult } from './custom-resource';
import { createLogger } from './log';
import { SqsRedelivery } from './redelivery';
import { CloudWatchSink } from './metrics/cloudwatch-sink';
import { createWorker } from './worker';
import { assertValid, buildCatalog } from './workloads/catalog';
import { deployedWorkloadFiles } from './workloads/deployed';

const config = configFromEnv();
const logger = createLogger();
// The scripts bundled with this worker, parsed once per execution environment; synth validated them.
const catalog = buildCatalog(deployedWorkloadFiles());
assertValid(catalog);
const worker = createWorker({
  config,
  catalog,
  sink: new CloudWatchSink(config.metricNamespace),
  logger,
  redelivery: new SqsRedelivery(logger),
  // One invocation at a time in an execution environment: each sets the clock to the wall clock.
  resyncClock: true,
});

export async function handler(event: SQSEvent | CloudFormationCustomResourceEvent, context: Context): Promise<SQSBatchResponse | CustomResourceResult> {
  if ('RequestType' in event) {
    const result = await handleCustomResource(worker, event);
    logger.info({ requestId: context.awsRequestId, requestType: event.RequestType, result: result.Data?.Summary }, 'custom resource');
    return result;
  }
  return worker.handle(event, context);
}
