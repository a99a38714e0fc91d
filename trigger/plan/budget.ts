import { UsageError } from '../errors';

export interface ConnectionBudget {
  /** Invocations that hold connections at the same time (slice mode: the workers). */
  readonly workers: number;
  /** Connections per pool in one worker (WorkerPoolMax). */
  readonly poolMax: number;
  /** Pools per worker: 2 when the mix has reads and writes. */
  readonly endpoints: number;
  /** The database's max_connections. */
  readonly maxConnections: number;
  /** Connections kept free for superusers, monitoring and the tool itself. */
  readonly reserved: number;
}

/** Connections kept free by default: superuser_reserved_connections (3) plus two for monitoring. */
export const RESERVED_CONNECTIONS = 5;

/**
 * Refuse a plan whose workers could open more connections than the database accepts. Both pools
 * are counted against one server's max_connections: on a cluster without replicas the reader
 * endpoint is the writer, and over-counting costs a smaller plan where under-counting costs a
 * run full of "too many clients" errors (SQLSTATE 53300).
 */
export function checkConnectionBudget(b: ConnectionBudget): { needed: number; available: number } {
  const needed = b.workers * b.poolMax * b.endpoints;
  const available = b.maxConnections - b.reserved;
  if (needed > available) {
    const fit = Math.max(0, Math.floor(available / (b.poolMax * b.endpoints)));
    throw new UsageError(
      `plan needs ${b.workers} worker(s) x ${b.poolMax * b.endpoints} connections (pool of ${b.poolMax} x ${b.endpoints} endpoint(s)) = ${needed}, `
      + `but max_connections is ${b.maxConnections} (${b.reserved} kept free): `
      + `at most ${fit} worker(s) fit, so lower --rate, raise the rate per worker with fewer --workers, or give the database more connections`,
    );
  }
  return { needed, available };
}
