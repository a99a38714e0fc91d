/**
 * Waiting until a moment, to the tens of microseconds, without burning a core.
 *
 * Node's timers have the event loop's granularity: a timer is measured from the loop's cached,
 * whole-millisecond time, so `setTimeout(f, d)` runs f anywhere from about 1 ms before d to a
 * fraction of a millisecond after it, and a loop that sleeps again until its moment has come
 * (as the slice schedule did) starts its statements 0.5-1 ms late: schedule lag that the database
 * never caused, on every statement. pgbench, which sleeps in ppoll() to the microsecond, starts
 * within about 0.1 ms.
 *
 * So the wait is a timer for the whole of it, and when that fires early (it usually does, by up
 * to a millisecond) the rest is spent in event-loop turns (setImmediate): each turn still runs
 * I/O and timers, so statements in flight go on, but the loop does not sleep. The turns cost CPU
 * (about the timer's earliness per wait), paid from a budget: a share of one core, as a token
 * bucket. With the budget spent, the wait falls back to timers alone: late by up to a
 * millisecond, never early.
 *
 * While statements are in flight the loop turns anyway: each response is an I/O event (about one
 * every 0.1 ms at 1,500 TPC-B transactions a second). Whoever handles such an event calls
 * {@link PreciseWait.nudge}, which ends a wait whose moment has come, as a turn would, for free.
 * A wait that began within {@link NUDGED_RECENTLY_MS} of a nudge, or with a transaction in flight
 * ({@link PreciseWait.hold}) that answered within {@link ANSWERS_FLOWING_MS}, expects more of them
 * and does not turn: it ends on the first nudge at or after its moment, on that transaction's end
 * (then it blocks), or on its timer if none comes (then, if that was early, it turns the rest).
 *
 * And while nothing is in flight (no transaction holds the wait, {@link PreciseWait.hold}), no
 * answer can arrive for the loop to handle, so the last stretch needs no turning at all: the wait
 * blocks the thread (`Atomics.wait`, a futex sleep that the kernel ends on a high-resolution timer)
 * until {@link SPIN_MS} before its moment, then spins on the clock for that last bit (only when it is
 * the process's one wait: another slice's moment could come while it blocks). That costs a
 * timer's wake-up plus at most SPIN_MS of CPU, instead of about a millisecond of turns. Blocking
 * delays only what no transaction waits for (an SQS or CloudWatch call), by at most `fineMs`.
 * Measured on the 2-core VM, 1,500 waits 3.3 ms apart: timer then turns, 0.003 / 0.24 ms late
 * (p50 / p99) for 2,243 µs of CPU a wait (unbudgeted); block then spin, 0.037 / 0.62 ms for 174 µs;
 * a timer alone, 134 µs but three waits in four end up to 1 ms early.
 */

/** The real-time primitives the wait is built from (injected, so it is tested on simulated time). */
export interface WaitPrimitives {
  /** Epoch ms, sub-millisecond. */
  now(): number;
  /** A coarse timer: resolves about `ms` later, possibly up to a millisecond early or late; or, cancelled, at once. */
  timer(ms: number, cancel?: AbortSignal): Promise<void>;
  /** One turn of the event loop: I/O and timers due run, then it resolves. */
  turn(): Promise<void>;
  /** Block the thread for `ms` (sub-millisecond); nothing else runs meanwhile. @default none: such waits turn instead */
  block?(ms: number): void;
}

export interface PreciseWaitOptions {
  /**
   * The most of one core the turns may take over time: 0.1 lets them use 100 ms of CPU a second.
   * 0 turns them off (timers only).
   *
   * @default 0.1
   */
  readonly turnShare?: number;
  /** The most turn time saved up while unused, ms: how long a burst of precise waits may be. @default 50 */
  readonly burstMs?: number;
  /** Turn instead of sleeping only in a wait's last `fineMs`: a timer fires at most this early. @default 1.5 */
  readonly fineMs?: number;
}

