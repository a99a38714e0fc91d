import type { PlannedProbe } from './probe-plan';

/**
 * What the sender needs to know about a run, whatever its mode: how many messages, when each is
 * due, and how to write each one. Built by the statements and slice planners, consumed by the
 * sender and the progress line.
 */
export interface SendPlan {
  readonly mode: 'statements' | 'slice';
  /** Messages in the whole run. */
  readonly total: number;
  /** Messages due at or before `elapsedMs` after the send start. */
  dueBy(elapsedMs: number): number;
  /** Elapsed ms at which message `i` is due. */
  dueAt(i: number): number;
  /**
   * The body of message `i`, stamped with the epoch ms it is sent at; `t0` is the epoch ms of the
   * send start, from which slice start times are set.
   */
  body(i: number, sentAt: number, t0: number): string;
  /**
   * The start lead: how long after sending begins the load on the database starts, ms (slice
   * mode: each slice is sent this long before it starts; statements mode: 0).
   */
  readonly startLeadMs: number;
  /** How long the load lasts, ms. */
  readonly loadDurationMs: number;
  /** Statements the plan puts on the database in total. */
  readonly statements: number;
  /** Statements planned to start in the first `loadElapsedMs` of the load (fractional). */
  plannedBy(loadElapsedMs: number): number;
  /** Statements per second at full rate (what the user asked for). */
  readonly peakRate: number;
  /** Average planned statements per second over the load (below `peakRate` with a ramp). */
  readonly averageRate: number;
  /** One line describing the plan, for the start of the run. */
  readonly description: string;
  /**
   * The staleness probe's messages, when the run carries the probe (probe-plan.ts): each holds an
   * invocation from its receipt to its end, besides the load's.
   */
  readonly probe?: readonly PlannedProbe[];
}

/** A statements-mode plan (see statements-plan.ts). */
export interface StatementsPlan extends SendPlan {
  readonly mode: 'statements';
  /** Statements per message. */
  readonly count: number;
}
