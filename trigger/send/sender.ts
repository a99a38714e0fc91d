import { parseMessage } from '../../handlers/protocol/message';
import type { Clock } from '../../handlers/clock';
import type { SendPlan } from '../plan/send-plan';
import type { Transport } from './transport';

export interface SenderOptions {
  readonly clock: Clock;
  /** Aborting (Ctrl-C) stops sending at the next tick (at most `maxSleepMs` later). */
  readonly signal?: AbortSignal;
  /**
   * Shortest sleep between sends, ms. Messages that fall due within one tick leave together, so a
   * high rate fills batches instead of making one call per message.
   */
  readonly tickMs?: number;
  /** Longest sleep, ms: bounds how long an interrupt waits. */
  readonly maxSleepMs?: number;
  /** Called with the epoch ms of the send start, before the first message leaves. */
  readonly onStart?: (t0: number) => void;
}

export interface SenderProgress {
  /** Messages handed to the transport. */
  sent: number;
  /** The most any message left after its scheduled time, ms. */
  maxLateMs: number;
}

export interface SenderResult extends SenderProgress {
  readonly t0: number;
  /** Elapsed ms from the send start to the last message (or the interrupt). */
  readonly elapsedMs: number;
  readonly interrupted: boolean;
}

/**
 * Open-loop sending: at each tick, every message due by now leaves, whether or not earlier sends
 * have finished (the transport bounds its own concurrency). If sending falls behind, messages are
 * late (measured in `maxLateMs`), never dropped or thinned out.
 *
 * Each body is validated with the worker's own parser before it leaves, so a planning bug fails
 * here rather than as a dead-lettered message.
 */
export class Sender {
  readonly progress: SenderProgress = { sent: 0, maxLateMs: 0 };

  constructor(private readonly plan: SendPlan, private readonly transport: Transport, private readonly opts: SenderOptions) {}

  async run(): Promise<SenderResult> {
    const { clock, signal } = this.opts;
    const tickMs = this.opts.tickMs ?? 10;
    const maxSleepMs = this.opts.maxSleepMs ?? 250;
    const plan = this.plan;
    // Message timestamps are whole epoch ms (the protocol's sentAt and startAt are integers).
    const t0 = Math.floor(clock.now());
    this.opts.onStart?.(t0);
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    let next = 0;
    while (next < plan.total && !signal?.aborted && failure === undefined) {
      const elapsed = clock.now() - t0;
      const due = plan.dueBy(elapsed);
      if (due > next) {
        const sentAt = Math.floor(clock.now());
        const bodies: string[] = [];
        for (let i = next; i < due; i++) {
          const body = plan.body(i, sentAt, t0);
          parseMessage(body, sentAt);
          bodies.push(body);
        }
        this.progress.maxLateMs = Math.max(this.progress.maxLateMs, elapsed - plan.dueAt(next));
        const p: Promise<void> = this.transport.send(bodies)
          .catch((e: unknown) => { failure ??= e; })
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
        next = due;
        this.progress.sent = next;
        continue;
      }
      const wait = Math.max(tickMs, plan.dueAt(next) - elapsed);
      await clock.sleep(Math.min(wait, maxSleepMs), signal);
    }
    const elapsedMs = clock.now() - t0;
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
    return { ...this.progress, t0, elapsedMs, interrupted: signal?.aborted === true && next < plan.total };
  }
}
