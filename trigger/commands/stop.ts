import { sqs } from '../aws/clients';
import { resolveAwsResources } from '../aws/resources';
import { UsageError } from '../errors';
import { parseQueueUrl, parseRegion, RUN_DEFAULTS } from '../options/run-options';
import { SqsTransport } from '../send/sqs-transport';
import type { CliIo } from './io';

export interface RawStopOptions {
  yes?: boolean;
  local?: boolean;
  queueUrl?: string;
  region?: string;
  stack?: string;
}

/**
 * `stop`: purge the queue, so no queued message starts. Slices already running finish their own
 * slice (at most 5 minutes with the default slice length). Refuses without --yes.
 */
export async function stopCommand(raw: RawStopOptions, io: CliIo): Promise<number> {
  if (raw.local) throw new UsageError('a local run stops with Ctrl-C in its own terminal (its queue lives in that process); nothing to purge here');
  if (!raw.yes) throw new UsageError('stop purges every message in the load-test queue, other runs\' included: add --yes to do it');
  const queueUrl = raw.queueUrl !== undefined ? parseQueueUrl(raw.queueUrl) : undefined;
  const region = raw.region !== undefined ? parseRegion(raw.region) : undefined;
  const aws = await resolveAwsResources({ stack: raw.stack ?? RUN_DEFAULTS.stack, ...(queueUrl ? { queueUrl } : {}), ...(region ? { region } : {}) });
  const client = await sqs(aws.region);
  try {
    const transport = new SqsTransport({ client, queueUrl: aws.queueUrl, concurrency: 1 });
    const before = await transport.depth();
    await transport.purge();
    io.out(`purged ${aws.queueUrl}${before ? ` (about ${before.visible} waiting, ${before.inFlight} in flight)` : ''}; slices already running finish their current slice (at most 5 minutes)`);
    return 0;
  } finally {
    client.destroy();
  }
}
