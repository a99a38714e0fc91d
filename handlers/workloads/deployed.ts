/**
 * The workload files this worker was built with. The bundler (app/load/worker-bundling.ts)
 * injects them as a module-level constant, so a deployed worker runs exactly the scripts of the
 * commit it was built from, and reads no file at run time.
 */
import type { WorkloadFiles } from './catalog';

/** The global the bundler defines; see app/load/worker-bundling.ts. */
export const WORKLOADS_GLOBAL = '__AURORA_LOAD_TEST_WORKLOADS__';

declare const __AURORA_LOAD_TEST_WORKLOADS__: WorkloadFiles | undefined;

export function deployedWorkloadFiles(): WorkloadFiles {
  if (typeof __AURORA_LOAD_TEST_WORKLOADS__ === 'undefined') {
    throw new Error('this worker bundle carries no workloads: build it with app/load/worker-bundling.ts (npm run build, or cdk synth)');
  }
  return __AURORA_LOAD_TEST_WORKLOADS__;
}
