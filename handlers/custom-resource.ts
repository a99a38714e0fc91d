import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { LIMITS } from './protocol/limits';
import type { Worker } from './worker';
import { NAME_PATTERN } from './workloads/catalog';

export interface CustomResourceResult {
  PhysicalResourceId: string;
  Data?: Record<string, string>;
}

/**
 * The stack's schema custom resource (properties `Workload`, `Scale`): Create and Update run the
 * workload's idempotent init through the worker, so an Update with another `Scale` reloads the
 * tpcb tables (init refuses, and the deploy fails in one line, if they are not this project's);
 * Delete leaves the data alone, since the cluster's own removal policy decides what happens to it.
 * The physical id never changes, so CloudFormation never sends a Delete for an Update.
 */
export async function handleCustomResource(worker: Pick<Worker, 'init'>, event: CloudFormationCustomResourceEvent): Promise<CustomResourceResult> {
  const props = event.ResourceProperties as { Workload?: unknown; Scale?: unknown };
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
  const workload = props.Workload;
  // The worker refuses a workload it does not carry.
  if (typeof workload !== 'string' || !NAME_PATTERN.test(workload)) throw new Error(`custom resource: Workload "${String(workload)}" is not a workload name`);
  const scale = props.Scale === undefined ? 1 : Number(props.Scale);
  if (!Number.isInteger(scale) || scale < 1 || scale > LIMITS.maxScale) {
    throw new Error(`custom resource: Scale must be an integer from 1 to ${LIMITS.maxScale}, got "${String(props.Scale)}"`);
  }
  const { summary } = await worker.init(workload, { scale });
  return { PhysicalResourceId: `workload-${workload}`, Data: { Summary: summary } };
}
