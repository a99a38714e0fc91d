import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DEFAULTS } from '../../handlers/config';
import type { InstanceCapacity } from '../config';
import { pin } from '../pin';

export interface AuroraDatabaseProps {
  readonly vpc: ec2.IVpc;
  /** Subnets for the cluster's subnet group: private ones, in at least two AZs. */
  readonly subnets: ec2.SubnetSelection;
  /** The one security group allowed to connect on the PostgreSQL port: the worker's. */
  readonly clientSecurityGroup: ec2.ISecurityGroup;
  /** Full Aurora PostgreSQL version, e.g. "16.13"; the major version is taken from it. */
  readonly engineVersion: string;
  /** Serverless v2 ACU range, or a provisioned instance class for every instance. */
  readonly capacity: InstanceCapacity;
  /**
   * Readers besides the writer. The first one is the failover target.
   *
   * @default 1
   */
  readonly readerCount?: number;
  /**
   * Database the worker connects to. Aurora always creates `postgres`; another name is created too.
   *
   * @default "postgres"
   */
  readonly databaseName?: string;
  /**
   * What happens to the cluster when it leaves the stack. The cluster holds nothing but load-test
   * data, but a final snapshot costs little and keeps a mistaken delete recoverable.
   *
   * @default RemovalPolicy.SNAPSHOT
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * An Aurora PostgreSQL cluster, writer plus readers, storage encrypted, private, with a generated
 * master secret, admitting PostgreSQL from the worker's security group only. Stateful: its
 * construct ids and logical ids never change.
 */
export class AuroraDatabase extends Construct {
  readonly cluster: rds.DatabaseCluster;
  /** The generated master credentials (an RDS-style JSON secret). */
  readonly secret: secretsmanager.ISecret;
  readonly port: number = DEFAULTS.port;
  readonly databaseName: string;
  /** Host of every instance, writer first: a message may target one of them explicitly. */
  readonly instanceHosts: string[];

  constructor(scope: Construct, id: string, props: AuroraDatabaseProps) {
    super(scope, id);
    const readerCount = props.readerCount ?? 1;
    this.databaseName = props.databaseName ?? DEFAULTS.database;
    const [major] = props.engineVersion.split('.');

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Aurora load test cluster: PostgreSQL from the worker only',
      allowAllOutbound: false,
    });
    securityGroup.addIngressRule(props.clientSecurityGroup, ec2.Port.tcp(this.port), 'PostgreSQL from the load test worker');
    pin(securityGroup, 'ClusterSecurityGroup');

    const instance = (instanceId: string, promotionTier: number): rds.IClusterInstance => {
      const common = { publiclyAccessible: false, enablePerformanceInsights: true };
      return props.capacity.kind === 'serverless'
        // Tier 0-1 readers scale with the writer: the failover target is never cold.
        ? rds.ClusterInstance.serverlessV2(instanceId, { ...common, scaleWithWriter: promotionTier <= 1 })
        : rds.ClusterInstance.provisioned(instanceId, {
            ...common,
            instanceType: new ec2.InstanceType(props.capacity.instanceClass),
            promotionTier,
          });
    };
    const readerIds = Array.from({ length: readerCount }, (_, i) => `Reader${i + 1}`);

    this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
      engine: rds.DatabaseClusterEngine.auroraPostgres({
        version: rds.AuroraPostgresEngineVersion.of(props.engineVersion, major as string),
      }),
      credentials: rds.Credentials.fromGeneratedSecret('postgres'),
      writer: instance('Writer', 0),
      readers: readerIds.map((readerId, i) => instance(readerId, i + 1)),
      ...(props.capacity.kind === 'serverless'
        ? { serverlessV2MinCapacity: props.capacity.minCapacity, serverlessV2MaxCapacity: props.capacity.maxCapacity }
        : {}),
      ...(this.databaseName !== 'postgres' ? { defaultDatabaseName: this.databaseName } : {}),
      port: this.port,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [securityGroup],
      storageEncrypted: true,
      deletionProtection: false,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.SNAPSHOT,
      copyTagsToSnapshot: true,
    });
    // EngineVersion 16.x -> 17.x upgrades in place: CloudFormation's DBCluster handler sends
    // ModifyDBCluster with AllowMajorVersionUpgrade whenever EngineVersion changes
    // (aws-cloudformation-resource-providers-rds, aws-rds-dbcluster Translator.modifyDbClusterRequest),
    // and the cluster parameter group, default.aurora-postgresql<major>, follows the version here.
    if (!this.cluster.secret) throw new Error('a cluster with generated credentials always has a secret');
    this.secret = this.cluster.secret;

    pin(this.cluster, 'Cluster');
    pin(this.cluster.node.findChild('Secret'), 'ClusterSecret');
    pin(this.cluster.node.findChild('Subnets'), 'ClusterSubnetGroup');
    for (const instanceId of ['Writer', ...readerIds]) pin(this.cluster.node.findChild(instanceId), `Cluster${instanceId}`);

    this.instanceHosts = this.cluster.instanceEndpoints.map((endpoint) => endpoint.hostname);

    Validations.of(this.cluster).acknowledge({
      id: 'AwsSolutions-RDS6',
      reason: 'The worker signs in with the generated secret, as it does with a bring-your-own database; IAM auth tokens cap new connections per second, which a load test opens in bursts.',
    });
    Validations.of(this.cluster).acknowledge({
      id: 'AwsSolutions-RDS10',
      reason: 'A load-test cluster is meant to be torn down with its stack; RemovalPolicy.SNAPSHOT keeps a final snapshot, so a mistaken delete is recoverable.',
    });
    Validations.of(this.cluster.node.findChild('Secret')).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: "Rotating the master password mid-test would break running workers' new connections (they read the secret once per cold start); only the worker's role can read it.",
    });
  }
}
