import { DEFAULTS } from '../../handlers/config';
import { cloudFormation } from '../aws/clients';
import { discover, type Deployment } from '../aws/discovery';
import { regionOfQueueUrl } from '../options/run-options';

export interface AwsTargetOptions {
  readonly queueUrl?: string;
  readonly region?: string;
  readonly stack: string;
  readonly namespace?: string;
}

/** Where an AWS command sends and reads: the queue, the region, and what the stack tells. */
export interface AwsTarget {
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
export async function resolveAwsTarget(o: AwsTargetOptions): Promise<AwsTarget> {
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
    namespace: o.namespace ?? deployment?.metricNamespace ?? DEFAULTS.metricNamespace,
    ...(deployment ? { deployment } : {}),
  };
}
