/**
 * The open-loop schedule of a slice: statement i is due at startAt + i / rate, whatever happened to
 * the statements before it, so a slow database shows up as latency and lag, never as a lower rate
 * (no coordinated omission). Operations are interleaved so that every prefix of the schedule
 * follows the mix's weights as closely as whole statements allow.
 */
import { systemClock, type Clock } from './clock';
import type { MixEntry } from './protocol/message';

/** Number of statements a slice schedules. */
export function plannedCount(rate: number, durationMs: number): number {
  return Math.floor((rate * durationMs) / 1000 + 1e-9);
}

/** Due time (epoch ms) of statement i. */
export function dueAt(startAt: number, rate: number, i: number): number {
  return startAt + (i * 1000) / rate;
}

/**
 * Picks the operation of each statement in turn: the one furthest behind its share
 * ("smooth weighted round robin"), deterministic and exact over any window.
 */
export class MixPicker {
  private readonly weights: number[];
  private readonly total: number;
  private readonly credit: number[];

  constructor(private readonly mix: readonly MixEntry[]) {
    this.weights = mix.map((m) => m.weight);
    this.total = this.weights.reduce((a, b) => a + b, 0);
    this.credit = mix.map(() => 0);
  }

  next(): string {
    let best = 0;
    for (let j = 0; j < this.weights.length; j++) {
      this.credit[j]! += this.weights[j]!;
      if (this.credit[j]! > this.credit[best]!) best = j;
    }
    this.credit[best]! -= this.total;
    return this.mix[best]!.op;
  }
}

export interface SliceRun {
  readonly startAt: number;
  readonly rate: number;
  readonly durationMs: number;
  readonly mix: readonly MixEntry[];
  /** Skip a statement that cannot start within this many ms of its due time. */
  readonly lateLimitMs: number;
  /** Epoch ms after which nothing more is started (the invocation's deadline). */
  readonly deadline: number;
}

export interface SliceCallbacks {
  /** Start statement `op` due at `dueAt`; must not throw (record failures itself). */
  start(op: string, dueAt: number): Promise<void>;
  /** A statement that was not started: too late, or past the deadline. */
  skip(op: string): void;
  /** True once the run should end early (interrupted): nothing more starts, nothing is counted as skipped. */
  stopped?(): boolean;
}

/** Longest single sleep, so an interruption is noticed within this many ms. */
const MAX_SLEEP_MS = 100;

/**
 * Runs the schedule: sleeps until each statement is due, starts it without waiting for the ones
 * before it, and waits for all of them at the end. Returns how many were started and skipped.
 */
export async function runSchedule(run: SliceRun, cb: SliceCallbacks, clock: Clock = systemClock): Promise<{ started: number; skipped: number }> {
  const n = plannedCount(run.rate, run.durationMs);
  const picker = new MixPicker(run.mix);
  const inFlight = new Set<Promise<void>>();
  let started = 0;
  let skipped = 0;
  for (let i = 0; i < n; i++) {
    const due = dueAt(run.startAt, run.rate, i);
    const op = picker.next();
    if (cb.stopped?.()) break;
    let now = clock.now();
    if (due > now) {
      if (due > run.deadline) {
        skipped += 1;
        cb.skip(op);
        continue;
      }
      while (due > now && !cb.stopped?.()) {
        await clock.sleep(Math.min(due - now, MAX_SLEEP_MS));
        now = clock.now();
      }
      if (cb.stopped?.()) break;
    }
    if (now > run.deadline || now - due > run.lateLimitMs) {
      skipped += 1;
      cb.skip(op);
      continue;
    }
    started += 1;
    const p = cb.start(op, due).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  return { started, skipped };
}
