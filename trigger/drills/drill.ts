/**
 * A drill: a fault caused while load runs, plugged into the run pipeline (trigger/run/pipeline.ts).
 * The pipeline plans and sends the load as for any run, calls {@link Drill.cause} `atMs` into the
 * load, and once the workers' metrics are in, summarises what the fault cost (outage.ts) and asks
 * the drill for its own findings (the fault drills' reconciliation).
 *
 * A new drill is an object of this shape: the pipeline needs nothing else.
 */
import type { Clock } from '../../handlers/clock';
import { CliError, EXIT } from '../errors';
import type { Measured } from '../report/summary';
import type { Reconciliation } from './reconcile';

const DRILL_KINDS = ['failover', 'reader-down', 'writer-down', 'both-down', 'redelivery-storm', 'writer-silent'] as const;
export type DrillKind = (typeof DRILL_KINDS)[number];

/** When a fault began and when the system was whole again. Epoch ms. */
export interface DrillEvent {
  readonly startedAt: number;
  readonly completedAt: number;
  /** The writer before and after a failover (AWS: DB instance identifiers; local: ports). */
  readonly from?: string;
  readonly to?: string;
  /** When the clients counted their first failed statement after the fault began (how long a silent server took to find). */
  readonly firstErrorAt?: number;
}

export interface Drill {
  readonly kind: DrillKind;
  /**
   * When to cause the fault, ms after the load starts. Absent for a drill whose fault is in how
   * the run is set up (a redelivery storm: slices longer than the visibility timeout).
   */
  readonly atMs?: number;
  /** Before anything is sent: what the drill measures against (rows, queue counters). */
  prepare?(): Promise<void>;
  /** Cause the fault; resolves once it is over (the new writer accepts writes, the server is back). */
  cause?(signal: AbortSignal): Promise<DrillEvent>;
  /** After the workers have drained: the drill's own findings from what was measured. */
  finish?(measured: Measured): Promise<Reconciliation>;
}

/** A drill that cannot run as asked (wrong engine, nothing to fail over to). One line, exit 2. */
export class DrillError extends CliError {
  override readonly name = 'DrillError';
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/**
 * Run `action` at epoch ms `at` (at once if that has passed). Resolves to its result, or to
 * undefined when `signal` aborts first. A failing action rejects the returned promise.
 */
export async function runAt<T>(action: () => Promise<T>, at: number, clock: Clock, signal: AbortSignal): Promise<T | undefined> {
  for (let wait = at - clock.now(); wait > 0 && !signal.aborted; wait = at - clock.now()) {
    await clock.sleep(Math.min(wait, 1_000), signal);
  }
  if (signal.aborted) return undefined;
  return action();
}
