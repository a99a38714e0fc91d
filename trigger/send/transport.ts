/**
 * Where the trigger sends its messages: SQS, or the local engine's in-process queue. The run code
 * drives either through this interface and cannot tell them apart.
 */
export interface Transport {
  readonly kind: 'sqs' | 'local';
  /**
   * Hand message bodies to the queue. Resolves once each one is accepted or given up on (counted
   * in `stats.lost`); per-message failures and throttling are retried and counted, never thrown.
   * Rejects with a {@link CliError} only when sending cannot work at all (no such queue, access
   * denied, no credentials): the run stops then.
   */
  send(bodies: readonly string[]): Promise<void>;
  readonly stats: SendStats;
  /** Messages waiting and in flight, when the queue can tell (SQS: approximate). */
  depth(): Promise<QueueDepth | undefined>;
  /** Delete every message in the queue (`stop`). */
  purge(): Promise<void>;
}

export interface SendStats {
  /** Messages the queue accepted. */
  accepted: number;
  /** Send calls made (SendMessageBatch, or local sendBatch). */
  calls: number;
  /** Calls repeated after throttling, a transient error or failed entries. */
  retries: number;
  /** Calls refused for throttling. */
  throttled: number;
  /** Entries that failed inside an accepted batch and were sent again. */
  failedEntries: number;
  /** Messages given up on: retries exhausted, refused as our fault, or the run was interrupted. */
  lost: number;
  /**
   * Messages sent again after a call whose outcome could not be known (a timeout, a connection
   * reset, a server error): the queue may have accepted the first copy as well.
   */
  possibleDuplicates: number;
}

export interface QueueDepth {
  readonly visible: number;
  readonly inFlight: number;
}

export function emptyStats(): SendStats {
  return { accepted: 0, calls: 0, retries: 0, throttled: 0, failedEntries: 0, lost: 0, possibleDuplicates: 0 };
}
