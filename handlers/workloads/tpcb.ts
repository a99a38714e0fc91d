import type pg from 'pg';
import { withInitLock, type WorkloadImpl } from './types';

/**
 * pgbench's TPC-B-like workload: the same schema, initial data (server-side generation, like
 * `pgbench -i -I dtGvp`) as pgbench; its transactions are pgbench's own "tpcb-like" and
 * "select-only" scripts, in workloads/tpcb/.
 */
export const ACCOUNTS_PER_SCALE = 100_000;

const TABLES = ['pgbench_accounts', 'pgbench_branches', 'pgbench_history', 'pgbench_tellers'];

const DDL = [
  'CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22))',
  'CREATE TABLE pgbench_tellers (tid int not null, bid int, tbalance int, filler char(84)) WITH (fillfactor = 100)',
  'CREATE TABLE pgbench_accounts (aid int not null, bid int, abalance int, filler char(84)) WITH (fillfactor = 100)',
  'CREATE TABLE pgbench_branches (bid int not null, bbalance int, filler char(88)) WITH (fillfactor = 100)',
];

const LOAD = [
  'INSERT INTO pgbench_branches (bid, bbalance) SELECT bid, 0 FROM generate_series(1, $1::int) AS bid',
  'INSERT INTO pgbench_tellers (tid, bid, tbalance) SELECT tid, (tid - 1) / 10 + 1, 0 FROM generate_series(1, $1::int * 10) AS tid',
  "INSERT INTO pgbench_accounts (aid, bid, abalance, filler) SELECT aid, (aid - 1) / 100000 + 1, 0, '' FROM generate_series(1, $1::int * 100000) AS aid",
];

const KEYS = [
  'ALTER TABLE pgbench_branches ADD PRIMARY KEY (bid)',
  'ALTER TABLE pgbench_tellers ADD PRIMARY KEY (tid)',
  'ALTER TABLE pgbench_accounts ADD PRIMARY KEY (aid)',
];

/** The scale the tables were loaded at, or 0 when they are missing or empty. */
export async function currentScale(client: pg.ClientBase): Promise<number> {
  const { rows } = await client.query<{ present: boolean }>("SELECT to_regclass('pgbench_branches') IS NOT NULL AS present");
  if (!rows[0]!.present) return 0;
  const counted = await client.query<{ n: string }>('SELECT count(*) AS n FROM pgbench_branches');
  return Number(counted.rows[0]!.n);
}

async function init(client: pg.ClientBase, opts: { scale: number; reset: boolean }): Promise<string> {
  return withInitLock(client, 'tpcb', async () => {
    const existing = await currentScale(client);
    if (existing === opts.scale && !opts.reset) return `tpcb ready: already loaded at scale ${existing}`;
    if (existing > 0 && !opts.reset) {
      throw new Error(`tpcb is loaded at scale ${existing}, not ${opts.scale}; init again with reset to reload it`);
    }
    await client.query('BEGIN');
    try {
      await client.query(`DROP TABLE IF EXISTS ${TABLES.join(', ')}`);
      for (const ddl of DDL) await client.query(ddl);
      for (const load of LOAD) await client.query(load, [opts.scale]);
      for (const key of KEYS) await client.query(key);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    await client.query(`VACUUM ANALYZE ${TABLES.join(', ')}`);
    return `tpcb ready: loaded at scale ${opts.scale} (${opts.scale * ACCOUNTS_PER_SCALE} accounts)`;
  });
}

/** TPC-B's consistency condition: every balance total equals the history's total of deltas. */
export interface TpcbBalances {
  readonly accounts: number;
  readonly tellers: number;
  readonly branches: number;
  readonly history: number;
  readonly historyRows: number;
}

export async function tpcbBalances(client: pg.ClientBase): Promise<TpcbBalances> {
  const { rows } = await client.query<Record<keyof TpcbBalances, string>>(`SELECT
    (SELECT coalesce(sum(abalance), 0) FROM pgbench_accounts) AS accounts,
    (SELECT coalesce(sum(tbalance), 0) FROM pgbench_tellers) AS tellers,
    (SELECT coalesce(sum(bbalance), 0) FROM pgbench_branches) AS branches,
    (SELECT coalesce(sum(delta), 0) FROM pgbench_history) AS history,
    (SELECT count(*) FROM pgbench_history) AS "historyRows"`);
  const r = rows[0]!;
  return {
    accounts: Number(r.accounts), tellers: Number(r.tellers), branches: Number(r.branches),
    history: Number(r.history), historyRows: Number(r.historyRows),
  };
}

export const tpcb: WorkloadImpl = { init };
