import { STACK_OUTPUT } from '../../handlers/contract';
import { rds } from '../aws/clients';
import { checkFailoverCluster } from '../aws/failover-cluster';
import { resolveAwsResources } from '../aws/resources';
import { awsFailoverDrill, localFailoverDrill } from '../drills/failover';
import { UsageError } from '../errors';
import { formatDuration } from '../options/duration';
import { resolveRunOptions, type RawRunOptions, type RunSettings } from '../options/run-options';
import { buildPlan } from '../plan/build';
import { AwsBackend, awsFleet, type AwsBackendOptions } from '../run/aws-backend';
import { LocalBackend, localFleet, type LocalBackendOptions } from '../run/local-backend';
import { runPipeline } from '../run/pipeline';
import { checkHtmlTarget } from './finish';
import type { CliIo } from './io';

/** The one line `--failover-at` gets when the stack has no cluster (bring-your-own database). */
export const FAILOVER_NEEDS_CLUSTER = `--failover-at needs the Aurora cluster the stack created (output ${STACK_OUTPUT.dbClusterIdentifier}); in bring-your-own mode fail over from the RDS console`;

/** The `run` command: validate the flags, then run through the pipeline, locally or in AWS. */
export async function runCommand(raw: RawRunOptions, io: CliIo): Promise<number> {
  const s = resolveRunOptions(raw);
  if (s.html !== undefined) checkHtmlTarget(s.html, io.cwd);
  if (s.dryRun) {
    const { dryRunCommand } = require('./dry-run') as typeof import('./dry-run');
    return dryRunCommand(s, io);
  }
  if (s.demo) {
    io.err('demo: the whole load test on this machine: an embedded PostgreSQL writer, a streaming hot standby,');
    io.err('an in-process queue with SQS semantics and the same worker code as in AWS. Ctrl-C stops it cleanly.');
  }
  const code = s.where === 'local' ? await runLocal(s, io) : await runAws(s, io);
  if (s.demo && code === 0) {
    io.err('next: node trigger --help (rates, ramps, thresholds), node trigger --local --workload tpcb, or deploy and run in AWS (README)');
  }
  return code;
}

function runLocal(s: RunSettings, io: CliIo): Promise<number> {
  const failoverAtMs = s.failoverAtMs;
  const options: LocalBackendOptions = {
    ...(s.local.servers ? { servers: s.local.servers } : {}),
    workload: s.workload,
    ...(s.scale !== undefined ? { scale: s.scale } : {}),
    ...(s.maxConnections !== undefined ? { maxConnections: s.maxConnections } : {}),
    ...(s.maxConcurrency !== undefined ? { maxConcurrency: s.maxConcurrency } : {}),
    scaleUp: s.scaleUp,
    endpoints: s.kinds.size,
    ...(failoverAtMs !== undefined ? { engine: { failoverEndpoints: true } } : {}),
  };
  return runPipeline({
    settings: s,
    plan: buildPlan(s, localFleet(options)),
    backend: new LocalBackend(options),
    ...(failoverAtMs !== undefined ? { drill: (b: LocalBackend) => localFailoverDrill(b.engine, failoverAtMs, io.clock) } : {}),
    io,
  });
}

/**
 * A run in AWS: find the queue (flags or the stack), and with `--failover-at` check the stack's
 * Aurora cluster before anything is sent, then run through the pipeline.
 */
async function runAws(s: RunSettings, io: CliIo): Promise<number> {
  const aws = await resolveAwsResources(s.aws);
  const failoverAtMs = s.failoverAtMs;
  const cluster = aws.deployment?.dbClusterIdentifier;
  if (failoverAtMs !== undefined && !cluster) throw new UsageError(FAILOVER_NEEDS_CLUSTER);
  const options: AwsBackendOptions = {
    concurrency: s.concurrency,
    ...(s.maxConnections !== undefined ? { maxConnections: s.maxConnections } : {}),
    ...(s.maxConcurrency !== undefined ? { maxConcurrency: s.maxConcurrency } : {}),
    scaleUp: s.scaleUp,
    endpoints: s.kinds.size,
  };
  const plan = buildPlan(s, awsFleet(aws, options));
  const rdsClient = failoverAtMs !== undefined ? await rds(aws.region) : undefined;
  try {
    let instances: AwsBackendOptions['instances'];
    if (rdsClient && failoverAtMs !== undefined) {
      const c = await checkFailoverCluster(rdsClient, cluster!);
      io.err(`failover drill: cluster ${cluster} (writer ${c.writer ?? 'unknown'}) fails over ${formatDuration(failoverAtMs)} into the load`);
      // The roles before the drill: after it, the writer is another instance.
      instances = c.instances;
    }
    return await runPipeline({
      settings: s,
      plan,
      backend: new AwsBackend(aws, { ...options, ...(instances ? { instances } : {}) }),
      ...(rdsClient && failoverAtMs !== undefined
        ? { drill: () => awsFailoverDrill({ client: rdsClient, dbClusterIdentifier: cluster!, atMs: failoverAtMs, clock: io.clock }) }
        : {}),
      io,
    });
  } finally {
    rdsClient?.destroy();
  }
}