/** What the waits cost and how they ended. */
export interface PreciseWaitStats {
  /** Waits that ended in turns, on time. */
  precise: number;
  /** Waits that ended on a timer (the budget was spent, or the timer fired late): up to a millisecond late. */
  coarse: number;
  /** ms spent turning (CPU). */
  turnMs: number;
  /** Waits ended by a nudge (an I/O event at or after their moment), without turning. */
  nudged: number;
  /** Waits that blocked, then spun, to their moment with nothing in flight (on time; the spin counts in turnMs). */
  blocked: number;
}

/** A nudge this recent says I/O is flowing: the next wait relies on nudges instead of turns. */
const NUDGED_RECENTLY_MS = 1;

/**
 * With a transaction in flight, a nudge this recent says its answers are coming: a wait counts on
 * them. Longer without one (a long statement, a COMMIT's flush, a hold that never nudges such as
 * the staleness probe's poll), the wait does not, and ends as if nothing were in flight.
 */
const ANSWERS_FLOWING_MS = 5;

/** A blocking wait wakes this long before its moment and spins the rest: the futex timer's slack. */
export const SPIN_MS = 0.1;

export class PreciseWait {
  readonly stats: PreciseWaitStats = { precise: 0, coarse: 0, turnMs: 0, nudged: 0, blocked: 0 };
  /** Transactions in flight ({@link hold}): while any is, answers may come, and a wait must not block. */
  private held = 0;
  /** Waits in progress (several slices in one process): another's moment may come while one blocks. */
  private waits = 0;
  /** Waits in their last `fineMs` that a nudge may end: their moment, and how to end them. */
  private readonly waiting = new Set<{ readonly t: number; readonly end: (why: 'nudge' | 'quiet') => void }>();
  private nudgedAt = -Infinity;
  private readonly share: number;
  private readonly burstMs: number;
  private readonly fineMs: number;
  /** ms of turning the budget allows now; refilled at `share` ms per ms of wall time. */
  private tokens: number;
  private refilledAt: number;

  constructor(private readonly p: WaitPrimitives, opts: PreciseWaitOptions = {}) {
    this.share = opts.turnShare ?? 0.1;
    this.burstMs = opts.burstMs ?? 50;
    this.fineMs = opts.fineMs ?? 1.5;
    if (!(this.share >= 0 && this.share <= 1)) throw new RangeError(`turnShare must be within 0-1, got ${this.share}`);
    if (!(this.burstMs >= 0)) throw new RangeError(`burstMs must be at least 0, got ${this.burstMs}`);
    if (!(this.fineMs >= 0)) throw new RangeError(`fineMs must be at least 0, got ${this.fineMs}`);
    this.tokens = this.burstMs;
    this.refilledAt = p.now();
  }

  /** Resolves at `t` (epoch ms) or just after it; never before. */
  async until(t: number): Promise<void> {
    const now = this.p.now();
    if (now >= t) return;
    this.waits += 1;
    try {
      await this.wait(t, now);
    } finally {
      this.waits -= 1;
    }
  }

