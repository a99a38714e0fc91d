/**
 * The messages one execution environment has run, by (runId, seq). SQS standard queues deliver at
 * least once ("more than one copy of a message might be delivered": Amazon SQS Developer Guide,
 * "Amazon SQS standard queues", https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/standard-queues.html),
 * and a slice delivered twice would double one worker's rate for its whole length. The worker
 * keeps this at module scope, so a copy that reaches an environment that already ran the message
 * is counted and not run again. A copy that reaches another environment cannot be told from the
 * original there: the report counts those from the message outcomes.
 */

/** Entries kept: enough for every message a long statements-mode run sends to one environment. */
export const SEEN_MESSAGES_LIMIT = 100_000;

export class SeenMessages {
  readonly #keys = new Set<string>();

  constructor(private readonly limit = SEEN_MESSAGES_LIMIT) {
    if (!(Number.isInteger(limit) && limit >= 1)) throw new RangeError(`limit must be a whole number of at least 1, got ${limit}`);
  }

  /** True when message `seq` of `runId` was claimed here and not released. */
  has(runId: string, seq: number): boolean {
    return this.#keys.has(keyOf(runId, seq));
  }

  /** Remember the message; the oldest one is forgotten beyond the limit. */
  claim(runId: string, seq: number): void {
    this.#keys.add(keyOf(runId, seq));
    if (this.#keys.size > this.limit) this.#keys.delete(this.#keys.values().next().value!);
  }

  /** Forget the message (it failed, and its retry must run). */
  release(runId: string, seq: number): void {
    this.#keys.delete(keyOf(runId, seq));
  }
}

function keyOf(runId: string, seq: number): string {
  return `${runId}\u0000${seq}`;
}
