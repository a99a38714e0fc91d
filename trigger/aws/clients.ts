import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { SQSClient } from '@aws-sdk/client-sqs';

/**
 * AWS clients, loaded on first use: `node trigger --help` and local runs never pay for loading the
 * SDK. Credentials come from the standard chain (AWS_PROFILE, SSO, environment, instance role);
 * the region from --region, else the SDK's own resolution (AWS_REGION, the profile).
 *
 * Timeouts, so "no network" or an endpoint that never answers is a one-line error within
 * seconds, not a hang: 3 s to connect, 10 s for a whole request and its response (the SDK only
 * warns about a request timeout unless told to throw).
 */
const HTTP = { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true };

function base(region: string | undefined): { region?: string; requestHandler: typeof HTTP } {
  return { ...(region ? { region } : {}), requestHandler: HTTP };
}

export async function cloudFormation(region: string | undefined): Promise<CloudFormationClient> {
  const { CloudFormationClient } = require('@aws-sdk/client-cloudformation') as typeof import('@aws-sdk/client-cloudformation');
  return new CloudFormationClient({ ...base(region), maxAttempts: 2 });
}

/** SQS with SDK retries off: the transport retries itself, so that it can count every retry. */
export async function sqs(region: string | undefined): Promise<SQSClient> {
  const { SQSClient } = require('@aws-sdk/client-sqs') as typeof import('@aws-sdk/client-sqs');
  return new SQSClient({ ...base(region), maxAttempts: 1 });
}

export async function cloudWatch(region: string | undefined): Promise<CloudWatchClient> {
  const { CloudWatchClient } = require('@aws-sdk/client-cloudwatch') as typeof import('@aws-sdk/client-cloudwatch');
  return new CloudWatchClient({ ...base(region), maxAttempts: 3 });
}

/** RDS, for the failover drill (`--failover-at`): FailoverDBCluster and DescribeDBClusters. */
export async function rds(region: string | undefined): Promise<RDSClient> {
  const { RDSClient } = require('@aws-sdk/client-rds') as typeof import('@aws-sdk/client-rds');
  return new RDSClient({ ...base(region), maxAttempts: 3 });
}
