/**
 * An in-process queue with the Amazon SQS standard-queue semantics the worker depends on:
 * receive in batches of up to 10, a visibility timeout during which a received message is hidden,
 * redelivery when it was not deleted in time, receipt handles that go stale on redelivery, and a
 * redrive policy that moves a message to a dead-letter queue once it has been received
 * maxReceiveCount times without being deleted.
 *
 * Order is first-in-first-out for new messages, with redelivered ones joining the back, which
 * SQS standard queues allow (they promise no order). Every operation is O(1) or O(log n).
 */
import { createHash, randomUUID } from 'node:crypto';

export interface LocalQueueOptions {
  /** Queue name, used in ARNs and messages. @default 'local-queue' */
  readonly name?: string;
  /**
   * How long a received message stays hidden. Set it short locally (e.g. 2 s) so failed items come
   * back quickly; SQS's own default is 30 s. @default 30000
   */
  readonly visibilityTimeoutMs?: number;
  /**
   * Receives after which an undeleted message is moved to the dead-letter queue (SQS's redrive
   * policy). 0 turns redrive off: messages are redelivered forever. @default 3
   */
  readonly maxReceiveCount?: number;
  /**
   * Where messages go after maxReceiveCount receives. @default a new queue named `<name>-dlq`
   * (none when maxReceiveCount is 0)
   */
  readonly deadLetterQueue?: LocalQueue;
  /** Largest body, in UTF-8 bytes (SQS's MaximumMessageSize). @default 262144 */
  readonly maxMessageBytes?: number;
  /** Clock in ms since the epoch; inject one to test timeouts without waiting. @default Date.now */
  readonly now?: () => number;
}

/** A message as ReceiveMessage returns it (with all attributes requested). */
export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: {
    ApproximateReceiveCount: string;
    SentTimestamp: string;
    SenderId: string;
    ApproximateFirstReceiveTimestamp: string;
  };
  md5OfBody: string;
}

export interface LocalQueueStats {
  /** Messages sent to this queue; messages moved in as to a dead-letter queue are not counted (SQS does the same). */
  sent: number;
  received: number;
  deleted: number;
  /** Messages this queue moved to its dead-letter queue. */
  deadLettered: number;
  /** Receives of a message that had been received before (ApproximateReceiveCount > 1). */
  redelivered: number;
}

/** ApproximateNumberOfMessages (visible) and ApproximateNumberOfMessagesNotVisible (in flight). */
export interface QueueDepth {
  visible: number;
  inFlight: number;
}

interface Message {
  readonly id: string;
  readonly body: string;
  readonly md5: string;
  readonly sentAt: number;
  firstReceivedAt: number;
  receiveCount: number;
  /** The receipt handle of the latest receive; older ones are stale. */
  receipt: string | undefined;
  /** In flight until this time; undefined while visible. */
  invisibleUntil: number | undefined;
  /** Bumped whenever the message becomes visible, so older entries for it in the visible FIFO are skipped. */
  generation: number;
  deleted: boolean;
}

interface VisibleEntry {
  readonly msg: Message;
  readonly generation: number;
}

interface HeapEntry {
  readonly at: number;
  readonly id: string;
  readonly receipt: string;
}

const SENDER_ID = 'local';
const MAX_BATCH = 10;
/** SQS's upper bound on a visibility timeout: 12 hours. */
const MAX_VISIBILITY_MS = 12 * 60 * 60 * 1000;

export class LocalQueue {
  readonly name: string;
  readonly visibilityTimeoutMs: number;
  readonly maxReceiveCount: number;
  readonly deadLetterQueue?: LocalQueue;
  readonly maxMessageBytes: number;
  readonly stats: LocalQueueStats = { sent: 0, received: 0, deleted: 0, deadLettered: 0, redelivered: 0 };

  readonly #now: () => number;
  /** Receipt handles only need to be unique, not unguessable: everything here is in-process. */
  #receipts = 0;
  /** Every message not yet deleted or dead-lettered, by id. */
  readonly #messages = new Map<string, Message>();
  /**
   * Visible messages, oldest first. Deleting or re-hiding a message leaves its entry behind; the
   * entry is skipped when it reaches the front (a Map would do this work on every front read).
   */
  readonly #visible = new Fifo<VisibleEntry>();
  #visibleCount = 0;
  /** In-flight messages by the time they become visible again; entries go stale, see #release. */
  readonly #inFlight = new MinHeap<HeapEntry>((a, b) => a.at - b.at);

