import { splitIntoBatches } from './batches';
import { emptyStats, type QueueDepth, type SendStats, type Transport } from './transport';

/**
 * What the trigger uses of the local engine's in-process queue (trigger/local/queue.ts), so this
 * module depends on the contract, not on the engine.
 */
export interface LocalQueueLike {
  sendBatch(bodies: string[]): string[];
  readonly depth: { readonly visible: number; readonly inFlight: number };
  /** Returns what it purged (ignored here). */
  purge(): unknown;
}

/** Sends to the local engine's queue, in the same batches SQS would get, so runs compare. */
export class LocalTransport implements Transport {
  readonly kind = 'local';
  readonly stats: SendStats = emptyStats();

  constructor(private readonly queue: LocalQueueLike) {}

  async send(bodies: readonly string[]): Promise<void> {
    for (const batch of splitIntoBatches(bodies)) {
      this.stats.calls++;
      this.stats.accepted += this.queue.sendBatch(batch).length;
    }
  }

  async depth(): Promise<QueueDepth> {
    const d = this.queue.depth;
    return { visible: d.visible, inFlight: d.inFlight };
  }

  async purge(): Promise<void> {
    await this.queue.purge();
  }
}
