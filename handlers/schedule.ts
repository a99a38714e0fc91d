/**
 * The open-loop schedule of a slice: statement i is due when the area under the slice's rate curve
 * reaches i, whatever happened to the statements before it, so a slow database shows up as
 * latency and lag, never as a lower rate (no coordinated omission). The rate is constant, or climbs
 * linearly from `startRate` to `rate` over the slice's first `rampMs` (a ramp) and then holds.
 * Operations are interleaved so that every prefix of the schedule follows the mix's weights as
 * closely as whole statements allow.
 */
import { systemClock, type Clock } from './clock';
import type { MixEntry } from './protocol/message';

/** A slice's rate over time. */
export interface SliceRate {
  /** Statements per second (at the end of the ramp, if there is one). */
  readonly rate: number;
  readonly durationMs: number;
  /** Statements per second at the slice's start, climbing linearly to `rate` over `rampMs`. @default rate */
  readonly startRate?: number;
  /** How long the climb from `startRate` to `rate` takes, from the slice's start. @default 0 */
  readonly rampMs?: number;
}

const EPS = 1e-9;

/** Statements due in the first `tMs` of a slice (fractional): the area under its rate curve. */
export function dueWithin(p: SliceRate, tMs: number): number {
  const t = Math.min(Math.max(0, tMs), p.durationMs);
  const ramp = Math.min(p.rampMs ?? 0, p.durationMs);
  const from = p.startRate ?? p.rate;
  if (ramp <= 0 || from === p.rate) return (p.rate * t) / 1000;
  if (t <= ramp) return (from * t + ((p.rate - from) * t * t) / (2 * ramp)) / 1000;
  return ((from + p.rate) * ramp) / 2000 + (p.rate * (t - ramp)) / 1000;
}

/** Number of statements a slice schedules. */
export function plannedCount(p: SliceRate): number {
  return Math.floor(dueWithin(p, p.durationMs) + EPS);
}

/** Due time (epoch ms) of statement i of a slice starting at `startAt`: where {@link dueWithin} reaches i. */
export function dueAt(startAt: number, p: SliceRate, i: number): number {
  const ramp = Math.min(p.rampMs ?? 0, p.durationMs);
  const from = p.startRate ?? p.rate;
  if (ramp <= 0 || from === p.rate) return startAt + (i * 1000) / p.rate;
  const inRamp = ((from + p.rate) * ramp) / 2000;
  if (i > inRamp) return startAt + ramp + ((i - inRamp) * 1000) / p.rate;
  // Solve from*t + (rate - from)*t^2/(2*ramp) = 1000*i for t.
  const a = (p.rate - from) / (2 * ramp);
  return startAt + (-from + Math.sqrt(from * from + 4 * a * 1000 * i)) / (2 * a);
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

export interface SliceRun extends SliceRate {
  readonly startAt: number;
  readonly mix: readonly MixEntry[];
  /** Skip a statement that cannot start within this many ms of its due time. */
  readonly lateLimitMs: number;
  /** Epoch ms after which nothing more is started (the invocation's deadline). */
  readonly deadline: number;
  /**
   * Epoch ms after which statements still running are no longer waited for (the invocation must
   * publish); they are left running and counted as `abandoned`. @default never
   */
  readonly giveUpAt?: number;
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
 * before it, and waits for all of them at the end, until `giveUpAt`. Returns how many were
 * started and skipped, and how many were still running when it gave up (`abandoned`).
 */
export async function runSchedule(run: SliceRun, cb: SliceCallbacks, clock: Clock = systemClock): Promise<{ started: number; skipped: number; abandoned: number }> {
  const n = plannedCount(run);
  const picker = new MixPicker(run.mix);
  const inFlight = new Set<Promise<void>>();
  let started = 0;
  let skipped = 0;
  for (let i = 0; i < n; i++) {
    const due = dueAt(run.startAt, run, i);
    const op = picker.next();
    if (cb.stopped?.()) break;
    let now = clock.now();
    if (due > now) {
      if (due > run.deadline) {
        skipped += 1;
        cb.skip(op);
        continue;
      }
      // Precisely at its due time (Clock.sleepUntil), not a timer's millisecond late: lag the
      // database did not cause would be added to every statement's latency.
      while (due > now && !cb.stopped?.()) {
        await clock.sleepUntil(Math.min(due, now + MAX_SLEEP_MS));
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
    // Until it ends, the statement's connection and answers need the event loop: the next wait
    // must not block the thread (Clock.hold, handlers/precise-wait.ts). Taken before the start
    // runs, so no await can let the next wait come first.
    const release = clock.hold?.();
    const p = cb.start(op, due).finally(() => {
      release?.();
      inFlight.delete(p);
    });
    inFlight.add(p);
  }
  const abandoned = await settle(inFlight, run.giveUpAt, clock);
  return { started, skipped, abandoned };
}

/** Wait for the statements in flight, but not past `giveUpAt`; returns how many were left running. */
async function settle(inFlight: Set<Promise<void>>, giveUpAt: number | undefined, clock: Clock): Promise<number> {
  if (giveUpAt === undefined) {
    await Promise.all(inFlight);
    return 0;
  }
  const all = Promise.all(inFlight).then(() => true);
  while (inFlight.size > 0) {
    const left = giveUpAt - clock.now();
    if (left <= 0) return inFlight.size;
    const done = new AbortController();
    const finished = await Promise.race([all, clock.sleep(Math.min(left, MAX_SLEEP_MS), done.signal).then(() => false)]);
    done.abort();
    if (finished) return 0;
  }
  return 0;
}
