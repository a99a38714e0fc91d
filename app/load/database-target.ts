import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/** The database the worker sends load to, created by the stacks or brought by the user. */
export interface DatabaseTarget {
  /** Host of the writer (cluster) endpoint: writes go here. */
  readonly writerHost: string;
  /** Host of the reader endpoint: reads go here. */
  readonly readerHost: string;
  readonly port: number;
  readonly databaseName: string;
  /** The RDS-style JSON secret with the credentials; the worker is granted read on it. */
  readonly secret: secretsmanager.ISecret;
  /** What the worker passes to GetSecretValue: the secret's ARN, or the name it was given by. */
  readonly secretId: string;
  /** Hosts a message may name besides the two endpoints, e.g. each instance's own endpoint. */
  readonly extraHosts: readonly string[];
  /** The Aurora cluster, when known: its metrics go on the dashboard and failover drills need it. */
  readonly clusterIdentifier?: string;
  /** The cluster runs Aurora Serverless v2: capacity (ACU) widgets go on the dashboard. */
  readonly serverless?: boolean;
  /**
   * Its instances may pause (Serverless v2 at 0 ACU): the worker's first connections wait for
   * the resume.
   */
  readonly mayPause?: boolean;
  /** The customer-managed KMS key that encrypts the secret, when there is one: the worker may decrypt with it. */
  readonly secretKmsKeyArn?: string;
}

/** Where the worker's ENIs go: private subnets and security groups that reach the database. */
export interface WorkerPlacement {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroups: readonly ec2.ISecurityGroup[];
}
