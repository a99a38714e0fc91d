/**
 * Open-loop pacing: when each unit of work (a message) is due, as a pure function of time. Units
 * leave on this schedule whatever happened to the ones before them, so a slow send makes the
 * sender late (and that is measured), never the load lighter.
 *
 * The rate climbs linearly from 0 to `rate` over `rampMs`, then holds until `durationMs`.
 * Unit k (0-based) is due when the area under the rate curve reaches k: the first at 0.
 */
export interface RateProfile {
  /** Units per second at full rate. */
  readonly rate: number;
  readonly durationMs: number;
  /** Time to reach `rate` from 0, linearly. 0: full rate from the start. */
  readonly rampMs: number;
}

const EPS = 1e-9;

/** Units scheduled in [0, tMs): the area under the rate curve. */
export function scheduledBy(p: RateProfile, tMs: number): number {
  const t = Math.min(Math.max(0, tMs), p.durationMs);
  const perMs = p.rate / 1000;
  if (p.rampMs <= 0) return perMs * t;
  if (t <= p.rampMs) return (perMs * t * t) / (2 * p.rampMs);
  return (perMs * p.rampMs) / 2 + perMs * (t - p.rampMs);
}

/** How many units the whole run has: those due before `durationMs`. */
export function totalUnits(p: RateProfile): number {
  return Math.ceil(scheduledBy(p, p.durationMs) - EPS);
}

/** Elapsed ms at which unit `k` is due (inverse of {@link scheduledBy}). */
export function dueAt(p: RateProfile, k: number): number {
  const perMs = p.rate / 1000;
  if (p.rampMs <= 0) return k / perMs;
  const rampUnits = (perMs * p.rampMs) / 2;
  if (k <= rampUnits) return Math.sqrt((2 * k * p.rampMs) / perMs);
  return p.rampMs + (k - rampUnits) / perMs;
}

/** How many units are due at or before `elapsedMs` (never more than the run has). */
export function dueBy(p: RateProfile, elapsedMs: number): number {
  if (elapsedMs < 0) return 0;
  return Math.min(totalUnits(p), Math.floor(scheduledBy(p, elapsedMs) + EPS) + 1);
}

/** The average rate over the run, in units per second (less than `rate` when there is a ramp). */
export function averageRate(p: RateProfile): number {
  return p.durationMs > 0 ? (scheduledBy(p, p.durationMs) * 1000) / p.durationMs : 0;
}
