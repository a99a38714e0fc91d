import type { RDSClient } from '@aws-sdk/client-rds';
import { STACK_OUTPUT } from '../../handlers/contract';
import { UsageError } from '../errors';
import { describeAwsFailure } from './discovery';

/** What a failover drill needs before any load is sent: the cluster, available, with a reader. */
export interface FailoverCluster {
  readonly dbClusterIdentifier: string;
  /** The writer instance now. */
  readonly writer: string | undefined;
  readonly readers: readonly string[];
  /**
   * Every instance with its role now, before the drill (writer first): the database section labels
   * the instances by these, since after the failover the writer is another instance.
   */
  readonly instances: ReadonlyArray<{ readonly id: string; readonly role: 'writer' | 'reader' }>;
}

/**
 * Check, before sending, that `--failover-at` can work: the cluster can be described with these
 * credentials, is `available`, and has a reader instance to promote. Otherwise one line, exit 2,
 * so a drill does not find out halfway through its load. (The drill itself checks again when it
 * fires; this only saves a wasted run.)
 */
export async function checkFailoverCluster(client: RDSClient, dbClusterIdentifier: string): Promise<FailoverCluster> {
  const { DescribeDBClustersCommand } = require('@aws-sdk/client-rds') as typeof import('@aws-sdk/client-rds');
  let cluster;
  try {
    cluster = (await client.send(new DescribeDBClustersCommand({ DBClusterIdentifier: dbClusterIdentifier }))).DBClusters?.[0];
  } catch (e) {
    const why = describeAwsFailure(e);
    const hint = /AccessDenied|not authorized/i.test(why) ? ': your AWS identity needs rds:DescribeDBClusters and rds:FailoverDBCluster on it' : '';
    throw new UsageError(`--failover-at: cannot describe the Aurora cluster ${dbClusterIdentifier} (${why})${hint}`);
  }
  if (!cluster) throw new UsageError(`--failover-at: no Aurora cluster named ${dbClusterIdentifier}: check --region and the stack output ${STACK_OUTPUT.dbClusterIdentifier}`);
  if (cluster.Status !== 'available') throw new UsageError(`--failover-at: the Aurora cluster ${dbClusterIdentifier} is ${cluster.Status ?? 'in an unknown state'}, not available: wait for it, then run the drill`);
  const members = cluster.DBClusterMembers ?? [];
  const readers = members.filter((m) => !m.IsClusterWriter && m.DBInstanceIdentifier).map((m) => m.DBInstanceIdentifier!);
  if (readers.length === 0) throw new UsageError(`--failover-at: the Aurora cluster ${dbClusterIdentifier} has no reader instance to fail over to`);
  const writer = members.find((m) => m.IsClusterWriter)?.DBInstanceIdentifier;
  const instances = [...(writer ? [{ id: writer, role: 'writer' as const }] : []), ...[...readers].sort().map((id) => ({ id, role: 'reader' as const }))];
  return { dbClusterIdentifier, writer, readers, instances };
}
