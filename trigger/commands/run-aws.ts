import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DEFAULTS } from '../../handlers/config';
import type { RDSClient } from '@aws-sdk/client-rds';
import { cloudWatch, rds, sqs } from '../aws/clients';
import { readPerSecondFromCloudWatch, readRunFromCloudWatch, type MetricsWindow } from '../aws/cloudwatch-report';
import { checkFailoverTarget } from '../aws/failover-target';
import { systemClock } from '../clock';
import { describeAwsFailure } from '../aws/discovery';
import { awsFailover, scheduleFailover, type FailoverEvent } from '../drills/failover';
import { analyseOutageOf } from '../drills/outage';
import { CliError, EXIT, oneLine, UsageError } from '../errors';
import { formatDuration } from '../options/duration';
import { describeMix } from '../options/mix';
import type { RunSettings } from '../options/run-options';
import { buildPlan, endpointsUsed } from '../plan/build';
import { checkConnectionBudget, RESERVED_CONNECTIONS } from '../plan/budget';
import { Progress } from '../progress';
import type { FailoverReport, RunContext, RunSummary } from '../report/summary';
import { Sender, type SenderResult } from '../send/sender';
import { SqsTransport } from '../send/sqs-transport';
import type { QueueDepth } from '../send/transport';
import { resolveAwsTarget } from './aws-target';
import { finish, saveRun } from './finish';
import { aborted, type CliIo } from './io';

/** CloudWatch needs a little while to make new datapoints queryable. */
const METRICS_POLL_MS = 10_000;
const METRICS_WAIT_MAX_MS = 4 * 60_000;

/** The one line `--failover-at` gets when the stack has no cluster (bring-your-own database). */
export const FAILOVER_NEEDS_CLUSTER = '--failover-at needs the Aurora cluster the stack created (output DbClusterIdentifier); in bring-your-own mode fail over from the RDS console';

/**
 * A run in AWS: find the queue (flags or the stack), check the plan against the worker's limits,
 * send it through SQS, wait for the load and its metrics, and summarise from CloudWatch. With
 * `--failover-at`, the failover drill: RDS FailoverDBCluster on the stack's cluster that long into
 * the load, and the outage read back from CloudWatch second by second.
 */
