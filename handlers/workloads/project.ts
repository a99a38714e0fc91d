/**
 * This checkout's workloads: the `workloads/` folder at the project root, read from disk once per
 * process. The trigger plans runs against it (names, targets, content hashes) and `--local` runs
 * it as it is on disk. The deployed worker never loads this module: it runs the scripts bundled
 * with it (deployed.ts).
 */
import * as path from 'node:path';
import { buildCatalog, type Catalog, type Target, type WorkloadName } from './catalog';
import { readWorkloadFiles } from './files';

/** `workloads/` at the project root. */
export const PROJECT_WORKLOADS_DIR = path.resolve(__dirname, '..', '..', 'workloads');

let cached: Catalog | undefined;

/** The project's catalog, read once. Problems are in `.problems`; nothing throws for a bad script. */
export function projectCatalog(): Catalog {
  cached ??= buildCatalog(readWorkloadFiles(PROJECT_WORKLOADS_DIR));
  return cached;
}

/** True for the name of a workload of this checkout that parses cleanly. */
export function isWorkloadName(name: unknown): name is WorkloadName {
  return projectCatalog().has(name);
}

/** The operations (scripts) of a workload of this checkout and their targets; empty when unknown. */
export function operationsOf(workload: WorkloadName): { op: string; target: Target }[] {
  return projectCatalog().operationsOf(workload);
}
