import { METRIC, STACK_OUTPUT } from '../../handlers/contract';
import { validateMessage, PROTOCOL_VERSION, type InitMessage } from '../../handlers/protocol/message';
import { LIMITS } from '../../handlers/protocol/limits';
import { projectCatalog } from '../../handlers/workloads/project';
import { cloudWatch, sqs } from '../aws/clients';
import { resolveAwsResources } from '../aws/resources';
import { readMessageOutcomes } from '../aws/run-metrics';
import { describeAwsFailure } from '../aws/discovery';
import { CliError, EXIT, UsageError } from '../errors';
import { formatDuration, parseDuration } from '../options/duration';
import { parseServerUrls } from '../options/postgres-url';
import { generateRunId, parseQueueUrl, parseRegion, posInt, RUN_DEFAULTS, workloadOf } from '../options/run-options';
import { SqsTransport } from '../send/sqs-transport';
import { aborted, type CliIo } from './io';
import { initWorkload, startEngine } from './local-engine';

export interface RawInitOptions {
  workload?: string;
  scale?: string;
  reset?: boolean;
  local?: boolean;
  writerUrl?: string;
  readerUrl?: string;
  queueUrl?: string;
  region?: string;
  stack?: string;
  namespace?: string;
  wait?: string | boolean;
}

/** How often `init` looks for its outcome. */
const INIT_POLL_MS = 15_000;

/**
 * `init`: create and load a workload's schema through the worker (in AWS only code inside the VPC
 * reaches the database). Local: the engine runs it and reports at once. AWS: an init message is
 * sent, and its outcome read back from the worker's message outcomes for its run id.
 */
export async function initCommand(raw: RawInitOptions, io: CliIo): Promise<number> {
  const workload = workloadOf(raw.workload ?? RUN_DEFAULTS.workload, projectCatalog());
  const def = projectCatalog().get(workload)!;
  if (raw.reset && !def.builtinLoader) {
    throw new UsageError(`--reset is for tpcb only: ${workload}'s init.sql is idempotent, and nothing drops a table it cannot prove it created; drop its tables yourself to start over`);
  }
  const scale = raw.scale !== undefined ? posInt(raw.scale, '--scale', LIMITS.maxScale) : undefined;
  const opts = { ...(scale !== undefined ? { scale } : {}), ...(raw.reset ? { reset: true } : {}) };
  if (raw.local) {
    const servers = parseServerUrls(raw.writerUrl, raw.readerUrl);
    const engine = await startEngine({ ...(servers ? { servers } : {}), log: io.err });
    try {
      await Promise.race([initWorkload(engine, workload, opts), aborted(io.signal)]);
      if (io.signal.aborted) return EXIT.interrupted;
      io.out(`initialised ${workload}${scale ? ` at scale ${scale}` : ''}${raw.reset ? ' (reset)' : ''} on the local ${servers ? 'writer' : 'embedded writer'}`);
      return EXIT.ok;
    } finally {
      await engine.stop();
    }
  }
  for (const flag of ['writerUrl', 'readerUrl'] as const) {
    if (raw[flag] !== undefined) throw new UsageError(`--${flag === 'writerUrl' ? 'writer' : 'reader'}-url is for --local`);
  }
  const waitMs = raw.wait === false ? 0 : typeof raw.wait === 'string' ? parseDuration(raw.wait, '--wait') : 10 * 60_000;
  const queueUrl = raw.queueUrl !== undefined ? parseQueueUrl(raw.queueUrl) : undefined;
  const region = raw.region !== undefined ? parseRegion(raw.region) : undefined;
  const aws = await resolveAwsResources({
    stack: raw.stack ?? RUN_DEFAULTS.stack,
    ...(queueUrl ? { queueUrl } : {}), ...(region ? { region } : {}), ...(raw.namespace ? { namespace: raw.namespace } : {}),
  });
  const runId = `init-${generateRunId(new Date(io.clock.now())).slice('run-'.length)}`;
  const sentAt = Math.floor(io.clock.now());
  const msg: InitMessage = { v: PROTOCOL_VERSION, kind: 'init', runId, seq: 0, sentAt, workload, ...opts, ...(def.init ? { hash: def.init.hash } : {}) };
  validateMessage(msg, sentAt);
  const client = await sqs(aws.region);
  try {
    const transport = new SqsTransport({ client, queueUrl: aws.queueUrl, concurrency: 1 });
    await transport.send([JSON.stringify(msg)]);
    if (transport.stats.accepted !== 1) throw new CliError('the init message could not be sent (SQS kept failing it); try again', EXIT.failed);
  } finally {
    client.destroy();
  }
  io.err(`sent init for ${workload}${scale ? ` at scale ${scale}` : ''} (run id ${runId})`);
  if (waitMs === 0) {
    io.out(`init ${runId} sent; its outcome shows as the ${METRIC.messages} metric (run id ${runId}) and in the worker's logs`);
    return EXIT.ok;
  }
  return awaitOutcome(runId, aws.namespace, aws.region, sentAt, waitMs, io);
}

/** Poll the init run's message outcomes (one metric per outcome) until the worker has reported it. */
async function awaitOutcome(runId: string, namespace: string, region: string | undefined, sentAt: number, waitMs: number, io: CliIo): Promise<number> {
  const cw = await cloudWatch(region);
  const deadline = sentAt + waitMs;
  try {
    while (io.clock.now() < deadline && !io.signal.aborted) {
      await io.clock.sleep(INIT_POLL_MS, io.signal);
      let outcomes;
      try {
        outcomes = await readMessageOutcomes(cw, { namespace, runId, startMs: sentAt - 60_000, endMs: io.clock.now() + 60_000 });
      } catch (e) {
        throw new CliError(`init sent, but its outcome cannot be read from CloudWatch: ${describeAwsFailure(e)}`, EXIT.failed);
      }
      if (outcomes.ok > 0) {
        io.out(`init ${runId} done: the worker created and loaded the schema`);
        return EXIT.ok;
      }
      if (outcomes.invalid > 0) throw new CliError(`init ${runId} was refused as invalid by the worker (see its logs): is the worker older than this trigger?`, EXIT.failed);
      if (outcomes.deadLettered > 0) throw new CliError(`init ${runId} failed on its last receive and went to the dead-letter queue (stack output ${STACK_OUTPUT.deadLetterQueueUrl}); see the worker's logs`, EXIT.failed);
      if (outcomes.failed > 0) io.err(`init ${runId} failed once and will be retried by SQS; see the worker's logs`);
      else io.err(`waiting for the worker to report init ${runId}...`);
    }
  } finally {
    cw.destroy();
  }
  if (io.signal.aborted) return EXIT.interrupted;
  throw new CliError(`init ${runId} not reported within ${formatDuration(waitMs)}; check the worker's logs or the dead-letter queue (stack output ${STACK_OUTPUT.deadLetterQueueUrl})`, EXIT.failed);
}
