import { METRIC_NAMESPACE_DEFAULT } from '../../handlers/contract';
import { regionOfQueueUrl } from '../options/run-options';
import { cloudFormation } from './clients';
import { discover, type Deployment } from './discovery';

export interface AwsResourceOptions {
  /** `--queue-url`: send here; the stack is then only read if it can be, quickly. */
  readonly queueUrl?: string;
  readonly region?: string;
  /** The stack to read outputs from. */
  readonly stack: string;
  /** `--namespace`: overrides the stack's. */
  readonly namespace?: string;
}

/** What an AWS command sends to and reads from: the queue, the region, the metrics' namespace. */
export interface AwsResources {
  readonly queueUrl: string;
  readonly region: string | undefined;
  readonly namespace: string;
  /** The stack's outputs, when it could be read. */
  readonly deployment?: Deployment;
}

/** How long a best-effort stack lookup may take when --queue-url already says where to send. */
const OPTIONAL_LOOKUP_MS = 5_000;

/**
 * Resolve the queue and metric namespace. Without --queue-url the stack must be there (else a
 * one-line DiscoveryError, exit 2); with it, the stack is still read if it can be, quickly, for
 * the worker's pool size, concurrency, namespace and dead-letter queue.
 */
export async function resolveAwsResources(o: AwsResourceOptions): Promise<AwsResources> {
  const region = o.region ?? (o.queueUrl ? regionOfQueueUrl(o.queueUrl) : undefined);
  const cfn = await cloudFormation(region);
  let deployment: Deployment | undefined;
  try {
    if (!o.queueUrl) {
      deployment = await discover(cfn, o.stack, region);
    } else {
      deployment = await Promise.race([
        discover(cfn, o.stack, region).catch(() => undefined),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), OPTIONAL_LOOKUP_MS).unref()),
      ]);
    }
  } finally {
    cfn.destroy();
  }
  return {
    queueUrl: o.queueUrl ?? deployment!.queueUrl,
    region: region ?? (deployment ? regionOfQueueUrl(deployment.queueUrl) : undefined),
    namespace: o.namespace ?? deployment?.metricNamespace ?? METRIC_NAMESPACE_DEFAULT,
    ...(deployment ? { deployment } : {}),
  };
}
