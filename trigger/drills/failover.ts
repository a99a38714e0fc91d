/**
 * The failover drill: fail the database over while load runs, then say what it cost the clients
 * (see outage.ts). Two ways to fail over, behind one shape ({@link FailoverAction}):
 * - local: the local engine promotes its hot standby, stops the old writer and moves both
 *   forwarding endpoints to the promoted server, as Aurora moves its cluster endpoints;
 * - AWS: RDS FailoverDBCluster on the Aurora cluster, then DescribeDBClusters until the cluster is
 *   available again with a new writer.
 * {@link scheduleFailover} fires either at a given moment; {@link runLocalFailoverDrill} is the
 * whole drill on the local engine (what `npm test` runs).
 */
import type { RDSClient } from '@aws-sdk/client-rds';
import type { MixEntry } from '../../handlers/protocol/message';
import type { WorkloadName } from '../../handlers/workloads/catalog';
import { systemClock, type Clock } from '../clock';
import { oneLine } from '../errors';
import type { LocalEngine } from '../local/engine';
import { describeMix } from '../options/mix';
import { summarize, type RunSummary } from '../report/summary';
import { defaultMix, DrillError, drillRunId, planLoad, sendLoad } from './load';
import { analyseOutage, type OutageAnalysis, type OutageOptions } from './outage';

/** When a failover was asked for, and when it was done. Epoch ms. */
export interface FailoverEvent {
  readonly kind: 'local' | 'aws';
  readonly startedAt: number;
  readonly completedAt: number;
  /** The writer before and after, when known (AWS: DB instance identifiers; local: ports). */
  readonly from?: string;
  readonly to?: string;
}

/** Performs one failover and resolves once the new writer accepts writes. */
export type FailoverAction = () => Promise<FailoverEvent>;

/**
 * Fail the local engine over: promote the standby, stop the old writer, move the endpoints. The
 * engine must run the embedded cluster with failover endpoints
 * (`LocalEngine.start({ failoverEndpoints: true })`), and can fail over once.
 */
/** What {@link localFailover} needs of the engine. */
export interface FailoverCapable {
  failover(): Promise<void>;
  readonly cluster?: { readonly promoted: boolean; readonly writer: { readonly port: number } } | undefined;
}

export function localFailover(engine: FailoverCapable, clock: Clock = systemClock): FailoverAction {
  return async () => {
    const cluster = engine.cluster;
    if (!cluster) throw new DrillError('a local failover drill needs the embedded cluster: do not pass --writer-url/--reader-url');
    if (cluster.promoted) throw new DrillError('the local cluster has already failed over once; start a new engine for another drill');
    const from = String(cluster.writer.port);
    const startedAt = clock.now();
    await engine.failover();
    return { kind: 'local', startedAt, completedAt: clock.now(), from, to: String(cluster.writer.port) };
  };
}

export interface AwsFailoverOptions {
  readonly client: RDSClient;
  /** The Aurora cluster (the stack output DbClusterIdentifier). */
  readonly dbClusterIdentifier: string;
  /** The reader instance to promote. @default Aurora picks one */
  readonly targetDbInstanceIdentifier?: string;
  /** How often to ask whether the failover is done. @default 2000 */
  readonly pollMs?: number;
  /** Give up waiting after this long (the failover itself goes on). @default 600000 */
  readonly timeoutMs?: number;
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
}

interface ClusterState {
  readonly status: string;
  readonly writer: string | undefined;
}

/**
 * Fail an Aurora cluster over with RDS FailoverDBCluster and resolve once DescribeDBClusters shows
 * it `available` with a different writer instance. AWS errors become one line that says what to
 * check (no such cluster, nothing to fail over to, not allowed).
 */
