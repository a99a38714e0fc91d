import { systemClock, type Clock } from '../../../handlers/clock';
import type { CliIo } from '../../../trigger/commands/io';

/** A CliIo that records what a command prints. */
export function captureIo(cwd = process.cwd(), clock: Clock = systemClock): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (s) => { stdout.push(s); },
    err: (s) => { stderr.push(s); },
    progressStream: { write: () => true, isTTY: false },
    signal: new AbortController().signal,
    cwd,
    clock,
  };
}
