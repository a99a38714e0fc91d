/**
 * Classify a failed statement by SQLSTATE class, so errors can be counted the way PostgreSQL
 * documents them (Appendix A): "08" connection exception, "25" invalid transaction state (e.g.
 * 25006, a write on a read-only standby), "40" transaction rollback, "57" operator intervention
 * (e.g. 57P01, the server is shutting down), "28" invalid authorization.
 */

/** Client-side failures that mean "the connection is gone" are counted as class 08. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/**
 * Messages of node-postgres failures that mean the same. "Query read timeout" is the client-side
 * query timeout: the server did not answer within statement_timeout plus a margin, so it (or the
 * network to it) is gone, and the connection, whose query is still outstanding, is useless.
 * "timeout exceeded when trying to connect" is pg-pool's wait for a busy pool, which the worker's
 * pools wrap into {@link PoolBusyError} first.
 */
const CONNECTION_MESSAGES = [
  /connection terminated/i, /timeout exceeded when trying to connect/i, /not queryable/i, /connection ended/i,
  /Client has encountered a connection error/i, /Query read timeout/i,
];

/**
 * Every connection of the pool stayed busy for as long as the caller could wait: nothing failed to
 * connect, so it is not a connection exception (class 08). A slice counts the statement skipped.
 */
export class PoolBusyError extends Error {
  override readonly name = 'PoolBusyError';
}

/**
 * No connection within the time the statement had (a slice statement's late limit): it could not
 * start in time and is skipped, as pgbench -L does; an attempt still connecting goes on for the
 * next statement.
 */
export class ConnectionWaitError extends Error {
  override readonly name = 'ConnectionWaitError';
}

/**
 * A connection to the writer endpoint reached a server in recovery (a standby: DNS still points at
 * the old writer during a failover). It is discarded and no write runs on it; counted as SQLSTATE
 * 25006 (read-only transaction), what the write would have met.
 */
export class StandbyConnectionError extends Error {
  override readonly name = 'StandbyConnectionError';
  readonly code = '25006';
}

/** The full SQLSTATE of a PostgreSQL error, or undefined for client-side errors. */
export function sqlstateOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** The error's SQLSTATE class ("08", "25", ...); "08" for lost connections; "client" otherwise. */
export function errorClassOf(err: unknown): string {
  const state = sqlstateOf(err);
  if (state) return state.slice(0, 2);
  if (isConnectionError(err)) return '08';
  return 'client';
}

/** True when the error means the connection (or the server) is gone, so the client must be discarded. */
export function isConnectionError(err: unknown): boolean {
  const state = sqlstateOf(err);
  if (state) return state.startsWith('08') || state === '57P01' || state === '57P02' || state === '57P03';
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  const message = err instanceof Error ? err.message : String(err);
  return CONNECTION_MESSAGES.some((re) => re.test(message));
}

/**
 * True when the connection that saw the error must not be used again: it is broken, or its server
 * refused a write as read-only (25006: the connection is on a standby, e.g. the old writer after a
 * failover, and would fail every write for its whole life).
 */
export function mustDiscard(err: unknown): boolean {
  return isConnectionError(err) || sqlstateOf(err) === '25006';
}

/** True for authentication failures, after which credentials are re-read once (rotation). */
export function isAuthError(err: unknown): boolean {
  const state = sqlstateOf(err);
  return state === '28P01' || state === '28000';
}

/** One line describing an error for logs: SQLSTATE and the server's message, nothing else. */
export function describeError(err: unknown): string {
  const state = sqlstateOf(err);
  const message = (err instanceof Error ? err.message : String(err)).split('\n')[0];
  return state ? `${state}: ${message}` : message;
}
