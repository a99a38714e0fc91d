import { expect } from 'chai';
import pg from 'pg';
import { createWorker, type Worker } from '../../handlers/worker';
import { buildCatalog } from '../../handlers/workloads/catalog';
import { LocalCluster } from '../../trigger/local/cluster';
import { CapturedLog, MemorySink, body, configFor, context, sqsEvent, totalsOf } from '../helpers/worker-fixture';

/** One script on the writer, so every statement asks its connection's server for its role first. */
const CATALOG = buildCatalog({ 'plain/one.sql': '-- target: writer\nSELECT 1;' });
const ROLE = 'lt_unprivileged';
const PASSWORD = 'unprivileged-password';

/**
 * A worker logs in as a role that is not a superuser (superusers bypass function privileges), on
 * a database whose DBA revoked pg_is_in_recovery() from PUBLIC: the query a new connection runs
 * to learn whether its server is a standby fails, deterministically, on the connection just opened.
 */
describe('a connection that cannot tell whether its server is a standby (pg_is_in_recovery() revoked)', function () {
  this.timeout(120_000);
  let cluster: LocalCluster;
  let admin: pg.Client;
  const workers: Worker[] = [];
  const sink = new MemorySink();
  const log = new CapturedLog();
  const granted = async (yes: boolean): Promise<void> => {
    await admin.query(`${yes ? 'GRANT' : 'REVOKE'} EXECUTE ON FUNCTION pg_is_in_recovery() ${yes ? 'TO' : 'FROM'} PUBLIC`);
  };
  /** A worker with a pool of one connection, logged in as the unprivileged role. */
  const unprivileged = (): Worker => {
    const w = createWorker({ catalog: CATALOG, config: configFor(cluster, { poolMax: 1, credentials: { kind: 'static', user: ROLE, password: PASSWORD } }), sink, logger: log.logger });
    workers.push(w);
    return w;
  };
  const statement = () => sqsEvent([body({ kind: 'statements', workload: 'plain', op: 'one', hash: CATALOG.get('plain')!.scripts.get('one')!.hash, count: 1 })]);
  const last = () => totalsOf(sink.invocations.at(-1)!.series.find((s) => s.op === 'one' && s.target === 'writer')!);

  before(async () => {
    cluster = await LocalCluster.start();
    admin = new pg.Client({ ...cluster.writer, user: cluster.user, password: cluster.password, database: cluster.database });
    await admin.connect();
    await admin.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}'`);
  });
  beforeEach(async () => { await granted(false); });
  afterEach(async () => {
    // Whatever failed: the next test starts from the default grant.
    await granted(true);
    await Promise.all(workers.splice(0).map((w) => w.close()));
  });
  after(async () => {
    await admin?.end();
    await cluster?.stop();
  });

  it('counts the statement as an error of class 42 and logs the server\'s refusal; the message comes back', async () => {
    const event = statement();
    const res = await unprivileged().handle(event, context);
    expect(res.batchItemFailures).to.deep.equal([{ itemIdentifier: event.Records[0]!.messageId }]);
    expect(last()).to.deep.include({ ok: 0, errors: { 42: 1 } });
    const logged = log.entries().find((e) => e.messageId === event.Records[0]!.messageId)!;
    expect(logged.errorClass).to.equal('42');
    expect(logged.error).to.match(/^42501: permission denied for function pg_is_in_recovery/);
  });

  it('runs the next statement once the grant is back: the connection whose role query failed is not handed out again', async () => {
    const worker = unprivileged();
    expect((await worker.handle(statement(), context)).batchItemFailures).to.have.length(1);
    await granted(true);
    // The pool holds one connection: a reused one would fail again on the answer it failed with.
    const res = await worker.handle(statement(), context);
    expect(res.batchItemFailures).to.deep.equal([]);
    expect(last()).to.deep.include({ ok: 1, errors: {}, answeredBy: { primary: 1 } });
  });
});
