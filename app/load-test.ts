import type { Construct } from 'constructs';
import type { LoadTestConfig } from './config';
import { DatabaseStack } from './database/database-stack';
import { LoadStack } from './load/load-stack';
import type { DatabaseTarget, WorkerPlacement } from './load/database-target';
import { NetworkStack } from './network/network-stack';

/** CloudFormation stack names; the trigger looks the load stack up by its name. */
export const STACK_NAMES = {
  network: 'LoadTest-Network',
  database: 'LoadTest-Database',
  load: 'LoadTest-Load',
} as const;

export interface LoadTestStacks {
  /** Absent when the user brings the database (and its network). */
  readonly network?: NetworkStack;
  /** Absent when the user brings the database. */
  readonly database?: DatabaseStack;
  /** Always there: queue, worker, dashboard, and the outputs the trigger reads. */
  readonly load: LoadStack;
}

/**
 * Adds the load test's stacks to `scope` (the pipeline's stage): network and database (stateful,
 * only when the stacks create the database), then load (stateless). The stacks take the stage's
 * environment; without one they are environment-agnostic (the pipeline's own account and region),
 * so synth needs neither credentials nor lookups.
 */
export function addLoadTestStacks(scope: Construct, config: LoadTestConfig): LoadTestStacks {
  const db = config.database;
  if (db.mode === 'existing') {
    const load = new LoadStack(scope, 'Load', {
      stackName: STACK_NAMES.load,
      description: 'Aurora load test: queue, worker, dashboard (existing database)',
      worker: config.worker,
      database: { kind: 'existing', config: db },
    });
    return { load };
  }

  const network = new NetworkStack(scope, 'Network', {
    stackName: STACK_NAMES.network,
    description: 'Aurora load test: VPC and the worker security group',
    network: { natGateways: db.natGateways, interfaceEndpoints: db.interfaceEndpoints },
  });
  const net = network.network;
  const database = new DatabaseStack(scope, 'Database', {
    stackName: STACK_NAMES.database,
    description: 'Aurora load test: Aurora PostgreSQL cluster and its secret',
    database: {
      vpc: net.vpc,
      subnets: net.privateSubnets,
      clientSecurityGroup: net.workerSecurityGroup,
      engineVersion: db.engineVersion,
      capacity: db.capacity,
      readerCount: db.readerCount,
      databaseName: db.databaseName,
    },
  });
  const aurora = database.database;
  const target: DatabaseTarget = {
    writerHost: aurora.cluster.clusterEndpoint.hostname,
    readerHost: aurora.cluster.clusterReadEndpoint.hostname,
    port: aurora.port,
    databaseName: aurora.databaseName,
    secret: aurora.secret,
    secretId: aurora.secret.secretArn,
    extraHosts: aurora.instanceHosts,
    clusterIdentifier: aurora.cluster.clusterIdentifier,
    serverless: db.capacity.kind === 'serverless',
    mayPause: db.capacity.kind === 'serverless' && db.capacity.minCapacity === 0,
  };
  const placement: WorkerPlacement = { vpc: net.vpc, subnets: net.privateSubnets, securityGroups: [net.workerSecurityGroup] };
  const load = new LoadStack(scope, 'Load', {
    stackName: STACK_NAMES.load,
    description: 'Aurora load test: queue, worker, dashboard',
    worker: config.worker,
    database: { kind: 'created', placement, target },
  });
  return { network, database, load };
}
