import { Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { ExistingDatabaseConfig } from '../config';
import type { DatabaseTarget, WorkerPlacement } from './database-target';

/**
 * A database and network the user already has, imported without lookups so that synth works
 * offline: the VPC by id, the subnets and security groups by id, the secret by name or ARN.
 * Creates no resources.
 */
export class ExistingDatabase extends Construct {
  readonly target: DatabaseTarget;
  readonly placement: WorkerPlacement;

  constructor(scope: Construct, id: string, props: ExistingDatabaseConfig) {
    super(scope, id);
    // The worker selects its subnets explicitly, so the VPC's AZ list is never consulted.
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: props.vpcId, availabilityZones: Stack.of(this).availabilityZones });
    const subnets = props.subnetIds.map((subnetId) => {
      const subnet = ec2.Subnet.fromSubnetId(this, subnetId, subnetId);
      Validations.of(subnet).acknowledge({
        id: '@aws-cdk/aws-ec2:noSubnetRouteTableId',
        reason: 'The worker only places its network interfaces in this subnet; nothing here reads or changes its route table.',
      });
      return subnet;
    });
    // Immutable: the stack must not add rules to security groups it does not own.
    const securityGroups = props.securityGroupIds.map((sgId) => ec2.SecurityGroup.fromSecurityGroupId(this, sgId, sgId, { mutable: false }));
    // A name RDS gave the secret it manages (rds!cluster-...) works like any other name: the
    // grant ends in -?????? for the random suffix Secrets Manager appends to every secret's ARN.
    const secret = props.secretName.startsWith('arn:')
      ? secretsmanager.Secret.fromSecretCompleteArn(this, 'Secret', props.secretName)
      : secretsmanager.Secret.fromSecretNameV2(this, 'Secret', props.secretName);

    this.placement = { vpc, subnets: { subnets }, securityGroups };
    this.target = {
      writerHost: props.writerEndpoint,
      readerHost: props.readerEndpoint,
      port: props.port,
      databaseName: props.databaseName,
      secret,
      secretId: props.secretName,
      extraHosts: [],
      ...(props.clusterIdentifier !== undefined ? { clusterIdentifier: props.clusterIdentifier } : {}),
      ...(props.secretKmsKeyArn !== undefined ? { secretKmsKeyArn: props.secretKmsKeyArn } : {}),
    };
  }
}
