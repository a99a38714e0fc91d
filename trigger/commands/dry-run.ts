import { METRIC_NAMESPACE_DEFAULT } from '../../handlers/contract';
import { resolveAwsResources, type AwsResources } from '../aws/resources';
import { EXIT } from '../errors';
import { formatDuration } from '../options/duration';
import { regionOfQueueUrl, type RunSettings } from '../options/run-options';
import { buildPlan } from '../plan/build';
import { checkFleet, describeFit, type Fleet } from '../plan/fleet';
import { round } from '../round';
import { awsFleet } from '../run/aws-backend';
import { localFleet } from '../run/local-backend';
import type { CliIo } from './io';

/**
 * `--dry-run`: the plan and what it asks of the fleet (peak concurrency, time to full rate,
 * connections, statements the scale-up would skip), printed; nothing sent, nothing started. A plan
 * that cannot fit is refused exactly as a real run would be (one line, exit 2).
 *
 * In AWS the stack is read (DescribeStacks) for the worker's limits, unless `--queue-url` and
 * `--max-concurrency` say all it would tell: then nothing touches the network.
 */
export async function dryRunCommand(s: RunSettings, io: CliIo): Promise<number> {
  let fleet: Fleet;
  let where: string;
  if (s.where === 'local') {
    fleet = localFleet({
      ...(s.local.servers ? { servers: s.local.servers } : {}),
      ...(s.maxConnections !== undefined ? { maxConnections: s.maxConnections } : {}),
      ...(s.maxConcurrency !== undefined ? { maxConcurrency: s.maxConcurrency } : {}),
      endpoints: s.kinds.size, scaleUp: s.scaleUp,
    });
    where = s.local.servers ? 'the local engine on the servers given' : 'the local engine';
  } else {
    const queueUrl = s.aws.queueUrl;
    const aws: Pick<AwsResources, 'deployment' | 'queueUrl'> = queueUrl !== undefined && s.maxConcurrency !== undefined
      ? { queueUrl }
      : await resolveAwsResources(s.aws);
    fleet = awsFleet(aws, {
      ...(s.maxConnections !== undefined ? { maxConnections: s.maxConnections } : {}),
      ...(s.maxConcurrency !== undefined ? { maxConcurrency: s.maxConcurrency } : {}),
      endpoints: s.kinds.size, scaleUp: s.scaleUp,
    });
    const region = s.aws.region ?? regionOfQueueUrl(aws.queueUrl);
    where = `${aws.queueUrl}${region ? ` (${region})` : ''}, namespace ${s.aws.namespace ?? aws.deployment?.metricNamespace ?? METRIC_NAMESPACE_DEFAULT}`;
  }
  const plan = buildPlan(s, fleet);
  const fit = checkFleet(plan, fleet);
  if (s.json) {
    io.out(JSON.stringify({
      dryRun: true, runId: s.runId, where, description: plan.description, mode: plan.mode, messages: plan.total, statements: plan.statements,
      durationMs: plan.loadDurationMs, startLeadMs: plan.startLeadMs,
      fleet: { maxConcurrency: fleet.maxConcurrency ?? null, poolMax: fleet.poolMax, endpoints: fleet.endpoints, maxConnections: fleet.maxConnections ?? null, scaleUp: fleet.scaleUp },
      fit: { ...fit, connectionsNeeded: fit.connectionsNeeded ?? null },
    }, null, 2));
    return EXIT.ok;
  }
  io.out(`dry run, nothing sent: run ${s.runId} to ${where}`);
  io.out(`${plan.description}, for ${formatDuration(s.durationMs)}${s.rampMs ? ` (ramp ${formatDuration(s.rampMs)})` : ''}`);
  io.out(`messages: ${plan.total}; statements: ${plan.statements} (${round(plan.averageRate)}/s on average)`);
  for (const line of describeFit(plan, fit, fleet)) io.out(line);
  return EXIT.ok;
}
