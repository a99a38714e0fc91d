import { CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Fixes the logical id of a stateful resource (VPC, cluster, secret, security groups), so that no
 * refactoring of construct paths can ever make CloudFormation replace it. Tests assert these ids.
 */
export function pin(construct: IConstruct, logicalId: string): void {
  const resource = construct.node.defaultChild;
  if (!resource || !CfnResource.isCfnResource(resource)) {
    throw new Error(`${construct.node.path} has no CloudFormation resource to pin`);
  }
  resource.overrideLogicalId(logicalId);
}