export async function runAws(s: RunSettings, io: CliIo): Promise<number> {
  const target = await resolveAwsTarget(s.aws);
  const d = target.deployment;
  const clusterId = d?.dbClusterIdentifier;
  if (s.failoverAtMs !== undefined && !clusterId) throw new UsageError(FAILOVER_NEEDS_CLUSTER);
  const plan = buildPlan(s);
  const notes: string[] = [];
  const poolMax = d?.workerPoolMax ?? DEFAULTS.poolMax;
  if (plan.mode === 'slice' && d?.workerMaxConcurrency !== undefined && plan.workers > d.workerMaxConcurrency) {
    throw new UsageError(`plan needs ${plan.workers} workers running at once but the worker's maximum concurrency is ${d.workerMaxConcurrency}: raise --worker-rate (fewer workers) or lower --rate`);
  }
  const holders = plan.mode === 'slice' ? plan.workers : d?.workerMaxConcurrency;
  if (s.maxConnections !== undefined && holders !== undefined) {
    checkConnectionBudget({ workers: holders, poolMax, endpoints: endpointsUsed(s), maxConnections: s.maxConnections, reserved: RESERVED_CONNECTIONS });
  } else {
    notes.push(`connection budget not checked: pass --max-connections N (SHOW max_connections on the writer) to have plans that cannot fit refused`);
  }
  let rdsClient: RDSClient | undefined;
  if (s.failoverAtMs !== undefined) {
    rdsClient = await rds(target.region);
    try {
      const cluster = await checkFailoverTarget(rdsClient, clusterId!);
      io.err(`failover drill: cluster ${clusterId} (writer ${cluster.writer ?? 'unknown'}) fails over ${formatDuration(s.failoverAtMs)} into the load`);
    } catch (e) {
      rdsClient.destroy();
      throw e;
    }
  }
  io.err(`run ${s.runId}: ${plan.description}, for ${formatDuration(s.durationMs)}${s.rampMs ? ` (ramp ${formatDuration(s.rampMs)})` : ''}`);
  io.err(`queue ${target.queueUrl}${d?.dashboardUrl ? `; dashboard ${d.dashboardUrl}` : ''}`);

  const client = await sqs(target.region);
  const transport = new SqsTransport({ client, queueUrl: target.queueUrl, concurrency: s.concurrency, signal: io.signal });
  let t0 = Date.now();
  let phase: string | undefined;
  let depth: QueueDepth | undefined;
  const depthTimer = setInterval(() => void transport.depth().then((x) => { depth = x; }), 5_000);
  depthTimer.unref();
  // Failover drill: scheduled against the load's real start, once sending has begun.
  let failover: Promise<FailoverEvent | undefined> | undefined;
  let failingOver = false;
  const onStart = (t: number): void => {
    t0 = t;
    if (!rdsClient || s.failoverAtMs === undefined) return;
    const action = awsFailover({ client: rdsClient, dbClusterIdentifier: clusterId!, signal: io.signal });
    failover = scheduleFailover(async () => {
      failingOver = true;
      try {
        return await action();
      } finally {
        failingOver = false;
      }
    }, t + plan.loadStartMs + s.failoverAtMs, { signal: io.signal });
    // Reported once awaited below; never an unhandled rejection meanwhile.
    failover.catch(() => undefined);
  };
  const sender = new Sender(plan, transport, { clock: systemClock, signal: io.signal, onStart });
  const totalMs = plan.loadStartMs + plan.loadDurationMs;
  const progress = new Progress(() => {
    const shown = [phase, failingOver ? 'failover in progress' : undefined].filter(Boolean).join('; ');
    return {
      elapsedMs: Date.now() - t0, totalMs, sent: sender.progress.sent, messages: plan.total,
      ...(depth ? { depth } : {}), ...(shown ? { phase: shown } : {}),
    };
  }, { stream: io.progressStream });
  progress.start();
  let result: SenderResult;
  try {
    result = await sender.run();
    const loadEnd = t0 + totalMs;
    if (!io.signal.aborted && Date.now() < loadEnd) {
      phase = 'load running';
      await Promise.race([systemClock.sleep(loadEnd - Date.now(), io.signal), aborted(io.signal)]);
    }
    if (failover && !io.signal.aborted) {
      phase = 'load done';
      await failover.catch(() => undefined);
    }
  } finally {
    clearInterval(depthTimer);
    progress.stop();
  }
  let failoverEvent: FailoverEvent | undefined;
  if (rdsClient) {
    try {
      failoverEvent = await failover;
      if (failoverEvent) {
        const moved = failoverEvent.from || failoverEvent.to ? ` (writer ${failoverEvent.from ?? 'unknown'} -> ${failoverEvent.to ?? 'unknown'})` : '';
        io.err(`failed over in ${((failoverEvent.completedAt - failoverEvent.startedAt) / 1000).toFixed(1)} s${moved}`);
      } else {
        notes.push('the failover drill did not run: the run ended before its time');
      }
    } catch (e) {
      // A drill that failed (no permission, nothing to fail over to, timed out) must not lose the run.
      notes.push(`the failover drill failed: ${oneLine(String((e as Error)?.message ?? e))}`);
    } finally {
      rdsClient.destroy();
    }
  }
  const interrupted = io.signal.aborted;
  const loadStart = t0 + plan.loadStartMs;
  const durationMs = interrupted ? Math.min(plan.loadDurationMs, Math.max(0, Date.now() - loadStart)) : plan.loadDurationMs;
  if (interrupted) {
    notes.push(`interrupted: ${result.sent} of ${plan.total} messages sent; slices already queued or running go on: purge them with node trigger stop --yes`);
  }
  if (transport.stats.lost > 0) notes.push(`${transport.stats.lost} message(s) could not be sent (see sending)`);
  const dlqDepth = d?.deadLetterQueueUrl
    ? await new SqsTransport({ client, queueUrl: d.deadLetterQueueUrl, concurrency: 1 }).depth()
    : undefined;
  client.destroy();

  const ctx: RunContext = {
    runId: s.runId, workload: s.workload, mode: plan.mode, mix: describeMix(s.mix), startedAt: loadStart, durationMs, interrupted,
    rate: s.rate, averageRate: plan.averageRate,
    plannedStatements: interrupted ? (plan.averageRate * durationMs) / 1000 : plan.statements,
    messagesSent: transport.stats.accepted,
    deadLettered: dlqDepth ? dlqDepth.visible + dlqDepth.inFlight : null,
    send: { ...transport.stats, maxLateMs: result.maxLateMs },
    notes: [...notes, ...(dlqDepth ? ['the dead-letter count is the whole DLQ, all runs included'] : [])],
    ...(failoverEvent ? { failover: failoverReportOf(failoverEvent) } : {}),
  };
  const window: MetricsWindow = { namespace: target.namespace, runId: s.runId, startMs: loadStart, endMs: loadStart + durationMs + 30_000 };
  const cw = await cloudWatch(target.region);
  let summary: RunSummary;
  try {
    summary = interrupted ? await read(cw, window, ctx) : await waitForMetrics(cw, window, ctx, io);
    if (failoverEvent) summary = await withOutageAnalysis(cw, summary, window, failoverEvent, { workload: s.workload, rate: s.rate, loadStartAt: loadStart, loadEndAt: loadStart + durationMs });
  } finally {
    cw.destroy();
  }
  if (s.save) await saveRun({ summary, cloud: { region: target.region ?? '', namespace: target.namespace, startMs: window.startMs, endMs: window.endMs } }, io);
  return finish(summary, s.thresholds, s.json, io);
}

