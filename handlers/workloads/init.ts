/**
 * Creating a workload's schema on the writer: the built-in loader for tpcb (as `pgbench -i`), or
 * the workload's init.sql, run as one multi-statement query in one transaction, under the same
 * advisory lock, so two inits of a workload never interleave. init.sql must be safe to run again.
 */
import type pg from 'pg';
import type { Workload } from './catalog';
import { tpcb } from './tpcb';
import { withInitLock, type InitOptions, type WorkloadImpl } from './types';

/** Workloads whose schema code creates, by name (see BUILTIN_LOADERS in catalog.ts). */
const LOADERS: Readonly<Record<string, WorkloadImpl>> = { tpcb };

/**
 * Run a workload's init; returns one line for the log and the CLI. `reset` only reloads a
 * built-in loader's tables; the caller refuses it for a script workload (resolve.ts, checkInit).
 */
export async function initWorkload(client: pg.ClientBase, workload: Workload, opts: InitOptions): Promise<string> {
  const loader = LOADERS[workload.name];
  if (workload.builtinLoader && loader) return loader.init(client, opts);
  const init = workload.init;
  if (!init) return `${workload.name} ready: it has no init.sql`;
  return withInitLock(client, workload.name, async () => {
    try {
      // No parameters: the simple query protocol runs every statement, in one implicit transaction.
      await client.query(init.sql);
    } catch (err) {
      throw new Error(`${init.file}:${lineAt(init.sql, (err as { position?: string }).position)}: ${(err as Error).message}`);
    }
    return `${workload.name} ready: init.sql ran`;
  });
}

/** The line of a 1-based character position PostgreSQL reports in an error (1 when unknown). */
function lineAt(text: string, position: string | undefined): number {
  const at = Number(position);
  if (!Number.isInteger(at) || at < 1) return 1;
  return text.slice(0, at - 1).split('\n').length;
}
