import type pg from 'pg';

export interface InitOptions {
  readonly scale: number;
  readonly reset: boolean;
}

/** A workload whose schema code creates (tpcb's loader, as `pgbench -i`). */
export interface WorkloadImpl {
  /**
   * Create and load the schema, idempotently: a second call with the same options changes nothing.
   * Returns one line for the log and the CLI.
   */
  init(client: pg.ClientBase, opts: InitOptions): Promise<string>;
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
