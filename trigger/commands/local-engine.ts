import type { WorkloadName } from '../../handlers/workloads/catalog';
import { CliError, EXIT, oneLine, UsageError } from '../errors';
import { redactUrl } from '../options/host';
import type { LocalEngine, LocalEngineOptions } from '../local/engine';

/**
 * Start the local engine; loaded on demand so that AWS runs never load PostgreSQL code. A mistake
 * in the servers given is a one-line usage error; a failure to start is one line too, pointing at
 * what to check.
 */
export async function startEngine(opts: LocalEngineOptions): Promise<LocalEngine> {
  const { LocalEngine, LocalEngineError } = require('../local/engine') as typeof import('../local/engine');
  try {
    return await LocalEngine.start(opts);
  } catch (e) {
    if (e instanceof LocalEngineError) throw new UsageError(e.message);
    const where = opts.servers ? 'the servers given with --writer-url/--reader-url' : 'the embedded PostgreSQL';
    throw new CliError(`cannot start the local engine (${where}): ${oneLine(redactUrls(String((e as Error)?.message ?? e)))}`, EXIT.failed);
  }
}

/** Init a workload through the engine's worker; a failure is one line. */
export async function initWorkload(engine: Pick<LocalEngine, 'init'>, workload: WorkloadName, opts: { scale?: number; reset?: boolean }): Promise<void> {
  try {
    await engine.init(workload, opts);
  } catch (e) {
    throw new CliError(`init of ${workload} failed: ${oneLine(redactUrls(String((e as Error)?.message ?? e)))}`, EXIT.failed);
  }
}

/** Mask the password of any URL inside a free-text message. */
function redactUrls(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s'"]+/gi, (u) => redactUrl(u));
}
