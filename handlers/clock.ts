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
}

const now = (): number => performance.timeOrigin + performance.now();

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
};
