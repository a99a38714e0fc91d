import type pg from 'pg';

export interface OpContext {
  /**
   * A value computed once per endpoint and then reused (e.g. the tpcb scale factor), so no
   * per-statement catalogue queries are needed. A loader that throws is retried next time.
   */
  cached<T>(key: string, load: () => Promise<T>): Promise<T>;
}

/** One operation: runs its statement(s) on the given connection; throws the server's error. */
export type OpImpl = (client: pg.ClientBase, ctx: OpContext) => Promise<void>;

export interface InitOptions {
  readonly scale: number;
  readonly reset: boolean;
}

export interface WorkloadImpl {
  /**
   * Create and load the schema, idempotently: a second call with the same options changes nothing.
   * Returns one line for the log and the CLI.
   */
  init(client: pg.ClientBase, opts: InitOptions): Promise<string>;
  readonly ops: Readonly<Record<string, OpImpl>>;
}

/** Serialise concurrent inits of the same workload (two deploys, or a deploy and a CLI init). */
export async function withInitLock<T>(client: pg.ClientBase, workload: string, fn: () => Promise<T>): Promise<T> {
  await client.query('SELECT pg_advisory_lock(hashtext($1))', [`aurora-load-test:init:${workload}`]);
  try {
    return await fn();
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`aurora-load-test:init:${workload}`]);
  }
}

export function randomInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}
