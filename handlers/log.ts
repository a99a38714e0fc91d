/**
 * The worker's JSON logger: one line per entry, `{"level":"warn","time":<epoch ms>,...bindings,
 * ...fields,"msg":"..."}`, the lines pino writes with `base: null` and a level label, which is what
 * the worker used before. It is this small because it is loaded at every cold start: pino and
 * its streams (sonic-boom, thread-stream, worker_threads, assert) took about 6% of it, for four
 * methods (measured: bench/README.md, coldInitMs).
 *
 * Secrets stay out by construction (credentials are never passed to it, and a password is a
 * non-enumerable property); redaction is a second line of defence: a field named as in
 * {@link REDACTED}, at the top or one level down, is written as `[redacted]`.
 */

/** The destination of the lines (process.stdout by default; tests capture them). */
export interface DestinationStream {
  write(line: string): unknown;
}

export type Level = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Readonly<Record<Level, number>> = { debug: 20, info: 30, warn: 40, error: 50 };

/** Field names whose values are never written. */
const REDACTED: ReadonlySet<string> = new Set(['password', 'secret', 'SecretString']);
const CENSOR = '[redacted]';

export interface Logger {
  debug(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
  /** A logger whose lines carry `bindings` too (a request id). */
  child(bindings: object): Logger;
}

/** `value` with the redacted fields of its own and of the objects it holds replaced. */
function redact(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object' || value instanceof Error || depth > 1) return value;
  let copy: Record<string, unknown> | unknown[] | undefined;
  for (const [key, inner] of Object.entries(value)) {
    const next = REDACTED.has(key) ? CENSOR : redact(inner, depth + 1);
    if (next !== inner) {
      copy ??= Array.isArray(value) ? [...value] : { ...value };
      (copy as Record<string, unknown>)[key] = next;
    }
  }
  return copy ?? value;
}

/** JSON.stringify that writes an Error's name, message and stack, a bigint as a number, and a cycle as "[Circular]". */
function stringify(entry: object): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(entry, function (this: unknown, _key, value: unknown) {
    if (typeof value === 'bigint') return Number(value);
    if (value instanceof Error) return { type: value.name, message: value.message, stack: value.stack };
    if (value !== null && typeof value === 'object') {
      if (seen.has(value)) return '[Circular]';
      seen.add(value);
    }
    return value;
  });
}

class JsonLogger implements Logger {
  constructor(
    private readonly out: DestinationStream | undefined,
    private readonly threshold: number,
    private readonly bindings: Record<string, unknown>,
  ) {}

  debug(fields: object, msg: string): void { this.write('debug', fields, msg); }
  info(fields: object, msg: string): void { this.write('info', fields, msg); }
  warn(fields: object, msg: string): void { this.write('warn', fields, msg); }
  error(fields: object, msg: string): void { this.write('error', fields, msg); }

  child(bindings: object): Logger {
    return new JsonLogger(this.out, this.threshold, { ...this.bindings, ...(redact(bindings, 0) as object) });
  }

  private write(level: Level, fields: object, msg: string): void {
    if (LEVELS[level] < this.threshold) return;
    const line = `${stringify({ level, time: Date.now(), ...this.bindings, ...(redact(fields, 0) as object), msg })}\n`;
    // process.stdout is made on first use: a cold start that logs nothing never pays for it.
    (this.out ?? process.stdout).write(line);
  }
}

export function createLogger(destination?: DestinationStream, level: Level = 'info'): Logger {
  return new JsonLogger(destination, LEVELS[level], {});
}
