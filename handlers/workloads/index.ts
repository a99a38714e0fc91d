import type { WorkloadName } from './catalog';
import { seed } from './seed';
import { tpcb } from './tpcb';
import type { WorkloadImpl } from './types';

/** The SQL side of each workload in the catalog. Adding a workload: catalog.ts, then here. */
export const WORKLOADS: Readonly<Record<WorkloadName, WorkloadImpl>> = { seed, tpcb };
