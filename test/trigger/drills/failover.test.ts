import { DBClusterNotFoundFault, DescribeDBClustersCommand, FailoverDBClusterCommand, InvalidDBClusterStateFault, RDSClient } from '@aws-sdk/client-rds';
import { expect } from 'chai';
import { mockClient } from 'aws-sdk-client-mock';
import { awsFailover, runLocalFailoverDrill, scheduleFailover } from '../../../trigger/drills/failover';
import { DrillError } from '../../../trigger/drills/load';
import { LocalEngine } from '../../../trigger/local/engine';
import { FakeClock } from '../helpers/fake-clock';

const cluster = (status: string, writer: string) => ({
  DBClusters: [{
    DBClusterIdentifier: 'loadtest-db', Status: status,
    DBClusterMembers: [
      { DBInstanceIdentifier: 'db-a', IsClusterWriter: writer === 'db-a' },
      { DBInstanceIdentifier: 'db-b', IsClusterWriter: writer === 'db-b' },
    ],
  }],
});

/** The error a promise rejects with; fails the test when it resolves. */
async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(() => expect.fail('expected a rejection'), (e: unknown) => e as Error);
}

describe('drills: failover (AWS, RDS mocked)', () => {
  const rds = mockClient(RDSClient);
  beforeEach(() => rds.reset());

  it('calls FailoverDBCluster on the cluster and waits until it is available with a new writer', async () => {
    rds.on(DescribeDBClustersCommand)
      .resolvesOnce(cluster('available', 'db-a'))
      .resolvesOnce(cluster('failing-over', 'db-a'))
      .resolvesOnce(cluster('available', 'db-a'))
      .resolves(cluster('available', 'db-b'));
    rds.on(FailoverDBClusterCommand).resolves({});
    const clock = new FakeClock(1_000_000);
    const event = await awsFailover({ client: new RDSClient({ region: 'us-east-1' }), dbClusterIdentifier: 'loadtest-db', targetDbInstanceIdentifier: 'db-b', pollMs: 2000, clock })();
    expect(rds.commandCalls(FailoverDBClusterCommand)[0]!.args[0].input).to.deep.equal({ DBClusterIdentifier: 'loadtest-db', TargetDBInstanceIdentifier: 'db-b' });
    expect(event).to.deep.equal({ kind: 'aws', startedAt: 1_000_000, completedAt: 1_006_000, from: 'db-a', to: 'db-b' });
  });

  it('refuses a cluster that is not available, without failing it over', async () => {
    rds.on(DescribeDBClustersCommand).resolves(cluster('modifying', 'db-a'));
    const err = await rejection(awsFailover({ client: new RDSClient({ region: 'us-east-1' }), dbClusterIdentifier: 'loadtest-db', clock: new FakeClock() })());
    expect(err).to.be.instanceOf(DrillError).with.property('message').that.matches(/is modifying, not available/);
    expect(rds.commandCalls(FailoverDBClusterCommand)).to.have.length(0);
  });

  it('turns AWS errors into one line that says what to check', async () => {
    rds.on(DescribeDBClustersCommand).rejects(new DBClusterNotFoundFault({ message: 'DBCluster nope not found.', $metadata: {} }));
    const notFound = await rejection(awsFailover({ client: new RDSClient({ region: 'us-east-1' }), dbClusterIdentifier: 'nope', clock: new FakeClock() })());
    expect(notFound.message).to.match(/^failover of nope failed: DBClusterNotFoundFault: .*check the cluster identifier/);
    expect(notFound.message).not.to.include('\n');

    rds.reset();
    rds.on(DescribeDBClustersCommand).resolves(cluster('available', 'db-a'));
    rds.on(FailoverDBClusterCommand).rejects(new InvalidDBClusterStateFault({ message: 'Cluster has no reader.', $metadata: {} }));
    const noReader = await rejection(awsFailover({ client: new RDSClient({ region: 'us-east-1' }), dbClusterIdentifier: 'loadtest-db', clock: new FakeClock() })());
    expect(noReader).to.be.instanceOf(DrillError);
    expect(noReader.message).to.match(/InvalidDBClusterStateFault: Cluster has no reader\.; the cluster needs a reader instance to fail over to/);
  });

  it('gives up waiting after the timeout, saying where the cluster stands', async () => {
    rds.on(DescribeDBClustersCommand).resolvesOnce(cluster('available', 'db-a')).resolves(cluster('failing-over', 'db-a'));
    rds.on(FailoverDBClusterCommand).resolves({});
    const err = await rejection(awsFailover({ client: new RDSClient({ region: 'us-east-1' }), dbClusterIdentifier: 'loadtest-db', pollMs: 1000, timeoutMs: 10_000, clock: new FakeClock() })());
    expect(err.message).to.match(/had not finished failing over after 10 s \(status failing-over, writer db-a\)/);
  });

  it('schedules the failover for its moment, and not at all once interrupted', async () => {
    const clock = new FakeClock(5_000);
    const event = await scheduleFailover(async () => ({ kind: 'local', startedAt: clock.now(), completedAt: clock.now() }), 8_500, { clock });
    expect(event?.startedAt).to.equal(8_500);
    const controller = new AbortController();
    controller.abort();
    let ran = false;
    const none = await scheduleFailover(async () => { ran = true; return { kind: 'local', startedAt: 0, completedAt: 0 }; }, 20_000, { clock, signal: controller.signal });
    expect(none).to.equal(undefined);
    expect(ran).to.equal(false);
  });
});

describe('drills: failover on the local engine (end to end)', function () {
  this.timeout(120_000);
  let engine: LocalEngine;

  before(async () => {
    engine = await LocalEngine.start({ failoverEndpoints: true, visibilityTimeoutMs: 60_000 });
    await engine.init('seed');
  });
  after(async () => {
    await engine?.stop();
  });

  it('promotes the standby under load and reports the downtime, the errors by class and the return to the target rate', async () => {
    const rate = 300;
    const r = await runLocalFailoverDrill({
      engine, rate, durationMs: 8_000, failoverAtMs: 3_000, leadMs: 500,
      // Half writes, so the short local outage reliably meets some.
      mix: [{ op: 'select', weight: 1 }, { op: 'insert', weight: 1 }],
    });
    const a = r.analysis!;
    expect(r.failover).to.include({ kind: 'local' });
    expect(r.failover!.to).not.to.equal(r.failover!.from);
    expect(a.writes.downtimeMs).to.be.greaterThan(0).and.lessThan(30_000);
    expect(a.writes.failedStatements).to.be.greaterThan(0);
    // Reads move too (their endpoint is cut over), but may not meet a failure: no bound below.
    expect(a.reads.downtimeMs).to.be.at.least(0).and.lessThan(30_000);
    const classes = Object.keys(a.errorsBySqlstateClass);
    expect(classes).not.to.be.empty;
    for (const c of classes) expect(c, 'every error has an SQLSTATE class').to.match(/^[0-9A-Z]{2}$/);
    expect(a.recoveredToTargetAfterMs).to.be.a('number').and.lessThan(5_000);
    expect(a.baselineRate).to.be.closeTo(rate, rate * 0.1);
    // Writes after the failover went to the promoted server, which answers as a primary.
    const writes = r.summary.operations.find((o) => o.op === 'insert')!;
    expect(writes.ok).to.be.greaterThan(0.9 * (rate / 2) * 8);
  });
});
