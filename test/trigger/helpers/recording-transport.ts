import type { Clock } from '../../../handlers/clock';
import { emptyStats, type QueueDepth, type SendStats, type Transport } from '../../../trigger/send/transport';

/** A transport that accepts everything and records, per message, the (fake) time it left. */
export class RecordingTransport implements Transport {
  readonly kind = 'local';
  readonly stats: SendStats = emptyStats();
  readonly sentAt: number[] = [];
  readonly bodies: string[] = [];

  constructor(private readonly clock: Clock, private readonly t0 = clock.now()) {}

  async send(bodies: readonly string[]): Promise<void> {
    this.stats.calls++;
    this.stats.accepted += bodies.length;
    for (const b of bodies) {
      this.sentAt.push(this.clock.now() - this.t0);
      this.bodies.push(b);
    }
  }

  async depth(): Promise<QueueDepth> { return { visible: 0, inFlight: 0 }; }
  async purge(): Promise<void> {}
}
