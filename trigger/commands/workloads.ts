import * as path from 'node:path';
import type { Catalog, Workload } from '../../handlers/workloads/catalog';
import { PROJECT_WORKLOADS_DIR, projectCatalog } from '../../handlers/workloads/project';
import { BUILTIN_VARIABLES } from '../options/defines';
import { EXIT } from '../errors';
import type { CliIo } from './io';

/** One script as `node trigger workloads --json` lists it. */
export interface ScriptListing {
  readonly name: string;
  readonly file: string;
  readonly target: 'reader' | 'writer';
  /** Where the target comes from: the script's `-- target:` header, or its statements. */
  readonly targetFrom: 'header' | 'statements';
  readonly hash: string;
  /** Variables the script reads and does not set itself: built-ins and -D values. */
  readonly variables: string[];
}

export interface WorkloadListing {
  readonly name: string;
  readonly init: 'init.sql' | 'built-in loader' | 'none';
  readonly scripts: ScriptListing[];
}

export function listWorkloads(catalog: Catalog): { workloads: WorkloadListing[]; problems: string[] } {
  return {
    workloads: catalog.names.map((n) => listing(catalog.get(n)!)),
    problems: catalog.problems.map((p) => p.line),
  };
}

function listing(w: Workload): WorkloadListing {
  return {
    name: w.name,
    init: w.builtinLoader ? 'built-in loader' : w.init ? 'init.sql' : 'none',
    scripts: [...w.scripts.values()].map((s) => ({
      name: s.name,
      file: s.file,
      target: s.target,
      targetFrom: s.parsed.declared ? 'header' : 'statements',
      hash: s.hash,
      variables: [...s.parsed.reads].filter((v) => !s.parsed.sets.has(v)).sort(),
    })),
  };
}

/**
 * `node trigger workloads`: the workloads of this checkout as they are on disk (what `--local`
 * runs, and what the next deploy bundles), their scripts, targets and input variables, and every
 * problem, one `file:line` line each. Exits 2 when there is a problem.
 */
export function workloadsCommand(opts: { json?: boolean }, io: CliIo, catalog: Catalog = projectCatalog()): number {
  const { workloads, problems } = listWorkloads(catalog);
  if (opts.json) {
    io.out(JSON.stringify({ dir: PROJECT_WORKLOADS_DIR, workloads, problems }, null, 2));
  } else {
    io.out(`workloads in ${path.relative(io.cwd, PROJECT_WORKLOADS_DIR) || '.'}/ (as on disk; a deployed worker runs the scripts of the commit it was built from)`);
    for (const w of workloads) {
      io.out(`\n${w.name}  (schema: ${w.init === 'none' ? 'no init.sql' : w.init})`);
      const width = Math.max(...w.scripts.map((s) => s.name.length));
      for (const s of w.scripts) {
        const vars = s.variables.map((v) => `:${v}${(BUILTIN_VARIABLES as readonly string[]).includes(v) ? '' : ' (-D)'}`).join(' ');
        io.out(`  ${s.name.padEnd(width)}  ${s.target.padEnd(6)} (${s.targetFrom === 'header' ? '-- target: header' : 'inferred'})  hash ${s.hash}${vars ? `  reads ${vars}` : ''}`);
      }
    }
    if (problems.length) {
      io.out('\nproblems (these workloads cannot run or deploy until fixed):');
      for (const p of problems) io.out(`  ${p}`);
    }
  }
  return problems.length ? EXIT.usage : EXIT.ok;
}