function failoverReportOf(e: FailoverEvent): FailoverReport {
  return { startedAt: e.startedAt, completedAt: e.completedAt, ...(e.from ? { from: e.from } : {}), ...(e.to ? { to: e.to } : {}) };
}

/**
 * Add the failover's cost to the summary: the run's statements per second and target read back
 * from CloudWatch (Period 1), analysed to the second. A failed read is a note; the summary stands.
 */
async function withOutageAnalysis(
  cw: CloudWatchClient, summary: RunSummary, window: MetricsWindow, event: FailoverEvent,
  run: { workload: string; rate: number; loadStartAt: number; loadEndAt: number },
): Promise<RunSummary> {
  try {
    const input = await readPerSecondFromCloudWatch(cw, window, run.workload);
    const analysis = analyseOutageOf(input, event.startedAt, run.rate, { loadStartAt: run.loadStartAt, loadEndAt: run.loadEndAt });
    return { ...summary, failover: { ...failoverReportOf(event), analysis } };
  } catch (e) {
    return { ...summary, notes: [...summary.notes, `the failover's cost could not be read from CloudWatch per second: ${describeAwsFailure(e)}`] };
  }
}

/**
 * Poll CloudWatch until the run's statements are all there (attempted + skipped reach the plan),
 * or the count stops growing, or a few minutes pass; then return the latest read.
 */
async function waitForMetrics(cw: CloudWatchClient, window: MetricsWindow, ctx: RunContext, io: CliIo): Promise<RunSummary> {
  const deadline = Date.now() + METRICS_WAIT_MAX_MS;
  let last = -1;
  let summary = await read(cw, window, ctx);
  for (;;) {
    const seen = summary.achieved.statements + summary.totals.skipped;
    if (seen >= ctx.plannedStatements * 0.999 || (seen > 0 && seen === last) || Date.now() > deadline || io.signal.aborted) break;
    io.err(`waiting for CloudWatch: ${seen} of ${Math.round(ctx.plannedStatements)} statements reported so far...`);
    last = seen;
    await systemClock.sleep(METRICS_POLL_MS, io.signal);
    summary = await read(cw, window, ctx);
  }
  return summary;
}

/** Read the run's metrics; an AWS failure is one line (exit 1: the load ran, the report did not). */
export async function read(cw: CloudWatchClient, window: MetricsWindow, ctx: RunContext): Promise<RunSummary> {
  try {
    return await readRunFromCloudWatch(cw, window, ctx);
  } catch (e) {
    throw new CliError(`cannot read the run's metrics from CloudWatch: ${describeAwsFailure(e)}; try later with node trigger report --run ${ctx.runId}`, EXIT.failed);
  }
}
