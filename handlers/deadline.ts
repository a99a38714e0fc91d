/**
 * How an invocation's time is spent, so that it publishes its metrics before Lambda's deadline
 * whatever the database does. Written once: the worker stops by it, and the trigger refuses a plan
 * whose slices could not finish inside one invocation by the same arithmetic.
 *
 * A statement that starts has at most `lateLimitMs` to get a connection (a busy pool, a slow
 * connect: past that it is skipped, as pgbench -L does) and then at most the client-side query
 * timeout to answer (the server's statement_timeout plus a margin: the server's own timeout, when
 * the server is there to apply it, comes first). So no statement is started later than
 * lateLimit + query timeout before the moment the invocation must publish, and that moment is
 * `deadlineMarginMs` before Lambda's deadline (time to publish and hand back failed messages,
 * every AWS call cut off {@link RETURN_MARGIN_MS} before the deadline).
 */

/** Kept after the last AWS call to return the batch response before Lambda's deadline. */
export const RETURN_MARGIN_MS = 1_000;

/**
 * The client-side query timeout beyond the server's statement_timeout: long enough that a live
 * server answers first (with SQLSTATE 57014), short enough that a silent one is given up on soon.
 */
export const QUERY_TIMEOUT_MARGIN_MS = 2_000;

/**
 * When TCP keepalive probes start on an idle connection. The operating system's default is two
 * hours (Linux tcp_keepalive_time); a connection to a server that vanished is then found dead only
 * by the next statement's query timeout. The interval and count of later probes stay the OS's.
 */
export const KEEPALIVE_INITIAL_DELAY_MS = 5_000;

/** The client-side timeout of every query: statement_timeout + {@link QUERY_TIMEOUT_MARGIN_MS}. */
export function queryTimeoutMs(statementTimeoutMs: number): number {
  return statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS;
}

export interface InvocationTimes {
  /** Epoch ms by which the invocation publishes: Lambda's deadline less the publishing margin. */
  readonly publishBy: number;
  /** Epoch ms after which no statement starts: every started one ends by `publishBy`. */
  readonly lastStart: number;
  /** Epoch ms by which every AWS call (publishing, retries, handing back messages) is over. */
  readonly sendBy: number;
}

/** The worker's settings the invocation's times depend on (a subset of WorkerConfig). */
export interface DeadlineSettings {
  readonly statementTimeoutMs: number;
  /** Kept at the end of an invocation to publish metrics and hand back failed messages. */
  readonly deadlineMarginMs: number;
}

/** The times of an invocation that must end by `deadline` (epoch ms) and runs slices with `lateLimitMs`. */
export function invocationTimes(deadline: number, s: DeadlineSettings, lateLimitMs: number): InvocationTimes {
  const publishBy = deadline - s.deadlineMarginMs;
  return { publishBy, lastStart: publishBy - lateLimitMs - queryTimeoutMs(s.statementTimeoutMs), sendBy: deadline - RETURN_MARGIN_MS };
}

/**
 * How much of an invocation a slice can use: from receipt (its start lead before it starts) to
 * its end, the function timeout less the time kept for the last statements and publishing.
 */
export function usableInvocationMs(functionTimeoutMs: number, s: DeadlineSettings, lateLimitMs: number): number {
  return functionTimeoutMs - s.deadlineMarginMs - lateLimitMs - queryTimeoutMs(s.statementTimeoutMs);
}
