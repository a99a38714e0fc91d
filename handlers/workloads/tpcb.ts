import type pg from 'pg';
import { queryTimeoutMs } from '../deadline';
import { markerOf, markTable, tableOwners } from './marker';
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

/**
 * How long init may take, per statement and in all. The load's own statement timeout (30 s) is far
 * too short for loading, indexing and vacuuming 100,000 accounts per scale unit. Measured with
 * `npx tsx bench/init-scale.ts` (bench/README.md): the whole init took 0.18-0.29 s per scale unit
 * on the local engine (21.6-28 s at scale 100); the budget allows `safetyFactor` times the slowest
 * of those, for a cold Aurora Serverless v2 instance at a small capacity.
 */
export const INIT_TIMEOUT = {
  baseMs: 60_000,
  measuredMsPerScale: 300,
  safetyFactor: 10,
} as const;

/** The statement timeout of an init session at `scale`, ms (also its whole expected budget). */
export function initStatementTimeoutMs(scale: number): number {
  return INIT_TIMEOUT.baseMs + scale * INIT_TIMEOUT.measuredMsPerScale * INIT_TIMEOUT.safetyFactor;
}

/** The largest scale whose init budget fits in `ms` (e.g. what is left of a Lambda invocation). */
export function largestScaleWithin(ms: number): number {
  return Math.max(0, Math.floor((ms - INIT_TIMEOUT.baseMs) / (INIT_TIMEOUT.measuredMsPerScale * INIT_TIMEOUT.safetyFactor)));
}

/**
 * Create and load the tables at `scale`, like `pgbench -i`. Tables already at that scale are kept
 * (unless `reset`); tables of ours at another scale are reloaded. A table of the same name that this
 * project did not create (no marker) is never dropped: init refuses instead, in one line.
 */
async function init(client: pg.ClientBase, opts: { scale: number; reset: boolean }): Promise<string> {
  // The pool bounds every query client-side (query_timeout: the load's statement timeout plus a
  // margin, handlers/deadline.ts); loading, indexing and vacuuming run under init's own, longer
  // statement timeout, so they get a query timeout to match (a per-query query_timeout, which
  // node-postgres reads before the connection's: brianc/node-postgres#3074).
  const queryTimeout = queryTimeoutMs(initStatementTimeoutMs(opts.scale));
  const long = (text: string, values?: unknown[]): Promise<pg.QueryResult> => {
    const query: pg.QueryConfig & { query_timeout: number } = { text, ...(values ? { values } : {}), query_timeout: queryTimeout };
    return client.query(query);
  };
  return withInitLock(client, 'tpcb', async () => {
    // Session level (VACUUM cannot run in a transaction); RESET restores the pool's own timeout.
    await client.query("SELECT set_config('statement_timeout', $1, false)", [String(initStatementTimeoutMs(opts.scale))]);
    try {
      const owners = await tableOwners(client, 'tpcb', TABLES);
      const present = TABLES.filter((t) => owners.get(t) !== 'missing');
      const existing = present.length === TABLES.length ? await currentScale(client) : 0;
      if (existing === opts.scale && !opts.reset) return `tpcb ready: already loaded at scale ${existing}`;
      const foreign = TABLES.filter((t) => owners.get(t) === 'foreign');
      if (foreign.length > 0) {
        const keep = existing > 0 ? `, or init at scale ${existing} (what they hold) to use them as they are` : '';
        throw new Error(
          `tpcb: ${foreign.join(', ')} ${foreign.length === 1 ? 'exists' : 'exist'} but ${foreign.length === 1 ? 'was' : 'were'} not created by aurora-load-test ` +
            `(no '${markerOf('tpcb')}' comment), so init will not drop ${foreign.length === 1 ? 'it' : 'them'}: drop ${foreign.length === 1 ? 'it' : 'them'} yourself${keep}`,
        );
      }
      try {
        await client.query('BEGIN');
        try {
          if (present.length > 0) await long(`DROP TABLE ${present.join(', ')}`);
          for (const ddl of DDL) await client.query(ddl);
          for (const table of TABLES) await markTable(client, 'tpcb', table);
          for (const load of LOAD) await long(load, [opts.scale]);
          for (const key of KEYS) await long(key);
          await long('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
        await long(`VACUUM ANALYZE ${TABLES.join(', ')}`);
      } catch (err) {
        throw timedOut(err, opts.scale);
      }
      const from = existing > 0 ? ` (was scale ${existing})` : '';
      return `tpcb ready: loaded at scale ${opts.scale} (${opts.scale * ACCOUNTS_PER_SCALE} accounts)${from}`;
    } finally {
      // A broken connection fails this too; the caller discards that connection anyway.
      await client.query('RESET statement_timeout').catch(() => undefined);
    }
  });
}

/** A statement timeout during init says which limit was hit and what to do about it. */
function timedOut(err: unknown, scale: number): unknown {
  if ((err as { code?: unknown })?.code !== '57014') return err;
  const limit = Math.round(initStatementTimeoutMs(scale) / 1000);
  return new Error(`tpcb init at scale ${scale} hit its ${limit} s statement timeout: the database is too small or too busy for this scale; load it with pgbench -i -s ${scale} from a host in the VPC (handlers/README.md)`);
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
