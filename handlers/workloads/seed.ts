import type pg from 'pg';
import { randomInt, withInitLock, type WorkloadImpl } from './types';

/**
 * The 2019 sample's workload, kept exactly: its DDL, its INSERT of one random transaction and its
 * SELECT joining type and transactions with a GROUP BY.
 */
const DDL = [
  'CREATE TABLE IF NOT EXISTS transactions (id serial, type int, date date, quantity int, price double precision)',
  'CREATE TABLE IF NOT EXISTS type (id int, name text)',
];

const INSERT = 'INSERT INTO transactions (type, date, quantity, price) VALUES ($1, $2, $3, $4)';

const SELECT = `SELECT type.name, count(*) AS transactions, sum(transactions.quantity * transactions.price) AS revenue
FROM transactions JOIN type ON type.id = transactions.type
GROUP BY type.name`;

const DAY_MS = 86_400_000;

function randomDate(): string {
  return new Date(Date.now() - randomInt(0, 364) * DAY_MS).toISOString().slice(0, 10);
}

async function init(client: pg.ClientBase, opts: { reset: boolean }): Promise<string> {
  return withInitLock(client, 'seed', async () => {
    await client.query('BEGIN');
    try {
      if (opts.reset) await client.query('DROP TABLE IF EXISTS transactions, type');
      for (const ddl of DDL) await client.query(ddl);
      const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM type');
      if (Number(rows[0]!.n) === 0) {
        await client.query("INSERT INTO type (id, name) SELECT i, 'type ' || i FROM generate_series(1, 10) AS i");
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM transactions');
    return `seed ready: tables transactions (${rows[0]!.n} rows) and type (10 rows)`;
  });
}

export const seed: WorkloadImpl = {
  init,
  ops: {
    insert: async (client) => {
      await client.query({
        name: 'seed.insert',
        text: INSERT,
        values: [randomInt(1, 10), randomDate(), randomInt(1, 100), randomInt(1, 100_000) / 100],
      });
    },
    select: async (client) => {
      await client.query({ name: 'seed.select', text: SELECT });
    },
  },
};
