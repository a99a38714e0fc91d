import { DescribeStacksCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { METRIC_NAMESPACE_DEFAULT, STACK_OUTPUT, type StackOutputKey } from '../../handlers/contract';
import { CliError, EXIT, oneLine } from '../errors';

/** What the trigger needs from the deployed stack (its CloudFormation outputs). */
export interface Deployment {
  readonly stack: string;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl?: string;
  readonly writerEndpoint?: string;
  readonly readerEndpoint?: string;
  readonly dashboardUrl?: string;
  /** Absent in bring-your-own-database mode. */
  readonly dbClusterIdentifier?: string;
  /** Concurrent worker invocations the event source mapping allows. */
  readonly workerMaxConcurrency?: number;
  /** Connections per endpoint per worker. */
  readonly workerPoolMax?: number;
  /** The worker function's name, for its AWS/Lambda metrics in the report. */
  readonly workerFunctionName?: string;
  readonly metricNamespace: string;
}

/** Nothing to run against: one line, exit code 2, what to do next. */
export class DiscoveryError extends CliError {
  override readonly name = 'DiscoveryError';
  constructor(reason: string) {
    super(`${reason}. Deploy the load test (npx cdk deploy LoadTestPipeline, then git push), pass --queue-url URL, or run on this machine with --local`, EXIT.usage);
  }
}

function num(x: string | undefined): number | undefined {
  const n = Number(x);
  return x !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
}

/** The reason an AWS call failed, in words a user can act on. */
export function describeAwsFailure(e: unknown): string {
  const err = e as Error & { code?: string };
  const msg = oneLine(String(err?.message ?? e));
  if (err?.name === 'CredentialsProviderError' || /credentials/i.test(msg)) return 'no AWS credentials found (set AWS_PROFILE, run aws sso login, or export AWS_ACCESS_KEY_ID)';
  if (/region is missing/i.test(msg)) return 'no AWS region configured (pass --region or set AWS_REGION)';
  if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENETUNREACH|socket hang up|timed? ?out/i.test(`${msg} ${err?.code ?? ''} ${err?.name ?? ''}`)) return 'AWS is not reachable from here (no network?)';
  if (/ExpiredToken|InvalidClientTokenId|UnrecognizedClient|SignatureDoesNotMatch/.test(`${err?.name} ${msg}`)) return `AWS rejected the credentials (${err?.name}): refresh them (aws sso login)`;
  return `${err?.name ?? 'Error'}: ${msg}`;
}

/**
 * Read the deployed stack's outputs with DescribeStacks. Every failure (no such stack, no
 * credentials, no network) becomes a {@link DiscoveryError}: one line, no stack trace.
 */
export async function discover(cfn: CloudFormationClient, stack: string, region: string | undefined): Promise<Deployment> {
  const where = `stack ${stack}${region ? ` in ${region}` : ''}`;
  let outputs: Record<string, string>;
  try {
    const res = await cfn.send(new DescribeStacksCommand({ StackName: stack }));
    const s = res.Stacks?.[0];
    if (!s) throw new DiscoveryError(`No deployed load test found: ${where} does not exist`);
    outputs = Object.fromEntries((s.Outputs ?? []).filter((o) => o.OutputKey && o.OutputValue).map((o) => [o.OutputKey!, o.OutputValue!]));
  } catch (e) {
    if (e instanceof DiscoveryError) throw e;
    const msg = String((e as Error)?.message ?? '');
    if (/does not exist/i.test(msg)) throw new DiscoveryError(`No deployed load test found: ${where} does not exist`);
    throw new DiscoveryError(`Cannot look up the deployed load test (${where}): ${describeAwsFailure(e)}`);
  }
  const o = (k: StackOutputKey): string | undefined => outputs[STACK_OUTPUT[k]];
  const queueUrl = o('queueUrl');
  if (!queueUrl) throw new DiscoveryError(`${where} has no ${STACK_OUTPUT.queueUrl} output (is it the load test stack, fully deployed?)`);
  const text = (k: 'deadLetterQueueUrl' | 'writerEndpoint' | 'readerEndpoint' | 'dashboardUrl' | 'dbClusterIdentifier' | 'workerFunctionName') => {
    const v = o(k);
    return v ? { [k]: v } : {};
  };
  const maxConc = num(o('workerMaxConcurrency'));
  const poolMax = num(o('workerPoolMax'));
  return {
    stack,
    queueUrl,
    ...text('deadLetterQueueUrl'),
    ...text('writerEndpoint'),
    ...text('readerEndpoint'),
    ...text('dashboardUrl'),
    ...text('dbClusterIdentifier'),
    ...text('workerFunctionName'),
    ...(maxConc !== undefined ? { workerMaxConcurrency: maxConc } : {}),
    ...(poolMax !== undefined ? { workerPoolMax: poolMax } : {}),
    metricNamespace: o('metricNamespace') ?? METRIC_NAMESPACE_DEFAULT,
  };
}