  private async wait(t: number, from: number): Promise<void> {
    let now = from;
    // Waiting on a transaction's answers ended on its timer before the moment: no answer is coming
    // soon, so unless one came in the last millisecond the rest is turned (or blocked), not waited
    // on again.
    let onAnswers = true;
    for (;;) {
      // Blocking stops every other wait too: only the one wait of the process may block.
      if (t - now <= this.fineMs && this.held === 0 && this.waits === 1 && this.p.block) {
        // Spinning is CPU too: with the budget spent, the futex wakes at the moment itself.
        const spin = this.refill(now) > 0 ? SPIN_MS : 0;
        if (t - spin > now) this.p.block(t - spin - now);
        const from = this.p.now();
        now = from;
        while (now < t) now = this.p.now();
        this.tokens -= now - from;
        this.stats.turnMs += now - from;
        this.stats.blocked += 1;
        return;
      }
      // While a transaction in flight is answering, its next answer will come, and its end lets
      // the wait block: either ends the wait, on time or nearly, without turning.
      const recently = now - this.nudgedAt <= NUDGED_RECENTLY_MS;
      if (t - now <= this.fineMs && (recently || (onAnswers && this.answersFlowing(now)))) {
        const ended = await this.nudgedOrTimer(t, now);
        now = this.p.now();
        if (ended === 'nudge' || (ended === 'quiet' && now >= t)) {
          this.stats.nudged += 1;
          return;
        }
        if (now >= t) {
          this.stats.coarse += 1;
          return;
        }
        // The last transaction in flight ended before the moment: block for the rest. Or the
        // timer came first: no answer soon, so turn (or block) the rest.
        if (ended === 'timer') onAnswers = false;
        continue;
      }
      if (t - now <= this.fineMs && this.refill(now) > 0) {
        const from = now;
        while (now < t) {
          await this.p.turn();
          now = this.p.now();
        }
        // A wait may overdraw the budget by one wait; the refill pays the debt first.
        this.tokens -= now - from;
        this.stats.turnMs += now - from;
        this.stats.precise += 1;
        return;
      }
      // A timer may fire late. When the last stretch has a way to end on time that costs no
      // turning, aim it a millisecond early (at most `fineMs`), so the wait reaches that stretch
      // before its moment: blocking (nothing in flight, no other wait), or a transaction in flight
      // that is answering, whose answers nudge and whose end lets the wait block. Otherwise the
      // stretch would be turned, from the budget: aim at the moment.
      // Aimed at the moment with a transaction in flight, as until 2026-12-01, about a third of
      // the starts of a slice at 300/s ended on that timer, 0.26 ms late at the median and 0.77 at
      // p90 (the 2-core VM, handlers/README.md, "Statements start on time").
      const early = (onAnswers && this.answersFlowing(now)) || (this.p.block !== undefined && this.held === 0 && this.waits === 1);
      await this.p.timer(early ? t - now - Math.min(1, this.fineMs) : t - now);
      now = this.p.now();
      if (now >= t) {
        this.stats.coarse += 1;
        return;
      }
    }
  }

  /**
   * A transaction starts whose answers the loop must handle as they come: until the returned
   * function is called, waits do not block the thread.
   */
  hold(): () => void {
    this.held += 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.held -= 1;
      // No more answers are coming: a wait counting on one would end on its timer, late; it can block instead.
      if (this.held === 0 && this.p.block) for (const w of this.waiting) w.end('quiet');
    };
  }

  /**
   * Something happened on the event loop (a database response): end the waits whose moment has
   * come. Cheap when nothing waits; call it from I/O handlers on the hot path.
   */
  nudge(): void {
    const now = this.p.now();
    this.nudgedAt = now;
    if (this.waiting.size === 0) return;
    for (const w of this.waiting) if (now >= w.t) w.end('nudge');
  }

  /**
   * Wait for a nudge at or after `t` ('nudge'), the last transaction in flight ending ('quiet',
   * only where waits can block), or the timer ('timer').
   */
  private async nudgedOrTimer(t: number, now: number): Promise<'nudge' | 'quiet' | 'timer'> {
    let entry: { t: number; end: (why: 'nudge' | 'quiet') => void } | undefined;
    const ended = new Promise<'nudge' | 'quiet'>((resolve) => {
      entry = { t, end: resolve };
      this.waiting.add(entry);
    });
    // The timer that lost the race is cleared: left, it would wake the loop after the wait is over.
    const timer = new AbortController();
    try {
      return await Promise.race([ended, this.p.timer(t - now, timer.signal).then(() => 'timer' as const)]);
    } finally {
      this.waiting.delete(entry!);
      timer.abort();
    }
  }

  /**
   * The clock was set `stepMs` forward (or back) between waits (`Clock.resync`): the times kept
   * from before move with it, so the last nudge is as long ago as it was, and a step back leaves
   * the turning budget as it was instead of in debt.
   */
  clockStepped(stepMs: number): void {
    this.nudgedAt += stepMs;
    this.refilledAt += stepMs;
  }

  /** A transaction is in flight and answered lately ({@link ANSWERS_FLOWING_MS}): its next answer will nudge. */
  private answersFlowing(now: number): boolean {
    return this.held > 0 && now - this.nudgedAt <= ANSWERS_FLOWING_MS;
  }

  private refill(now: number): number {
    this.tokens = Math.min(this.burstMs, this.tokens + (now - this.refilledAt) * this.share);
    this.refilledAt = now;
    return this.tokens;
  }
}
