export interface BackoffPolicy {
  /** Delay before the first retry, ms (before jitter). */
  readonly baseMs: number;
  /** Largest delay, ms. */
  readonly capMs: number;
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 100, capMs: 5_000, maxAttempts: 8 };

/**
 * Exponential back-off with "equal jitter": half the exponential delay, plus a random share of the
 * other half. Senders that were throttled together spread out, and each retry still waits at least
 * half as long as the one before.
 */
export function backoffMs(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** attempt);
  return exp / 2 + (exp / 2) * random();
}
