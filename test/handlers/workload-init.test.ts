import { expect } from 'chai';
import pg from 'pg';
import { LocalCluster } from '../../trigger/local/cluster';
import { buildCatalog, type Workload } from '../../handlers/workloads/catalog';
import { initWorkload } from '../../handlers/workloads/init';

const CATALOG = buildCatalog({
  'shop/init.sql': 'CREATE TABLE IF NOT EXISTS item (id int PRIMARY KEY, stock int);\nINSERT INTO item VALUES (1, 10) ON CONFLICT DO NOTHING;\n',
  'shop/lookup.sql': 'SELECT * FROM item WHERE id = 1;',
  // The error is at the last character of line 3.
  'broken/init.sql': 'CREATE TABLE half (a int);\n-- the next statement fails\nUPDATE half SET a = b\nWHERE true;\n',
  'broken/ping.sql': 'SELECT 1;',
  'bare/ping.sql': 'SELECT 1;',
});
const workload = (name: string): Workload => CATALOG.get(name)!;
const OPTS = { scale: 1, reset: false };

describe('a script workload\'s init.sql', function () {
  this.timeout(120_000);
  let cluster: LocalCluster;
  let client: pg.Client;
  const connect = async (): Promise<pg.Client> => {
    const c = new pg.Client({ ...cluster.writer, user: cluster.user, password: cluster.password, database: cluster.database });
    await c.connect();
    return c;
  };
  const exists = async (table: string): Promise<boolean> =>
    (await client.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [table])).rows[0]!.present;

  before(async () => {
    cluster = await LocalCluster.start();
    client = await connect();
  });

  after(async () => {
    await client?.end();
    await cluster?.stop();
  });

  it('runs init.sql on the writer, and again without harm', async () => {
    expect(await initWorkload(client, workload('shop'), OPTS)).to.equal('shop ready: init.sql ran');
    expect(await initWorkload(client, workload('shop'), OPTS)).to.equal('shop ready: init.sql ran');
    expect((await client.query('SELECT id, stock FROM item')).rows).to.deep.equal([{ id: 1, stock: 10 }]);
  });

  it('says a workload without init.sql is ready as it is', async () => {
    expect(await initWorkload(client, workload('bare'), OPTS)).to.equal('bare ready: it has no init.sql');
  });

  it('reports a failing statement by its file and line, and keeps none of the statements before it', async () => {
    const err = await initWorkload(client, workload('broken'), OPTS).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.equal('workloads/broken/init.sql:3: column "b" does not exist');
    expect(await exists('half')).to.equal(false);
  });

  it('waits for another init of the same workload to finish before it starts', async () => {
    await client.query('DROP TABLE IF EXISTS item');
    const other = await connect();
    try {
      // What a concurrent init (another deploy, or the CLI) holds while it runs.
      await other.query('SELECT pg_advisory_lock(hashtext($1))', ['aurora-load-test:init:shop']);
      let settled = false;
      const init = initWorkload(client, workload('shop'), OPTS).finally(() => { settled = true; });
      // Until it waits for the lock (or, were it not to wait, until it has finished).
      while (!settled) {
        const { rows } = await other.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'");
        if (rows[0]!.n === '1') break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect((await other.query<{ present: boolean }>("SELECT to_regclass('item') IS NOT NULL AS present")).rows[0]!.present).to.equal(false);
      await other.query('SELECT pg_advisory_unlock(hashtext($1))', ['aurora-load-test:init:shop']);
      expect(await init).to.equal('shop ready: init.sql ran');
    } finally {
      await other.end();
    }
  });

  it('lets the next init of the workload run after one has failed', async () => {
    await initWorkload(client, workload('broken'), OPTS).catch(() => undefined);
    // From another connection: the one that failed could take its own lock again.
    const other = await connect();
    try {
      const err = await initWorkload(other, workload('broken'), OPTS).then(() => undefined, (e: Error) => e);
      expect(err?.message).to.equal('workloads/broken/init.sql:3: column "b" does not exist');
    } finally {
      await other.end();
    }
  });
});
