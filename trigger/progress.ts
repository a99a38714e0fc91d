import { formatDuration } from './options/duration';
import type { QueueDepth } from './send/transport';

export interface ProgressSnapshot {
  readonly elapsedMs: number;
  readonly totalMs: number;
  /** Messages sent so far, and in the whole run. */
  readonly sent: number;
  readonly messages: number;
  /** Statements the workers reported so far (succeeded + failed), when they report while running. */
  readonly statements?: number;
  /** Elapsed ms of load the statement count covers, for the achieved rate. */
  readonly loadElapsedMs?: number;
  readonly errors?: number;
  readonly depth?: QueueDepth;
  /** What is happening, when not sending ("waiting for the last slices"). */
  readonly phase?: string;
}

/** One line of progress; no trailing newline. */
export function progressLine(s: ProgressSnapshot): string {
  const secs = (ms: number): string => formatDuration(Math.floor(ms / 1000) * 1000);
  const parts = [`${secs(s.elapsedMs)}/${secs(s.totalMs)}`, `sent ${s.sent}/${s.messages} msgs`];
  if (s.statements !== undefined && s.loadElapsedMs !== undefined && s.loadElapsedMs > 0) {
    parts.push(`${s.statements} stmts (${(s.statements / (s.loadElapsedMs / 1000)).toFixed(1)}/s)`);
  }
  if (s.errors !== undefined) parts.push(`errors ${s.errors}`);
  if (s.depth) parts.push(`queue ${s.depth.visible} waiting, ${s.depth.inFlight} in flight`);
  if (s.phase) parts.push(s.phase);
  return parts.join(' | ');
}

export interface ProgressOptions {
  readonly stream: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean };
  /** Refresh interval on a terminal (a live line), ms. */
  readonly ttyIntervalMs?: number;
  /** Interval between plain lines when not a terminal (CI logs), ms. */
  readonly plainIntervalMs?: number;
}

/**
 * Progress on stderr: on a terminal, one line rewritten in place; otherwise one plain line every
 * few seconds, so CI logs stay readable. The summary goes to stdout, untouched by either.
 */
export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private live = false;
  private busy = false;

  constructor(private readonly snapshot: () => ProgressSnapshot | Promise<ProgressSnapshot>, private readonly opts: ProgressOptions) {}

  get isTTY(): boolean {
    return this.opts.stream.isTTY === true;
  }

  start(): void {
    const every = this.isTTY ? (this.opts.ttyIntervalMs ?? 250) : (this.opts.plainIntervalMs ?? 5_000);
    this.timer = setInterval(() => void this.tick(), every);
    this.timer.unref();
  }

  /** Print a message above the live line (or as a plain line). */
  log(line: string): void {
    this.clear();
    this.opts.stream.write(`${line}\n`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }

  private clear(): void {
    if (this.live) this.opts.stream.write('\r\x1b[2K');
    this.live = false;
  }

  private async tick(): Promise<void> {
    if (this.busy || !this.timer) return;
    this.busy = true;
    try {
      const line = progressLine(await this.snapshot());
      if (!this.timer) return;
      if (this.isTTY) {
        const width = (this.opts.stream as NodeJS.WriteStream).columns ?? 120;
        this.opts.stream.write(`\r\x1b[2K${line.slice(0, width - 1)}`);
        this.live = true;
      } else {
        this.opts.stream.write(`${line}\n`);
      }
    } finally {
      this.busy = false;
    }
  }
}
