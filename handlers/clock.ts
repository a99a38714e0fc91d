/**
 * Time, behind one interface, for the worker and the trigger alike, so that pacing, schedules and
 * retry back-off can be tested over a simulated minute in a few milliseconds.
 */
export interface Clock {
  /** Epoch milliseconds, with sub-millisecond resolution where the platform has it. */
  now(): number;
  /** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock: the high-resolution timer on the epoch's axis, and timers. */
export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
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
};
