import { expect } from 'chai';
import { mockClient } from 'aws-sdk-client-mock';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { inspect } from 'node:util';
import pg from 'pg';
import { LocalCluster } from '../../trigger/local/cluster';
import { projectCatalog } from '../../handlers/workloads/project';
import { createWorker } from '../../handlers/worker';
import { SecretsManagerCredentials, makeCredentials } from '../../handlers/db/credentials';
import { CapturedLog, MemorySink, body, configFor, context, readerCaughtUp, sqsEvent } from '../helpers/worker-fixture';

describe('worker credentials (Secrets Manager, real PostgreSQL)', function () {
  this.timeout(60_000);
  let cluster: LocalCluster;
  const sm = mockClient(SecretsManagerClient);
  const secret = (password: string, username = cluster.user) => ({ SecretString: JSON.stringify({ username, password, engine: 'postgres' }) });

  before(async () => {
    cluster = await LocalCluster.start();
    const setup = createWorker({ catalog: projectCatalog(), config: configFor(cluster), sink: new MemorySink(), logger: new CapturedLog().logger });
    await setup.init('seed');
    await setup.close();
    // The other user of an alternating-users rotation.
    const admin = new pg.Client({ ...cluster.writer, user: cluster.user, password: cluster.password, database: cluster.database });
    await admin.connect();
    try {
      await admin.query("CREATE ROLE app_b LOGIN PASSWORD 'app-b-password'");
      await admin.query('GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO app_b');
      await admin.query('GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO app_b');
    } finally {
      await admin.end();
    }
    // The tests read on the reader what init just created on the writer.
    await readerCaughtUp(cluster);
  });
  after(async () => {
    sm.restore();
    await cluster?.stop();
  });
  beforeEach(() => sm.reset());

  function workerWith(log: CapturedLog) {
    const creds = new SecretsManagerCredentials('loadtest/db', new SecretsManagerClient({ region: 'us-east-1' }));
    return createWorker({
      catalog: projectCatalog(),
      config: configFor(cluster, { credentials: { kind: 'secretsManager', secretId: 'loadtest/db' } }),
      sink: new MemorySink(), logger: log.logger, credentials: creds,
    });
  }

  it('reads the secret once and reuses it across invocations', async () => {
    sm.on(GetSecretValueCommand).resolves(secret(cluster.password));
    const log = new CapturedLog();
    const worker = workerWith(log);
    for (let i = 0; i < 3; i++) {
      const res = await worker.handle(sqsEvent([body({ kind: 'statements', op: 'select', count: 1 })]), context);
      expect(res.batchItemFailures, log.text).to.deep.equal([]);
    }
    await worker.close();
    expect(sm.commandCalls(GetSecretValueCommand)).to.have.length(1);
  });

  it('re-reads a rotated secret once after an authentication failure, and the message still runs', async () => {
    sm.on(GetSecretValueCommand).resolvesOnce(secret('stale-password-before-rotation')).resolves(secret(cluster.password));
    const log = new CapturedLog();
    const worker = workerWith(log);
    const res = await worker.handle(sqsEvent([body({ kind: 'statements', op: 'select', count: 1 })]), context);
    await worker.close();
    expect(res.batchItemFailures).to.deep.equal([]);
    expect(sm.commandCalls(GetSecretValueCommand)).to.have.length(2);
  });

  it('follows a rotation to the other user of the secret: the pool logs in with the user name read again', async () => {
    sm.on(GetSecretValueCommand).resolvesOnce(secret(cluster.password, 'app_a_rotated_away')).resolves(secret('app-b-password', 'app_b'));
    const worker = workerWith(new CapturedLog());
    const res = await worker.handle(sqsEvent([body({ kind: 'statements', op: 'insert', count: 1 })]), context);
    await worker.close();
    expect(res.batchItemFailures).to.deep.equal([]);
    expect(sm.commandCalls(GetSecretValueCommand)).to.have.length(2);
  });

  it('never writes the secret into logs or error messages, even when authentication keeps failing', async () => {
    const wrong = 'Wr0ng-But-Secret-Value-42';
    sm.on(GetSecretValueCommand).resolves(secret(wrong));
    const log = new CapturedLog();
    const worker = workerWith(log);
    const res = await worker.handle(sqsEvent([body({ kind: 'statements', op: 'select', count: 1 })]), context);
    await worker.close();
    expect(res.batchItemFailures).to.have.length(1);
    expect(log.text).to.include('28P01');
    expect(log.text).not.to.include(wrong);
    expect(log.text).not.to.include(cluster.password);
  });

  it('lets the pools peek at the secret once read, and at nothing after invalidate() until it is read again', async () => {
    sm.on(GetSecretValueCommand).resolvesOnce(secret('first')).resolves(secret('second', 'app_b'));
    const creds = new SecretsManagerCredentials('loadtest/db', new SecretsManagerClient({ region: 'us-east-1' }));
    expect(creds.peek()).to.equal(undefined);
    const reading = creds.get();
    expect(creds.peek(), 'not while the read is on its way').to.equal(undefined);
    await reading;
    expect(creds.peek()?.user).to.equal(cluster.user);
    creds.invalidate();
    expect(creds.peek()).to.equal(undefined);
    await creds.get();
    expect(creds.peek()?.user).to.equal('app_b');
  });

  it('keeps the password out of JSON and inspect output of the credentials', () => {
    const c = makeCredentials('app', 'hunter2-secret');
    expect(JSON.stringify(c)).not.to.include('hunter2');
    expect(inspect(c, { showHidden: false })).not.to.include('hunter2');
    expect(c.password).to.equal('hunter2-secret');
  });
});