export function awsFailover(o: AwsFailoverOptions): FailoverAction {
  const clock = o.clock ?? systemClock;
  const pollMs = o.pollMs ?? 2_000;
  const timeoutMs = o.timeoutMs ?? 600_000;
  return async () => {
    const { DescribeDBClustersCommand, FailoverDBClusterCommand } = await import('@aws-sdk/client-rds');
    const describe = async (): Promise<ClusterState> => {
      const out = await o.client.send(new DescribeDBClustersCommand({ DBClusterIdentifier: o.dbClusterIdentifier }));
      const c = out.DBClusters?.[0];
      if (!c) throw new DrillError(`no Aurora cluster named ${o.dbClusterIdentifier}`);
      return { status: c.Status ?? 'unknown', writer: c.DBClusterMembers?.find((m) => m.IsClusterWriter)?.DBInstanceIdentifier };
    };
    let before: ClusterState;
    try {
      before = await describe();
    } catch (e) {
      throw awsDrillError(e, o.dbClusterIdentifier);
    }
    if (before.status !== 'available') throw new DrillError(`cluster ${o.dbClusterIdentifier} is ${before.status}, not available: wait for it before a failover drill`);
    const startedAt = clock.now();
    try {
      await o.client.send(new FailoverDBClusterCommand({
        DBClusterIdentifier: o.dbClusterIdentifier,
        ...(o.targetDbInstanceIdentifier ? { TargetDBInstanceIdentifier: o.targetDbInstanceIdentifier } : {}),
      }));
    } catch (e) {
      throw awsDrillError(e, o.dbClusterIdentifier);
    }
    const deadline = startedAt + timeoutMs;
    for (;;) {
      await clock.sleep(pollMs, o.signal);
      if (o.signal?.aborted) throw new DrillError('interrupted while waiting for the failover to finish (it goes on in AWS)');
      let now: ClusterState;
      try {
        now = await describe();
      } catch (e) {
        throw awsDrillError(e, o.dbClusterIdentifier);
      }
      if (now.status === 'available' && now.writer !== undefined && now.writer !== before.writer) {
        return { kind: 'aws', startedAt, completedAt: clock.now(), ...(before.writer ? { from: before.writer } : {}), to: now.writer };
      }
      if (clock.now() > deadline) {
        throw new DrillError(`cluster ${o.dbClusterIdentifier} had not finished failing over after ${Math.round(timeoutMs / 1000)} s (status ${now.status}, writer ${now.writer ?? 'unknown'})`);
      }
    }
  };
}

function awsDrillError(e: unknown, cluster: string): DrillError {
  if (e instanceof DrillError) return e;
  const err = e as Error;
  const what = `${err?.name ?? 'Error'}: ${oneLine(String(err?.message ?? e))}`;
  const hint = /DBClusterNotFound/.test(what)
    ? 'check the cluster identifier (stack output DbClusterIdentifier) and --region'
    : /InvalidDBClusterState|InvalidDBInstanceState/.test(what)
      ? 'the cluster needs a reader instance to fail over to, and must be available'
      : /AccessDenied|not authorized|UnrecognizedClient|credential/i.test(what)
        ? 'your AWS identity needs rds:FailoverDBCluster and rds:DescribeDBClusters on the cluster'
        : 'check the cluster, --region and your AWS credentials';
  return new DrillError(`failover of ${cluster} failed: ${what}; ${hint}`);
}

/**
 * Run `action` at epoch ms `at` (at once if that has passed). Resolves to its event, or to
 * undefined when `signal` aborts first. A failing action rejects the returned promise.
 */
export async function scheduleFailover(action: FailoverAction, at: number, opts: { clock?: Clock; signal?: AbortSignal } = {}): Promise<FailoverEvent | undefined> {
  const clock = opts.clock ?? systemClock;
  for (let wait = at - clock.now(); wait > 0; wait = at - clock.now()) {
    await clock.sleep(Math.min(wait, 1_000), opts.signal);
    if (opts.signal?.aborted) return undefined;
  }
  if (opts.signal?.aborted) return undefined;
  return action();
}

