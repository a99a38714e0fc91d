/**
 * An SDK command, as IAM sees it: the action it needs, the resource it acts on and the condition
 * keys it carries. The action is the command's name without `Command`, in the client's service,
 * except where the service authorizes a batch API with the single action ("Amazon SQS API
 * permissions: Actions and resource reference",
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-permissions-reference.html:
 * SendMessageBatch needs sqs:SendMessage, ChangeMessageVisibilityBatch sqs:ChangeMessageVisibility,
 * DeleteMessageBatch sqs:DeleteMessage). A command this table does not know fails the test, so a
 * new AWS call is never left unchecked.
 */
import type { Environment } from './deployment';
import { SECRET_SUFFIX } from './deployment';
import type { IamRequest } from './policy';

export type Service = 'sqs' | 'cloudformation' | 'cloudwatch' | 'rds' | 'secretsmanager';

/** What the test recorded: the client's service, the command's class name and its input. */
export interface RecordedCall {
  readonly service: Service;
  readonly command: string;
  readonly input: Record<string, unknown>;
}

const SQS_BATCH = /^(SendMessage|DeleteMessage|ChangeMessageVisibility)Batch$/;

function sqsQueueArn(queueUrl: unknown): string {
  const m = /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com\/(\d{12})\/([^/]+)$/.exec(String(queueUrl));
  if (!m) throw new Error(`not an SQS queue URL: ${String(queueUrl)}`);
  return `arn:aws:sqs:${m[1]}:${m[2]}:${m[3]}`;
}

/**
 * The IAM request of one call. `stackIdOf` gives the ARN of a stack by name (DescribeStacks takes
 * a name; IAM authorizes the stack's ARN).
 */
export function iamRequestOf(call: RecordedCall, env: Environment, stackIdOf: (name: string) => string): IamRequest {
  const name = call.command.replace(/Command$/, '');
  const input = call.input;
  const { region, account } = env;
  switch (call.service) {
    case 'sqs': {
      if (input.QueueUrl === undefined) break;
      return { action: `sqs:${name.replace(SQS_BATCH, '$1')}`, resource: sqsQueueArn(input.QueueUrl), context: {} };
    }
    case 'cloudformation':
      if (name !== 'DescribeStacks') break;
      return {
        action: 'cloudformation:DescribeStacks',
        resource: input.StackName === undefined ? '*' : String(input.StackName).startsWith('arn:') ? String(input.StackName) : stackIdOf(String(input.StackName)),
        context: {},
      };
    case 'cloudwatch':
      // No resource-level permissions for any of these; PutMetricData is scoped by namespace.
      if (name === 'PutMetricData') return { action: 'cloudwatch:PutMetricData', resource: '*', context: { 'cloudwatch:namespace': String(input.Namespace) } };
      if (name === 'GetMetricData') return { action: 'cloudwatch:GetMetricData', resource: '*', context: {} };
      break;
    case 'rds':
      if (name !== 'DescribeDBClusters' && name !== 'FailoverDBCluster') break;
      return { action: `rds:${name}`, resource: `arn:aws:rds:${region}:${account}:cluster:${String(input.DBClusterIdentifier)}`, context: {} };
    case 'secretsmanager': {
      if (name !== 'GetSecretValue') break;
      const id = String(input.SecretId);
      // By name, the request is for the secret's full ARN, random suffix included.
      return { action: 'secretsmanager:GetSecretValue', resource: id.startsWith('arn:') ? id : `arn:aws:secretsmanager:${region}:${account}:secret:${id}-${SECRET_SUFFIX}`, context: {} };
    }
  }
  throw new Error(`${call.service} ${call.command}: no IAM mapping here (test/app/iam/requests.ts); add the action and resource it needs`);
}
