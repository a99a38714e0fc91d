import { CATALOG, targetOf, type Target, type WorkloadName } from './catalog';

/**
 * A workload's operations and the target each runs on: the one way code outside the catalog
 * learns them (the report asks CloudWatch for exactly these).
 */
export function operationsOf(workload: WorkloadName): Array<{ readonly op: string; readonly target: Target }> {
  return Object.entries(CATALOG[workload].ops).map(([op, info]) => ({ op, target: targetOf(info.kind) }));
}
