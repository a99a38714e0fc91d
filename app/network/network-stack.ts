import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { LoadTestNetwork, type LoadTestNetworkProps } from './load-test-network';

export interface NetworkStackProps extends StackProps {
  /**
   * How the VPC is built.
   *
   * @default - one NAT gateway, two AZs, no interface endpoints
   */
  readonly network?: LoadTestNetworkProps;
}

/** Stateful: the VPC and the worker's security group. Created only when the stacks create the database. */
export class NetworkStack extends Stack {
  readonly network: LoadTestNetwork;

  constructor(scope: Construct, id: string, props: NetworkStackProps = {}) {
    super(scope, id, props);
    this.network = new LoadTestNetwork(this, 'Network', props.network);
  }
}