  constructor(opts: LocalQueueOptions = {}) {
    this.name = opts.name ?? 'local-queue';
    this.visibilityTimeoutMs = opts.visibilityTimeoutMs ?? 30_000;
    this.maxReceiveCount = opts.maxReceiveCount ?? 3;
    this.maxMessageBytes = opts.maxMessageBytes ?? 262_144;
    this.#now = opts.now ?? Date.now;
    checkVisibility('visibilityTimeoutMs', this.visibilityTimeoutMs);
    if (!Number.isInteger(this.maxReceiveCount) || this.maxReceiveCount < 0) {
      throw new TypeError(`maxReceiveCount must be a non-negative integer (0 = no dead-letter queue), got ${opts.maxReceiveCount}`);
    }
    if (!Number.isInteger(this.maxMessageBytes) || this.maxMessageBytes < 1) throw new TypeError(`maxMessageBytes must be a positive integer, got ${opts.maxMessageBytes}`);
    if (this.maxReceiveCount > 0) {
      this.deadLetterQueue = opts.deadLetterQueue ?? new LocalQueue({ name: `${this.name}-dlq`, maxReceiveCount: 0, now: this.#now });
      if (this.deadLetterQueue === this) throw new TypeError('a queue cannot be its own dead-letter queue');
    } else if (opts.deadLetterQueue) {
      throw new TypeError('deadLetterQueue needs maxReceiveCount > 0: without it nothing is ever moved there');
    }
  }

  /** Enqueue one message; returns its MessageId. */
  send(body: string): string {
    this.#checkBody(body);
    return this.#enqueue(randomUUID(), body, this.#now());
  }

  /** Enqueue 1 to 10 messages, as SendMessageBatch does; returns their MessageIds in order. */
  sendBatch(bodies: string[]): string[] {
    if (!Array.isArray(bodies) || bodies.length < 1 || bodies.length > MAX_BATCH) {
      throw new RangeError(`sendBatch takes 1 to ${MAX_BATCH} bodies, as SendMessageBatch does; got ${Array.isArray(bodies) ? bodies.length : typeof bodies}`);
    }
    let total = 0;
    for (const body of bodies) total += this.#checkBody(body);
    if (total > this.maxMessageBytes) throw new RangeError(`the batch is ${total} bytes; SQS limits a whole batch to ${this.maxMessageBytes} bytes`);
    const now = this.#now();
    return bodies.map((b) => this.#enqueue(randomUUID(), b, now));
  }

  /**
   * Receive up to `max` (1-10) visible messages. Each becomes invisible for the visibility timeout
   * and gets a fresh receipt handle. A message that has already been received maxReceiveCount times
   * is moved to the dead-letter queue instead of being delivered again, as SQS's redrive does.
   */
  receive(max: number): ReceivedMessage[] {
    if (!Number.isInteger(max) || max < 1 || max > MAX_BATCH) throw new RangeError(`receive takes 1 to ${MAX_BATCH} messages (MaxNumberOfMessages), got ${max}`);
    const now = this.#now();
    this.#release(now);
    const out: ReceivedMessage[] = [];
    while (out.length < max) {
      const msg = this.#popVisible();
      if (!msg) break;
      if (this.deadLetterQueue && msg.receiveCount >= this.maxReceiveCount) {
        this.#forget(msg);
        // Like SQS: same message id and SentTimestamp; not counted as "sent" on the dead-letter queue.
        this.deadLetterQueue.#enqueue(msg.id, msg.body, msg.sentAt, false);
        this.stats.deadLettered++;
        continue;
      }
      msg.receiveCount++;
      if (msg.receiveCount === 1) msg.firstReceivedAt = now;
      else this.stats.redelivered++;
      msg.receipt = `${msg.id}:${++this.#receipts}`;
      this.#hide(msg, now + this.visibilityTimeoutMs);
      this.stats.received++;
      out.push({
        messageId: msg.id,
        receiptHandle: msg.receipt,
        body: msg.body,
        attributes: {
          ApproximateReceiveCount: String(msg.receiveCount),
          SentTimestamp: String(msg.sentAt),
          SenderId: SENDER_ID,
          ApproximateFirstReceiveTimestamp: String(msg.firstReceivedAt),
        },
        md5OfBody: msg.md5,
      });
    }
    return out;
  }

  /**
   * Delete the message received with `receiptHandle`. Returns false, and deletes nothing, when the
   * handle is stale (the message was received again since) or the message is already gone.
   */
  delete(receiptHandle: string): boolean {
    const msg = this.#byReceipt(receiptHandle);
    if (!msg) return false;
    if (msg.invisibleUntil === undefined) this.#visibleCount--;
    this.#forget(msg);
    this.stats.deleted++;
    return true;
  }

  /**
   * Set how long the message received with `receiptHandle` stays hidden from now on (0 makes it
   * visible at once). Throws, as ChangeMessageVisibility does, for a stale handle or a message
   * that is no longer in flight.
   */
  changeVisibility(receiptHandle: string, timeoutMs: number): void {
    checkVisibility('timeoutMs', timeoutMs);
    const msg = this.#byReceipt(receiptHandle);
    if (!msg) throw new Error(`ReceiptHandleIsInvalid: ${receiptHandle} is stale or its message was deleted`);
    const now = this.#now();
    this.#release(now);
    if (msg.invisibleUntil === undefined) throw new Error(`MessageNotInflight: message ${msg.id} is visible again`);
    if (timeoutMs === 0) this.#show(msg);
    else this.#hide(msg, now + timeoutMs);
  }

  /** Delete every message (visible and in flight), as PurgeQueue does; returns how many. */
  purge(): number {
    const n = this.#messages.size;
    for (const msg of this.#messages.values()) msg.deleted = true;
    this.#messages.clear();
    this.#visible.clear();
    this.#visibleCount = 0;
    this.#inFlight.clear();
    return n;
  }

  get depth(): QueueDepth {
    this.#release(this.#now());
    return { visible: this.#visibleCount, inFlight: this.#messages.size - this.#visibleCount };
  }

  /** True when no message is visible or in flight (all deleted or dead-lettered). */
  drained(): boolean {
    return this.#messages.size === 0;
  }

  #enqueue(id: string, body: string, sentAt: number, countAsSent = true): string {
    const msg: Message = { id, body, md5: createHash('md5').update(body, 'utf8').digest('hex'), sentAt, firstReceivedAt: 0, receiveCount: 0, receipt: undefined, invisibleUntil: 0, generation: 0, deleted: false };
    this.#messages.set(id, msg);
    this.#show(msg);
    if (countAsSent) this.stats.sent++;
    return id;
  }

  /** Validate a body; returns its size in bytes. */
  #checkBody(body: unknown): number {
    if (typeof body !== 'string') throw new TypeError(`a message body must be a string, got ${typeof body}`);
    if (body.length === 0) throw new RangeError('a message body must not be empty (SQS rejects empty messages)');
    const bytes = Buffer.byteLength(body, 'utf8');
    if (bytes > this.maxMessageBytes) throw new RangeError(`a message body is ${bytes} bytes; the queue's limit (MaximumMessageSize) is ${this.maxMessageBytes}`);
    return bytes;
  }

  #byReceipt(receiptHandle: string): Message | undefined {
    if (typeof receiptHandle !== 'string') return undefined;
    const id = receiptHandle.slice(0, receiptHandle.indexOf(':'));
    const msg = this.#messages.get(id);
    return msg && msg.receipt === receiptHandle ? msg : undefined;
  }

  #hide(msg: Message, until: number): void {
    msg.invisibleUntil = until;
    this.#inFlight.push({ at: until, id: msg.id, receipt: msg.receipt ?? '' });
  }

  /** Make a new or in-flight message visible. */
  #show(msg: Message): void {
    msg.invisibleUntil = undefined;
    msg.generation++;
    this.#visible.push({ msg, generation: msg.generation });
    this.#visibleCount++;
  }

