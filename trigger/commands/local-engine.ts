import type { InvocationMetrics } from '../../handlers/metrics/types';
import type { WorkloadName } from '../../handlers/workloads/catalog';
import { CliError, EXIT, oneLine, UsageError } from '../errors';
import { redactUrl } from '../options/host';
import type { LocalQueueLike } from '../send/local-transport';

/** What the trigger uses of the local engine (trigger/local/engine.ts). */
export interface EngineLike {
  readonly queue: LocalQueueLike;
  readonly dlq: LocalQueueLike;
  readonly sink: { readonly invocations: readonly InvocationMetrics[]; onPublish(cb: (m: InvocationMetrics) => void): void };
  readonly endpoints: { readonly writer: { readonly host: string; readonly port: number }; readonly reader: { readonly host: string; readonly port: number } };
  readonly poolMax: number;
  readonly maxConcurrency: number;
  /** Statements finished so far, live (metrics reach the sink only when an invocation ends). */
  readonly live: { readonly ok: number; readonly errors: number };
  /** The worker's JSON log. */
  readonly logFile: string;
  maxConnections(): Promise<number>;
  replicationLag(): Promise<{ bytes: number; ms: number | null } | null>;
  init(workload: WorkloadName, opts?: { scale?: number; reset?: boolean }): Promise<unknown>;
  idle(timeoutMs?: number): Promise<void>;
  /** Ctrl-C: running slices stop starting statements and publish what they measured. */
  interrupt(): void;
  /** Failover drill: promote the standby and move both endpoints to it (needs failoverEndpoints). */
  failover(): Promise<void>;
  readonly cluster?: { readonly promoted: boolean; readonly writer: { readonly port: number } } | undefined;
  stop(): Promise<void>;
}

export interface StartEngineOptions {
  readonly writerUrl?: string;
  readonly readerUrl?: string;
  readonly maxConcurrency?: number;
  readonly visibilityTimeoutMs?: number;
  /** Put forwarding endpoints in front of the servers, so a failover drill can move them. */
  readonly failoverEndpoints?: boolean;
  readonly log: (line: string) => void;
}

/**
 * Start the local engine; loaded on demand so that AWS runs never load PostgreSQL code. A mistake
 * in the servers given is a one-line usage error; a failure to start is one line too, pointing at
 * what to check.
 */
export async function startEngine(opts: StartEngineOptions): Promise<EngineLike> {
  const { LocalEngine, LocalEngineError } = require('../local/engine') as typeof import('../local/engine');
  try {
    const engine: EngineLike = await LocalEngine.start({
      ...(opts.writerUrl ? { writerUrl: opts.writerUrl } : {}),
      ...(opts.readerUrl ? { readerUrl: opts.readerUrl } : {}),
      ...(opts.maxConcurrency !== undefined ? { maxConcurrency: opts.maxConcurrency } : {}),
      ...(opts.visibilityTimeoutMs !== undefined ? { visibilityTimeoutMs: opts.visibilityTimeoutMs } : {}),
      ...(opts.failoverEndpoints ? { failoverEndpoints: true } : {}),
      log: opts.log,
    });
    return engine;
  } catch (e) {
    if (e instanceof LocalEngineError) throw new UsageError(e.message);
    const where = opts.writerUrl ? 'the servers given with --writer-url/--reader-url' : 'the embedded PostgreSQL';
    throw new CliError(`cannot start the local engine (${where}): ${oneLine(redactUrls(String((e as Error)?.message ?? e)))}`, EXIT.failed);
  }
}

/** Init a workload through the engine's worker; a failure is one line. */
export async function initWorkload(engine: EngineLike, workload: WorkloadName, opts: { scale?: number; reset?: boolean }): Promise<void> {
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
