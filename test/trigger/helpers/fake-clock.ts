import type { Clock } from '../../../trigger/clock';

/**
 * A clock that only moves when something sleeps on it: each `sleep` advances time by its duration
 * and resolves on the next microtask. Concurrent sleepers are not ordered against each other, which
 * is all a single pacing loop or one retry chain needs.
 */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(private t = 0) {}
  now(): number { return this.t; }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (signal?.aborted) return;
    this.t += Math.max(0, ms);
    await Promise.resolve();
  }
}
