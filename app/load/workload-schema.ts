import { type CfnElement, CustomResource, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { Catalog, WorkloadName } from '../../handlers/workloads/catalog';

/** The properties the worker receives in `ResourceProperties` of the CloudFormation event. */
export interface WorkloadSchemaProperties {
  readonly Workload: WorkloadName;
  /**
   * tpcb scale factor. CloudFormation hands every property value to the handler as a string, so
   * the worker reads "1" here, not 1.
   */
  readonly Scale: number;
  /** The content hash of the workload's init.sql, so a changed init.sql runs again on deploy. */
  readonly InitHash?: string;
}

export interface WorkloadSchemaProps {
  /** The worker function; it handles CloudFormation custom resource events by running init. */
  readonly worker: lambda.IFunction;
  /** The workloads bundled with the worker. */
  readonly catalog: Catalog;
  /**
   * Workloads whose schema is created.
   *
   * @default - every workload of the catalog that has an init.sql or a built-in loader
   */
  readonly workloads?: readonly WorkloadName[];
  /**
   * tpcb scale factor (100,000 accounts each). Changing it re-runs init on the next deploy.
   *
   * @default 1
   */
  readonly scale?: number;
}

/**
 * Creates the workloads' tables on deploy: one custom resource per workload, served by the worker
 * itself through the provider framework, so init runs inside the VPC with the worker's grants.
 * Create and Update run the workload's idempotent init; Delete leaves the tables alone.
 */
export class WorkloadSchema extends Construct {
  static readonly RESOURCE_TYPE = 'Custom::WorkloadSchema';

  readonly resources: Record<string, CustomResource> = {};

  constructor(scope: Construct, id: string, props: WorkloadSchemaProps) {
    super(scope, id);
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: props.worker,
      logGroup: new logs.LogGroup(this, 'ProviderLogs', {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    });
    const acknowledge = (id: string, reason: string) => Validations.of(provider).acknowledge({ id, reason });
    acknowledge(
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      "The provider framework's function logs through AWS's minimal logging policy, maintained by AWS.",
    );
    const workerLogicalId = logicalIdOf(props.worker.node.defaultChild as CfnElement);
    acknowledge(
      `AwsSolutions-IAM5[Resource::<${workerLogicalId}.Arn>:*]`,
      'The provider framework may invoke the worker and its versions/aliases (function ARN plus ":*"); nothing else.',
    );

    const withInit = props.catalog.names.filter((n) => props.catalog.get(n)!.builtinLoader || props.catalog.get(n)!.init);
    for (const workload of props.workloads ?? withInit) {
      const init = props.catalog.get(workload)?.init;
      const properties: WorkloadSchemaProperties = { Workload: workload, Scale: props.scale ?? 1, ...(init ? { InitHash: init.hash } : {}) };
      this.resources[workload] = new CustomResource(this, capitalize(workload), {
        serviceToken: provider.serviceToken,
        resourceType: WorkloadSchema.RESOURCE_TYPE,
        properties: { ...properties },
      });
    }
  }
}

function logicalIdOf(element: CfnElement): string {
  return Stack.of(element).resolve(element.logicalId) as string;
}

function capitalize(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
