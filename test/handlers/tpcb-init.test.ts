import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { expect } from 'chai';
import pg from 'pg';
import { handleCustomResource } from '../../handlers/custom-resource';
import { queryTimeoutMs } from '../../handlers/deadline';
import { createWorker, type Worker } from '../../handlers/worker';
import { LocalCluster } from '../../trigger/local/cluster';
import { projectCatalog } from '../../handlers/workloads/project';
import { INIT_TIMEOUT, tpcbBalances } from '../../handlers/workloads/tpcb';
import { CapturedLog, MemorySink, body, configFor, context, sqsEvent, totalsOf } from '../helpers/worker-fixture';

const TABLES = ['pgbench_accounts', 'pgbench_branches', 'pgbench_history', 'pgbench_tellers'];

describe('tpcb init: pgbench\'s tables, scale changes, tables this project did not create, and its own timeout', function () {
  this.timeout(120_000);
  let cluster: LocalCluster;
  let worker: Worker;
  let writer: pg.Client;

  before(async () => {
    cluster = await LocalCluster.start();
    worker = createWorker({ config: configFor(cluster, { statementTimeoutMs: 100, poolMax: 1 }), catalog: projectCatalog(), sink: new MemorySink(), logger: new CapturedLog().logger });
    writer = new pg.Client({ ...cluster.writer, user: cluster.user, password: cluster.password, database: cluster.database });
    await writer.connect();
  });

  after(async () => {
    await writer?.end();
    await worker?.close();
    await cluster?.stop();
  });

  const branches = async (): Promise<number> => Number((await writer.query<{ n: string }>('SELECT count(*) AS n FROM pgbench_branches')).rows[0]!.n);
  const dropAll = async (): Promise<void> => { await writer.query(`DROP TABLE IF EXISTS ${TABLES.join(', ')}`); };

  it('creates pgbench\'s tables: its columns, primary keys and fillfactor', async () => {
    await dropAll();
    await worker.init('tpcb', { scale: 1 });
    const columns = await writer.query<{ c: string }>(
      `SELECT table_name || '.' || column_name || ' ' || data_type || coalesce('(' || character_maximum_length || ')', '') || CASE WHEN is_nullable = 'NO' THEN ' not null' ELSE '' END AS c
         FROM information_schema.columns WHERE table_name = ANY($1) ORDER BY table_name, ordinal_position`,
      [TABLES],
    );
    // pgbench -i's DDL (src/bin/pgbench/pgbench.c, initCreateTables).
    expect(columns.rows.map((r) => r.c)).to.deep.equal([
      'pgbench_accounts.aid integer not null', 'pgbench_accounts.bid integer', 'pgbench_accounts.abalance integer', 'pgbench_accounts.filler character(84)',
      'pgbench_branches.bid integer not null', 'pgbench_branches.bbalance integer', 'pgbench_branches.filler character(88)',
      'pgbench_history.tid integer', 'pgbench_history.bid integer', 'pgbench_history.aid integer', 'pgbench_history.delta integer',
      'pgbench_history.mtime timestamp without time zone', 'pgbench_history.filler character(22)',
      'pgbench_tellers.tid integer not null', 'pgbench_tellers.bid integer', 'pgbench_tellers.tbalance integer', 'pgbench_tellers.filler character(84)',
    ]);
    const tables = await writer.query<{ t: string }>(
      `SELECT c.relname || ' ' || coalesce(array_to_string(c.reloptions, ','), '-') || ' ' || coalesce(pg_get_constraintdef(k.oid), '-') AS t
         FROM pg_class c LEFT JOIN pg_constraint k ON k.conrelid = c.oid AND k.contype = 'p' WHERE c.relname = ANY($1) ORDER BY c.relname`,
      [TABLES],
    );
    expect(tables.rows.map((r) => r.t)).to.deep.equal([
      'pgbench_accounts fillfactor=100 PRIMARY KEY (aid)',
      'pgbench_branches fillfactor=100 PRIMARY KEY (bid)',
      'pgbench_history - -',
      'pgbench_tellers fillfactor=100 PRIMARY KEY (tid)',
    ]);
  });

  it('loads pgbench\'s rows: per scale unit one branch, 10 tellers and 100,000 accounts, all at balance 0', async () => {
    await dropAll();
    await worker.init('tpcb', { scale: 1 });
    const { rows } = await writer.query<{ t: string; n: string; bids: string | null; balance: string | null; filler: string | null }>(`
      SELECT 'branches' AS t, count(*) AS n, string_agg(DISTINCT bid::text, ',') AS bids, sum(bbalance) AS balance, string_agg(DISTINCT coalesce(filler, 'null'), ',') AS filler FROM pgbench_branches
      UNION ALL SELECT 'tellers', count(*), string_agg(DISTINCT bid::text, ','), sum(tbalance), string_agg(DISTINCT coalesce(filler, 'null'), ',') FROM pgbench_tellers
      UNION ALL SELECT 'accounts', count(*), string_agg(DISTINCT bid::text, ','), sum(abalance), string_agg(DISTINCT coalesce(trim(filler), 'null'), ',') FROM pgbench_accounts
      UNION ALL SELECT 'history', count(*), NULL, NULL, NULL FROM pgbench_history`);
    expect(rows).to.deep.equal([
      { t: 'branches', n: '1', bids: '1', balance: '0', filler: 'null' },
      { t: 'tellers', n: '10', bids: '1', balance: '0', filler: 'null' },
      // pgbench fills an account's filler with blanks (''), a branch's and a teller's with NULL.
      { t: 'accounts', n: '100000', bids: '1', balance: '0', filler: '' },
      { t: 'history', n: '0', bids: null, balance: null, filler: null },
    ]);
  });

  it('vacuums and analyzes the tables it loaded, as pgbench -i does', async () => {
    await dropAll();
    await worker.init('tpcb', { scale: 1 });
    const { rows } = await writer.query<{ t: string }>(
      "SELECT relname || ' ' || vacuum_count || ' ' || analyze_count AS t FROM pg_stat_user_tables WHERE relname = ANY($1) ORDER BY relname",
      [TABLES],
    );
    expect(rows.map((r) => r.t)).to.deep.equal(TABLES.map((t) => `${t} 1 1`));
  });

  it('keeps its tables when asked for the scale they hold, and reloads them on reset', async () => {
    await dropAll();
    await worker.init('tpcb', { scale: 1 });
    await writer.query('UPDATE pgbench_accounts SET abalance = 5 WHERE aid = 1');
    expect((await worker.init('tpcb', { scale: 1 })).summary).to.equal('tpcb ready: already loaded at scale 1');
    expect((await writer.query('SELECT abalance FROM pgbench_accounts WHERE aid = 1')).rows).to.deep.equal([{ abalance: 5 }]);
    expect((await worker.init('tpcb', { scale: 1, reset: true })).summary).to.equal('tpcb ready: loaded at scale 1 (100000 accounts) (was scale 1)');
    expect((await writer.query('SELECT abalance FROM pgbench_accounts WHERE aid = 1')).rows).to.deep.equal([{ abalance: 0 }]);
  });

  it('names every table it did not create when it refuses, in one line', async () => {
    await dropAll();
    await worker.init('tpcb', { scale: 1 });
    await writer.query('COMMENT ON TABLE pgbench_accounts IS NULL');
    await writer.query("COMMENT ON TABLE pgbench_tellers IS 'mine'");
    const err = await worker.init('tpcb', { scale: 2 }).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.equal(
      "tpcb: pgbench_accounts, pgbench_tellers exist but were not created by aurora-load-test (no 'aurora-load-test:tpcb' comment), so init will not drop them: drop them yourself, or init at scale 1 (what they hold) to use them as they are",
    );
  });

  it('recreates a table of its own that went missing, even at the scale the others hold', async () => {
    await dropAll();
    await worker.init('tpcb', { scale: 1 });
    await writer.query('DROP TABLE pgbench_history');
    expect((await worker.init('tpcb', { scale: 1 })).summary).to.equal('tpcb ready: loaded at scale 1 (100000 accounts)');
    expect((await writer.query<{ n: string }>('SELECT count(*) AS n FROM pgbench_history')).rows[0]!.n).to.equal('0');
  });

  it('keeps the tables it had when a reload runs out of time, and says which limit it hit and what to do', async () => {
    await dropAll();
    await worker.init('tpcb', { scale: 1 });
    // A budget of 1 s whatever the scale, so that loading 5,000,000 accounts runs out of it.
    const budget = INIT_TIMEOUT as { -readonly [K in keyof typeof INIT_TIMEOUT]: number };
    const saved = { ...budget };
    Object.assign(budget, { baseMs: 1000, measuredMsPerScale: 0 });
    try {
      const err = await worker.init('tpcb', { scale: 50 }).then(() => undefined, (e: Error) => e);
      expect(err?.message).to.equal(
        'tpcb init at scale 50 hit its 1 s statement timeout: the database is too small or too busy for this scale; load it with pgbench -i -s 50 from a host in the VPC (handlers/README.md)',
      );
    } finally {
      Object.assign(budget, saved);
    }
    expect(await branches()).to.equal(1);
    expect((await worker.init('tpcb', { scale: 1 })).summary).to.equal('tpcb ready: already loaded at scale 1');
  });

  it('passes on a reload\'s failure that is not a timeout as it is', async () => {
    await dropAll();
    await worker.init('tpcb', { scale: 1 });
    // Someone's view over the accounts: the reload's DROP TABLE cannot go ahead.
    await writer.query('CREATE VIEW rich AS SELECT aid FROM pgbench_accounts WHERE abalance > 1000');
    try {
      const err = await worker.init('tpcb', { scale: 2 }).then(() => undefined, (e: Error) => e);
      expect(err?.message).to.equal('cannot drop desired object(s) because other objects depend on them');
      expect(await branches()).to.equal(1);
    } finally {
      await writer.query('DROP VIEW rich');
    }
  });

  it('sums TPC-B\'s balances, which tpcb transactions keep equal to the history\'s total', async () => {
    await dropAll();
    await worker.init('tpcb', { scale: 1 });
    const load = createWorker({ config: configFor(cluster), catalog: projectCatalog(), sink: new MemorySink(), logger: new CapturedLog().logger });
    try {
      const res = await load.handle(sqsEvent([body({ kind: 'statements', workload: 'tpcb', op: 'tpcb', count: 20 })]), context);
      expect(res.batchItemFailures).to.deep.equal([]);
    } finally {
      await load.close();
    }
    const b = await tpcbBalances(writer);
    expect(b.historyRows).to.equal(20);
    expect([b.accounts, b.tellers, b.branches]).to.deep.equal([b.history, b.history, b.history]);
    const { rows } = await writer.query<{ n: string }>('SELECT sum(delta) AS n FROM pgbench_history');
    expect(b.history).to.equal(Number(rows[0]!.n));
  });

  it('asks for init when a tpcb script runs before its tables exist', async () => {
    await dropAll();
    const log = new CapturedLog();
    const load = createWorker({ config: configFor(cluster), catalog: projectCatalog(), sink: new MemorySink(), logger: log.logger });
    try {
      await load.handle(sqsEvent([body({ kind: 'statements', workload: 'tpcb', op: 'tpcb', count: 1 })]), context);
    } finally {
      await load.close();
    }
    expect(log.entries().filter((e) => e.msg === 'message failed').map((e) => e.error)).to.deep.equal(["tpcb's tables are missing or empty: run init for workload tpcb first"]);
  });

  it('loads under its own statement timeout, not the load\'s', async () => {
    await dropAll();
    // Loading 300,000 accounts takes far longer than the load's 100 ms.
    expect((await worker.init('tpcb', { scale: 3 })).summary).to.equal('tpcb ready: loaded at scale 3 (300000 accounts)');
  });

  it('waits for a load step longer than the load\'s client-side query timeout: init has its own', async () => {
    await dropAll();
    await worker.init('tpcb', { scale: 1 });
    // Another session holds a lock the reload's DROP TABLE must wait for.
    const blocker = new pg.Client({ ...cluster.writer, user: cluster.user, password: cluster.password, database: cluster.database });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE pgbench_accounts IN ACCESS SHARE MODE');
      const reload = worker.init('tpcb', { scale: 2 }).then((r) => r.summary, (e: Error) => e);
      // Until the DROP has waited longer than the load's query timeout (100 ms + 2 s) would allow.
      const waitedMs = queryTimeoutMs(100) + 500;
      for (;;) {
        const { rows } = await writer.query<{ n: string }>(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE 'DROP TABLE%' AND wait_event_type = 'Lock' AND now() - query_start > $1 * interval '1 millisecond'",
          [waitedMs],
        );
        if (rows[0]!.n === '1') break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await blocker.query('COMMIT');
      expect(await reload).to.equal('tpcb ready: loaded at scale 2 (200000 accounts) (was scale 1)');
    } finally {
      await blocker.end();
    }
  });

  it('gives the connection the load\'s statement timeout back after init', async () => {
    await worker.init('tpcb', { scale: 1 });
    // The seed tables, big enough that its join + GROUP BY takes longer than 100 ms.
    const setup = createWorker({ config: configFor(cluster), catalog: projectCatalog(), sink: new MemorySink(), logger: new CapturedLog().logger });
    try {
      await setup.init('seed');
    } finally {
      await setup.close();
    }
    await writer.query('INSERT INTO transactions (type, date, quantity, price) SELECT i % 10 + 1, now(), 1, 1 FROM generate_series(1, 1000000) AS i');
    // poolMax 1: the writer pool's only connection is the one init ran on.
    const sink = new MemorySink();
    const load = createWorker({ config: configFor(cluster, { statementTimeoutMs: 100, poolMax: 1 }), catalog: projectCatalog(), sink, logger: new CapturedLog().logger });
    try {
      await load.init('tpcb', { scale: 2 });
      const res = await load.handle(sqsEvent([body({ kind: 'statements', op: 'select', count: 1, target: 'writer' })]), context);
      expect(res.batchItemFailures).to.have.length(1);
      expect(Object.keys(totalsOf(sink.invocations[0]!.series[0]!).errors)).to.deep.equal(['57']);
    } finally {
      await load.close();
      await writer.query('TRUNCATE transactions');
    }
  });

  it('reloads its own tables when asked for another scale, without reset', async () => {
    await dropAll();
    await worker.init('tpcb', { scale: 1 });
    const { summary } = await worker.init('tpcb', { scale: 2 });
    expect(summary).to.equal('tpcb ready: loaded at scale 2 (200000 accounts) (was scale 1)');
    expect(await branches()).to.equal(2);
  });

  it('marks every table it creates as this project\'s', async () => {
    await dropAll();
    await worker.init('tpcb', { scale: 1 });
    const { rows } = await writer.query<{ comment: string }>('SELECT obj_description(to_regclass(t), \'pg_class\') AS comment FROM unnest($1::text[]) AS t', [TABLES]);
    expect(rows.map((r) => r.comment)).to.deep.equal(TABLES.map(() => 'aurora-load-test:tpcb'));
  });

  it('never drops a table it did not create: refuses a reload in one line naming it and what to do', async () => {
    await dropAll();
    await worker.init('tpcb', { scale: 1 });
    await writer.query('COMMENT ON TABLE pgbench_accounts IS NULL');
    const err = await worker.init('tpcb', { scale: 2 }).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.equal(
      "tpcb: pgbench_accounts exists but was not created by aurora-load-test (no 'aurora-load-test:tpcb' comment), so init will not drop it: drop it yourself, or init at scale 1 (what they hold) to use them as they are",
    );
    expect(await branches()).to.equal(1);
    expect(Number((await writer.query<{ n: string }>('SELECT count(*) AS n FROM pgbench_accounts')).rows[0]!.n)).to.equal(100_000);
  });

  it('refuses reset on tables it did not create', async () => {
    await dropAll();
    await writer.query('CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22))');
    await writer.query('INSERT INTO pgbench_history (tid) VALUES (42)');
    const err = await worker.init('tpcb', { scale: 1, reset: true }).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/^tpcb: pgbench_history exists but was not created by aurora-load-test .* drop it yourself$/);
    expect(Number((await writer.query<{ n: string }>('SELECT count(*) AS n FROM pgbench_history')).rows[0]!.n)).to.equal(1);
  });

  it('reloads on the schema custom resource\'s Update with a changed Scale, keeping its physical id', async () => {
    await dropAll();
    const event = (type: 'Create' | 'Update', scale: string) => ({
      RequestType: type, ServiceToken: 'arn', ResponseURL: 'https://example.com', StackId: 'stack', RequestId: 'r', LogicalResourceId: 'SchemaTpcb',
      ResourceType: 'Custom::WorkloadSchema', ResourceProperties: { ServiceToken: 'arn', Workload: 'tpcb', Scale: scale },
      ...(type === 'Update' ? { PhysicalResourceId: 'workload-tpcb', OldResourceProperties: { ServiceToken: 'arn', Workload: 'tpcb', Scale: '1' } } : {}),
    }) as CloudFormationCustomResourceEvent;
    expect(await handleCustomResource(worker, event('Create', '1'))).to.deep.equal({ PhysicalResourceId: 'workload-tpcb', Data: { Summary: 'tpcb ready: loaded at scale 1 (100000 accounts)' } });
    expect(await handleCustomResource(worker, event('Update', '2'))).to.deep.equal({
      PhysicalResourceId: 'workload-tpcb', Data: { Summary: 'tpcb ready: loaded at scale 2 (200000 accounts) (was scale 1)' },
    });
    expect(await branches()).to.equal(2);
  });

  it('uses tables it did not create as they are when they hold the scale asked for', async () => {
    await dropAll();
    await worker.init('tpcb', { scale: 1 });
    for (const table of TABLES) await writer.query(`COMMENT ON TABLE ${table} IS NULL`);
    expect((await worker.init('tpcb', { scale: 1 })).summary).to.equal('tpcb ready: already loaded at scale 1');
  });
});
