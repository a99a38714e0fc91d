/**
 * The failover drill (`--failover-at`): fail the database over while load runs. Two ways to fail
 * over, behind the one {@link Drill} shape the run pipeline takes:
 * - local: the local engine promotes its hot standby, stops the old writer and moves both
 *   forwarding endpoints to the promoted server, as Aurora moves its cluster endpoints;
 * - AWS: RDS FailoverDBCluster on the Aurora cluster, then DescribeDBClusters until the cluster is
 *   available again with a new writer.
 */
import type { RDSClient } from '@aws-sdk/client-rds';
import type { Clock } from '../../handlers/clock';
import { STACK_OUTPUT } from '../../handlers/contract';
import { oneLine } from '../errors';
import { DrillError, type Drill } from './drill';

/** What the local failover needs of the engine (trigger/local/engine.ts). */
export interface FailoverCapable {
  failover(): Promise<void>;
  readonly cluster?: { readonly promoted: boolean; readonly writer: { readonly port: number } } | undefined;
}

/**
 * Fail the local engine over `atMs` into the load. The engine must run the embedded cluster with
 * failover endpoints (`failoverEndpoints: true`), and can fail over once.
 */
export function localFailoverDrill(engine: FailoverCapable, atMs: number, clock: Clock): Drill {
  return {
    kind: 'failover',
    atMs,
    async cause() {
      const cluster = engine.cluster;
      if (!cluster) throw new DrillError('a local failover drill needs the embedded cluster: do not pass --writer-url/--reader-url');
      if (cluster.promoted) throw new DrillError('the local cluster has already failed over once; start a new engine for another drill');
      const from = String(cluster.writer.port);
      const startedAt = clock.now();
      await engine.failover();
      return { startedAt, completedAt: clock.now(), from, to: String(cluster.writer.port) };
    },
  };
}

export interface AwsFailoverOptions {
  readonly client: RDSClient;
  /** The Aurora cluster (the stack output DbClusterIdentifier). */
  readonly dbClusterIdentifier: string;
  /** When to fail over, ms after the load starts. */
  readonly atMs: number;
  readonly clock: Clock;
  /** How often to ask whether the failover is done. @default 2000 */
  readonly pollMs?: number;
  /** Give up waiting after this long (the failover itself goes on). @default 600000 */
  readonly timeoutMs?: number;
}

interface ClusterState {
  readonly status: string;
  readonly writer: string | undefined;
}

/**
 * Fail an Aurora cluster over with RDS FailoverDBCluster `atMs` into the load; the fault is over
 * once DescribeDBClusters shows the cluster `available` with a different writer instance. AWS
 * errors become one line that says what to check (no such cluster, nothing to fail over to, not
 * allowed).
 */
export function awsFailoverDrill(o: AwsFailoverOptions): Drill {
  const { clock } = o;
  const pollMs = o.pollMs ?? 2_000;
  const timeoutMs = o.timeoutMs ?? 600_000;
  return {
    kind: 'failover',
    atMs: o.atMs,
    async cause(signal) {
      const { DescribeDBClustersCommand, FailoverDBClusterCommand } = require('@aws-sdk/client-rds') as typeof import('@aws-sdk/client-rds');
      const describe = async (): Promise<ClusterState> => {
        try {
          const c = (await o.client.send(new DescribeDBClustersCommand({ DBClusterIdentifier: o.dbClusterIdentifier }))).DBClusters?.[0];
          if (!c) throw new DrillError(`no Aurora cluster named ${o.dbClusterIdentifier}`);
          return { status: c.Status ?? 'unknown', writer: c.DBClusterMembers?.find((m) => m.IsClusterWriter)?.DBInstanceIdentifier };
        } catch (e) {
          throw awsDrillError(e, o.dbClusterIdentifier);
        }
      };
      const before = await describe();
      if (before.status !== 'available') throw new DrillError(`cluster ${o.dbClusterIdentifier} is ${before.status}, not available: wait for it before a failover drill`);
      const startedAt = clock.now();
      try {
        await o.client.send(new FailoverDBClusterCommand({ DBClusterIdentifier: o.dbClusterIdentifier }));
      } catch (e) {
        throw awsDrillError(e, o.dbClusterIdentifier);
      }
      for (;;) {
        await clock.sleep(pollMs, signal);
        if (signal.aborted) throw new DrillError('interrupted while waiting for the failover to finish (it goes on in AWS)');
        const now = await describe();
        if (now.status === 'available' && now.writer !== undefined && now.writer !== before.writer) {
          return { startedAt, completedAt: clock.now(), ...(before.writer ? { from: before.writer } : {}), to: now.writer };
        }
        if (clock.now() > startedAt + timeoutMs) {
          throw new DrillError(`cluster ${o.dbClusterIdentifier} had not finished failing over after ${Math.round(timeoutMs / 1000)} s (status ${now.status}, writer ${now.writer ?? 'unknown'})`);
        }
      }
    },
  };
}

function awsDrillError(e: unknown, cluster: string): DrillError {
  if (e instanceof DrillError) return e;
  const err = e as Error;
  const what = `${err?.name ?? 'Error'}: ${oneLine(String(err?.message ?? e))}`;
  const hint = /DBClusterNotFound/.test(what)
    ? `check the cluster identifier (stack output ${STACK_OUTPUT.dbClusterIdentifier}) and --region`
    : /InvalidDBClusterState|InvalidDBInstanceState/.test(what)
      ? 'the cluster needs a reader instance to fail over to, and must be available'
      : /AccessDenied|not authorized|UnrecognizedClient|credential/i.test(what)
        ? 'your AWS identity needs rds:FailoverDBCluster and rds:DescribeDBClusters on the cluster'
        : 'check the cluster, --region and your AWS credentials';
  return new DrillError(`failover of ${cluster} failed: ${what}; ${hint}`);
}