export interface LocalFailoverDrillOptions {
  /** Started with `failoverEndpoints: true` (and a visibility timeout longer than lead + slice). */
  readonly engine: LocalEngine;
  /** When to fail over, ms after the load starts. */
  readonly failoverAtMs: number;
  /** @default 200 */
  readonly rate?: number;
  /** @default failoverAtMs + 10 s */
  readonly durationMs?: number;
  /** @default 'seed' (initialised by the caller) */
  readonly workload?: WorkloadName;
  /** @default the workload's read and write operation, 80:20 */
  readonly mix?: readonly MixEntry[];
  readonly runId?: string;
  /** Slices are sent this long ahead. @default 1000 */
  readonly leadMs?: number;
  readonly analysis?: OutageOptions;
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
}

export interface FailoverDrillResult {
  readonly runId: string;
  /** Undefined when interrupted before the failover. */
  readonly failover: FailoverEvent | undefined;
  readonly analysis: OutageAnalysis | undefined;
  /** The run's ordinary summary (latency, errors, messages). */
  readonly summary: RunSummary;
}

/**
 * The failover drill on the local engine: slice-mode load at `rate`, a failover `failoverAtMs`
 * into it, the engine drained, then the outage analysis of the run. Slices keep running through
 * the failover: failed statements are counted, not retried, so the rate shows the dip and the
 * return, as a client of a real cluster would see them.
 */
export async function runLocalFailoverDrill(o: LocalFailoverDrillOptions): Promise<FailoverDrillResult> {
  const rate = o.rate ?? 200;
  const durationMs = o.durationMs ?? o.failoverAtMs + 10_000;
  if (!(o.failoverAtMs > 0 && o.failoverAtMs < durationMs)) {
    throw new DrillError(`the failover must come during the load: --failover-at ${o.failoverAtMs / 1000}s is not within --duration ${durationMs / 1000}s`);
  }
  const workload = o.workload ?? 'seed';
  const runId = o.runId ?? drillRunId('failover');
  const plan = planLoad({ runId, workload, ...(o.mix ? { mix: o.mix } : {}), rate, durationMs, mode: 'slice', ...(o.leadMs !== undefined ? { leadMs: o.leadMs } : {}) });
  const longest = plan.mode === 'slice' ? Math.max(...plan.slots.map((s) => s.durationMs)) : 0;
  if (o.engine.queue.visibilityTimeoutMs < plan.loadStartMs + longest) {
    throw new DrillError(`the engine's visibility timeout (${o.engine.queue.visibilityTimeoutMs} ms) is shorter than lead + slice (${plan.loadStartMs + longest} ms): slices would run twice`);
  }
  const action = localFailover(o.engine);
  let failover: Promise<FailoverEvent | undefined> = Promise.resolve(undefined);
  const sent = await sendLoad(o.engine, plan, {
    ...(o.signal ? { signal: o.signal } : {}),
    onLoadStart: (at) => {
      failover = scheduleFailover(action, at + o.failoverAtMs, { ...(o.signal ? { signal: o.signal } : {}) });
      // Reported when awaited below; never an unhandled rejection meanwhile.
      failover.catch(() => undefined);
    },
  });
  const event = await failover;
  if (event) o.log?.(`failed over in ${event.completedAt - event.startedAt} ms (writer ${event.from} -> ${event.to})`);
  await o.engine.idle(Math.max(0, sent.loadEndAt - Date.now()) + 60_000);
  const invocations = o.engine.sink.invocations;
  const analysis = event
    ? analyseOutage(invocations, event.startedAt, rate, { runId, loadStartAt: sent.loadStartAt, loadEndAt: sent.loadEndAt, ...o.analysis })
    : undefined;
  const dlq = o.engine.dlq.depth;
  const summary = summarize(invocations, {
    runId, workload, mode: 'slice', mix: describeMix(o.mix ?? defaultMix(workload)), startedAt: sent.loadStartAt, durationMs,
    interrupted: o.signal?.aborted === true, rate, averageRate: plan.averageRate, plannedStatements: plan.statements,
    messagesSent: sent.transport.stats.accepted, deadLettered: dlq.visible + dlq.inFlight,
    send: { ...sent.transport.stats, maxLateMs: sent.sender.maxLateMs },
  });
  return { runId, failover: event, analysis, summary };
}
