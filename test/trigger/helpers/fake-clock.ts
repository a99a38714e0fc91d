import type { Clock } from '../../../handlers/clock';

/**
 * Virtual time: `now()` moves only when every sleeper is waiting. A sleep registers its wake-up
 * time; once the event loop has nothing else to do this turn (setImmediate), time jumps to the
 * earliest wake-up and those sleepers resume, in wake-up order. So concurrent loops (a sender, a
 * drill waiting for its moment, a poll) interleave as they would in real time, a simulated
 * minute costs milliseconds, and no test waits on the wall clock.
 */
export class FakeClock implements Clock {
  /** Every sleep asked for, ms, in order. */
  readonly sleeps: number[] = [];
  private readonly sleepers: Array<{ at: number; wake: () => void }> = [];
  private scheduled = false;

  constructor(private t = 0) {}

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const onAbort = (): void => {
        const i = this.sleepers.indexOf(sleeper);
        if (i >= 0) this.sleepers.splice(i, 1);
        resolve();
      };
      const sleeper = {
        at: this.t + Math.max(0, ms),
        wake: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.sleepers.push(sleeper);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.advanceSoon();
    });
  }

  sleepUntil(t: number): Promise<void> {
    return this.sleep(Math.max(0, t - this.t));
  }

  private advanceSoon(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.sleepers.length === 0) return;
      this.sleepers.sort((a, b) => a.at - b.at);
      const next = this.sleepers.shift()!;
      this.t = Math.max(this.t, next.at);
      next.wake();
      if (this.sleepers.length) this.advanceSoon();
    });
  }
}
