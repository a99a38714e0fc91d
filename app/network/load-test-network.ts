import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { pin } from '../pin';

export interface LoadTestNetworkProps {
  /**
   * NAT gateways, one per AZ at most. The worker reaches Secrets Manager and CloudWatch through
   * them unless interface endpoints are created. Set 0 to pay for no NAT gateway: the private
   * subnets are then isolated and the interface endpoints are the worker's only way out.
   *
   * @default 1
   */
  readonly natGateways?: number;
  /**
   * Create interface endpoints for Secrets Manager, SQS and CloudWatch (metrics) in the private
   * subnets. Set it when the worker must not leave the VPC for AWS APIs; each endpoint is billed
   * per AZ and hour, which is more than one NAT gateway for this traffic.
   *
   * @default - true when natGateways is 0, false otherwise
   */
  readonly interfaceEndpoints?: boolean;
  /**
   * Availability zones to spread the subnets over. Aurora needs subnets in two.
   *
   * @default 2
   */
  readonly maxAzs?: number;
}

/**
 * The VPC the worker and the cluster share: public subnets for the NAT gateway, private subnets
 * for the worker's ENIs and the Aurora instances, an S3 gateway endpoint, and the worker's
 * security group (here rather than with the worker, so the database stack can admit it without a
 * reference cycle). Stateful: construct ids never change.
 */
export class LoadTestNetwork extends Construct {
  /** Subnet group name of the private subnets, where the worker and the cluster live. */
  static readonly PRIVATE_SUBNETS = 'Private';

  readonly vpc: ec2.Vpc;
  readonly privateSubnets: ec2.SubnetSelection;
  /** The worker's security group; the database admits PostgreSQL from it and from nothing else. */
  readonly workerSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: LoadTestNetworkProps = {}) {
    super(scope, id);
    const natGateways = props.natGateways ?? 1;
    const interfaceEndpoints = props.interfaceEndpoints ?? natGateways === 0;

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.42.0.0/16'),
      maxAzs: props.maxAzs ?? 2,
      natGateways,
      subnetConfiguration: [
        // Reserved (not created) without a NAT gateway, so that the private subnets keep their CIDRs
        // when NatGateways goes 0 <-> 1+: a shifted CIDR under the same logical id would replace
        // each subnet with one that overlaps it, and CloudFormation cannot create that.
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, reserved: natGateways === 0 },
        {
          name: LoadTestNetwork.PRIVATE_SUBNETS,
          subnetType: natGateways > 0 ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED,
          cidrMask: 22,
        },
      ],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });
    pin(this.vpc, 'Vpc');
    this.privateSubnets = { subnetGroupName: LoadTestNetwork.PRIVATE_SUBNETS };

    // Rejected flows only: that is what explains "the worker cannot reach the database", at a
    // fraction of the cost of logging every accepted packet of a load test.
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      retention: logs.RetentionDays.TWO_WEEKS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.vpc.addFlowLog('RejectedFlows', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });

    this.workerSecurityGroup = new ec2.SecurityGroup(this, 'WorkerSecurityGroup', {
      vpc: this.vpc,
      description: 'Aurora load test worker (Lambda): HTTPS to AWS APIs, PostgreSQL inside the VPC',
      allowAllOutbound: false,
    });
    this.workerSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs (Secrets Manager, SQS, CloudWatch) via NAT or endpoints');
    this.workerSecurityGroup.addEgressRule(ec2.Peer.ipv4(this.vpc.vpcCidrBlock), ec2.Port.tcp(5432), 'Aurora PostgreSQL');
    pin(this.workerSecurityGroup, 'WorkerSecurityGroup');

    if (interfaceEndpoints) {
      // One security group for the endpoints, admitting HTTPS from the worker only (the default
      // would admit the whole VPC CIDR).
      const endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc: this.vpc,
        description: 'Aurora load test interface endpoints: HTTPS from the worker',
        allowAllOutbound: false,
      });
      endpointSecurityGroup.addIngressRule(this.workerSecurityGroup, ec2.Port.tcp(443), 'HTTPS from the load test worker');
      const endpoints = {
        SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
        Sqs: ec2.InterfaceVpcEndpointAwsService.SQS,
        CloudWatchMetrics: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
      };
      for (const [endpointId, service] of Object.entries(endpoints)) {
        this.vpc.addInterfaceEndpoint(endpointId, {
          service, subnets: this.privateSubnets, privateDnsEnabled: true, open: false, securityGroups: [endpointSecurityGroup],
        });
      }
    }
  }
}
