/**
 * Reading a `workloads/` folder from disk: every `<workload>/<file>.sql`. Used by the trigger
 * (`--local` reads the folder as it is, uncommitted scripts included), the CDK app (which bundles
 * it with the worker) and the tests; never by the deployed worker, which carries its files.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { WorkloadFiles } from './catalog';

export function readWorkloadFiles(dir: string): WorkloadFiles {
  const files: Record<string, string> = {};
  if (!existsSync(dir)) return files;
  for (const workload of readdirSync(dir).sort()) {
    const wdir = path.join(dir, workload);
    if (workload.startsWith('.') || !statSync(wdir).isDirectory()) continue;
    for (const name of readdirSync(wdir).sort()) {
      if (!name.endsWith('.sql')) continue;
      const file = path.join(wdir, name);
      if (statSync(file).isFile()) files[`${workload}/${name}`] = readFileSync(file, 'utf8');
    }
  }
  return files;
}