  /** The oldest visible message, now taken out of the visible set (the caller hides or forgets it). */
  #popVisible(): Message | undefined {
    for (let e = this.#visible.shift(); e; e = this.#visible.shift()) {
      if (!e.msg.deleted && e.msg.invisibleUntil === undefined && e.msg.generation === e.generation) {
        this.#visibleCount--;
        return e.msg;
      }
    }
    return undefined;
  }

  #forget(msg: Message): void {
    msg.deleted = true;
    this.#messages.delete(msg.id);
  }

  /** Make in-flight messages whose timeout has passed visible again, skipping stale heap entries. */
  #release(now: number): void {
    for (let top = this.#inFlight.peek(); top && top.at <= now; top = this.#inFlight.peek()) {
      this.#inFlight.pop();
      const msg = this.#messages.get(top.id);
      if (msg && msg.receipt === top.receipt && msg.invisibleUntil === top.at) this.#show(msg);
    }
  }
}

function checkVisibility(name: string, ms: number): void {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_VISIBILITY_MS) throw new RangeError(`${name} must be an integer from 0 to ${MAX_VISIBILITY_MS} ms (12 h), got ${ms}`);
}

/** A first-in-first-out queue with O(1) amortised push and shift. */
class Fifo<T> {
  #items: Array<T | undefined> = [];
  #head = 0;

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}

/** A binary min-heap. */
class MinHeap<T> {
  readonly #items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => number) {}

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    const a = this.#items;
    a.push(item);
    for (let i = a.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (this.less(a[i]!, a[parent]!) >= 0) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const a = this.#items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!) < 0) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!) < 0) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }

  clear(): void {
    this.#items.length = 0;
  }
}
