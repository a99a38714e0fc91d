/**
 * Errors a user can cause. The CLI prints their message as one line, with no stack trace, and
 * exits with their code; anything else that escapes is a bug and keeps its stack.
 */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

/** A mistake in the flags, or a plan that cannot run as asked. Exit code 2. */
export class UsageError extends CliError {
  override readonly name = 'UsageError';
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** Exit codes, documented in `--help` and the README. */
export const EXIT = {
  ok: 0,
  /** The run finished but a threshold was breached, or messages could not be delivered. */
  failed: 1,
  /** A flag mistake, nothing to run against, or a plan that cannot fit. */
  usage: 2,
  /** Interrupted with Ctrl-C (128 + SIGINT). */
  interrupted: 130,
} as const;

/** One line: the first line of a message, trimmed. Multi-line SDK errors stay readable. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
