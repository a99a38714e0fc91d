/**
 * Time, behind one interface, for the worker and the trigger alike, so that pacing, schedules and
 * retry back-off can be tested over a simulated minute in a few milliseconds.
 */
import { PreciseWait } from './precise-wait';

export interface Clock {
  /** Epoch milliseconds, with sub-millisecond resolution where the platform has it. */
  now(): number;
  /** Resolves after `ms`, or early (without throwing) when `signal` aborts. Timer granularity: about a millisecond either way. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Resolves at `t` (epoch ms), never before it, and as soon after it as the platform allows: the
   * slice schedule starts each statement with it. Keep `t` near (the schedule waits at most
   * 100 ms at a time), since it cannot be interrupted.
   */
  sleepUntil(t: number): Promise<void>;
  /**
   * An I/O event was handled (a database response): a sleepUntil whose moment has come may end now
   * rather than on its timer or by turning the loop (handlers/precise-wait.ts). @default no-op
   */
  nudge?(): void;
  /**
   * A transaction starts whose answers must be handled as they arrive: until the returned function
   * is called, sleepUntil does not block the thread (handlers/precise-wait.ts). @default no-op
   */
  hold?(): () => void;
  /**
   * Set the clock to the wall clock again if it is more than `CLOCK_STEP_MS` off the middle of
   * `Date.now()`'s millisecond; returns the step taken, ms (0: none). Call it only where nothing is
   * being timed: the Lambda worker calls it as an invocation starts with no other running.
   * @default absent (never resynced)
   */
  resync?(): number;
}

/**
 * How far the clock may be from the middle of the wall clock's millisecond before `resync` sets it
 * again, ms: a clock up to 1.5 ms off is left, one more than 2.5 ms off is set (Date.now() counts whole ms).
 */
export const CLOCK_STEP_MS = 2;
/** Clock reads this close together (ms) were not split by a pause. */
const ADJACENT_READS_MS = 0.02;
/** How long `resync` looks for the wall clock's next tick to anchor on, ms of monotonic time. */
const TICK_SEARCH_MS = 3;

/**
 * Epoch milliseconds read as the wall clock at an anchor plus the monotonic high-resolution
 * clock since (sub-millisecond, and never stepped: NTP only slews its rate, so a duration between
 * two reads does not carry a step of the wall clock), with `resync` to set the anchor again where
 * nothing is being timed.
 *
 * Why resync: the anchor is the wall clock at process start (`performance.timeOrigin`), and
 * Linux's monotonic clock does not count time the machine was suspended, nor follow a step of
 * the wall clock, while the schedule's moments are the trigger's wall clock. A Lambda execution
 * environment lives for many invocations, frozen in between
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html), and its system
 * clock is synchronised by NTP (the `TZ` entry of
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html). Whether a frozen
 * environment's monotonic clock stops, AWS does not say; on a VM it can fall behind: a process on
 * this project's CI VM read `Date.now()` 14 s ahead of `timeOrigin + performance.now()`. A worker
 * reading that would start every statement 14 s late, report no lag, and blame the sender's clock.
 * Browser telemetry re-anchors similarly after a suspend (bugsnag-js-performance#175).
 *
 * Only at a resync, never in between: a step in the middle of a wait or a statement would make
 * a wait end early or spin for the step's length, and a latency wrong by the step.
 */
export function anchoredClock(
  wall: () => number = Date.now,
  mono: () => number = () => performance.now(),
  origin: number = performance.timeOrigin,
): { now: () => number; resync: () => number } {
  let offset = origin;
  /** One read of both clocks, or undefined when something came between (a GC pause, the thread descheduled). */
  const read = (): { m: number; w: number } | undefined => {
    const a = mono();
    const w = wall();
    const b = mono();
    return b - a < ADJACENT_READS_MS ? { m: (a + b) / 2, w } : undefined;
  };
  return {
    now: () => offset + mono(),
    /**
     * Returns the step taken, ms; 0 when the clock is within CLOCK_STEP_MS of the middle of the
     * wall clock's millisecond, or when three attempts to read the two together were interrupted
     * (the next resync tries again).
     */
    resync: () => {
      let first: { m: number; w: number } | undefined;
      for (let attempt = 0; attempt < 3 && first === undefined; attempt++) first = read();
      if (first === undefined) return 0;
      // Date.now() is the wall clock floored to the whole ms: compared with the middle of its
      // millisecond, a clock in step is within 0.5 ms (give or take the 0.01 ms between the wall
      // clock's read and the reads' midpoint).
      if (Math.abs(first.w + 0.5 - (offset + first.m)) <= CLOCK_STEP_MS) return 0;
      // Anchor on a tick of the wall clock, where it reads exactly its new value: the first read
      // that sees a new value, when the read before it was moments earlier (no pause between).
      let next = first.w + 0.5 - first.m; // no clean tick seen: the middle of its millisecond
      let prev = first;
      const until = first.m + TICK_SEARCH_MS;
      for (let i = 0; i < 100_000; i++) {
        const r = read();
        if (r === undefined) {
          const m = mono();
          if (m >= until) break;
          prev = { m, w: Number.NaN };
          continue;
        }
        // The tick came between the two reads' wall clock reads: within about 0.03 ms of their midpoint.
        if (r.w !== prev.w && !Number.isNaN(prev.w) && r.m - prev.m < 2 * ADJACENT_READS_MS) { next = r.w - (prev.m + r.m) / 2; break; }
        if (r.m >= until) break;
        prev = r;
      }
      const step = next - offset;
      offset = next;
      return step;
    },
  };
}

/** `resync`, moving the times a precise wait keeps (its last nudge, its budget's refill) with the step. */
export function resyncWith(resync: () => number, wait: Pick<PreciseWait, 'clockStepped'>): () => number {
  return () => {
    const step = resync();
    if (step !== 0) wait.clockStepped(step);
    return step;
  };
}

const anchored = anchoredClock();
const now = anchored.now;

/** What a blocking wait sleeps on: nobody ever notifies it, so Atomics.wait sleeps its whole timeout. */
const blockCell = new Int32Array(new SharedArrayBuffer(4));

/** The real clock's precise waits (handlers/precise-wait.ts); its stats say what they cost. */
export const systemWait = new PreciseWait({
  now,
  timer: (ms, cancel) => new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, ms));
    cancel?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  }),
  turn: () => new Promise<void>((resolve) => setImmediate(resolve)),
  block: (ms) => { Atomics.wait(blockCell, 0, 0, ms); },
});

/** The real clock: the high-resolution timer on the epoch's axis, and timers. */
export const systemClock: Clock = {
  now,
  sleep: (ms, signal) => new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  }),
  sleepUntil: (t) => systemWait.until(t),
  nudge: () => systemWait.nudge(),
  hold: () => systemWait.hold(),
  resync: resyncWith(anchored.resync, systemWait),
};
