import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AuroraDatabase, type AuroraDatabaseProps } from './aurora-database';

export interface DatabaseStackProps extends StackProps {
  /** The cluster to create, in the network stack's VPC. */
  readonly database: AuroraDatabaseProps;
}

/** Stateful: the Aurora PostgreSQL cluster and its secret. Created only when no database is brought. */
export class DatabaseStack extends Stack {
  readonly database: AuroraDatabase;

  constructor(scope: Construct, id: string, props: DatabaseStackProps) {
    super(scope, id, props);
    this.database = new AuroraDatabase(this, 'Database', props.database);
  }
}
