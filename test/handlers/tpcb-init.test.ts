import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { expect } from 'chai';
import pg from 'pg';
import { handleCustomResource } from '../../handlers/custom-resource';
import { queryTimeoutMs } from '../../handlers/deadline';
import { createWorker, type Worker } from '../../handlers/worker';
import { LocalCluster } from '../../trigger/local/cluster';
import { projectCatalog } from '../../handlers/workloads/project';
import { CapturedLog, MemorySink, body, configFor, context, sqsEvent, totalsOf } from '../helpers/worker-fixture';

const TABLES = ['pgbench_accounts', 'pgbench_branches', 'pgbench_history', 'pgbench_tellers'];

describe('tpcb init: scale changes, tables this project did not create, and its own timeout', function () {
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
