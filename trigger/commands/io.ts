import type { Clock } from '../../handlers/clock';
import type { ProgressOptions } from '../progress';

/** What a command may touch of the outside world; tests pass their own. */
export interface CliIo {
  /** The summary and other results (stdout). */
  out(text: string): void;
  /** Progress and diagnostics, one line each (stderr). */
  err(line: string): void;
  /** Where the live progress line goes (stderr). */
  readonly progressStream: ProgressOptions['stream'];
  /** Aborted by Ctrl-C: stop sending, report what there is. */
  readonly signal: AbortSignal;
  /** Where `.runs/` lives. */
  readonly cwd: string;
  /** The one clock every command paces, waits and timestamps with. */
  readonly clock: Clock;
}

/** Resolves when the signal aborts (never rejects); for racing a wait against Ctrl-C. */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
