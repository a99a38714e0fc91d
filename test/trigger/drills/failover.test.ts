import { DBClusterNotFoundFault, DescribeDBClustersCommand, FailoverDBClusterCommand, InvalidDBClusterStateFault, RDSClient } from '@aws-sdk/client-rds';
import { expect } from 'chai';
import { mockClient } from 'aws-sdk-client-mock';
import { DrillError, runAt } from '../../../trigger/drills/drill';
import { awsFailoverDrill, localFailoverDrill } from '../../../trigger/drills/failover';
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

const live = new AbortController().signal;

describe('drills: failover (AWS, RDS mocked)', () => {
  const rds = mockClient(RDSClient);
  beforeEach(() => rds.reset());
  after(() => rds.restore());
  const drill = (clock: FakeClock, extra: { pollMs?: number; timeoutMs?: number; id?: string } = {}) => awsFailoverDrill({
    client: new RDSClient({ region: 'us-east-1' }), dbClusterIdentifier: extra.id ?? 'loadtest-db', atMs: 1_000, clock,
    ...(extra.pollMs !== undefined ? { pollMs: extra.pollMs } : {}), ...(extra.timeoutMs !== undefined ? { timeoutMs: extra.timeoutMs } : {}),
  });

  it('calls FailoverDBCluster on the cluster and waits until it is available with a new writer', async () => {
    rds.on(DescribeDBClustersCommand)
      .resolvesOnce(cluster('available', 'db-a'))
      .resolvesOnce(cluster('failing-over', 'db-a'))
      .resolvesOnce(cluster('available', 'db-a'))
      .resolves(cluster('available', 'db-b'));
    rds.on(FailoverDBClusterCommand).resolves({});
    const event = await drill(new FakeClock(1_000_000), { pollMs: 2000 }).cause!(live);
    expect(rds.commandCalls(FailoverDBClusterCommand)[0]!.args[0].input).to.deep.equal({ DBClusterIdentifier: 'loadtest-db' });
    expect(event).to.deep.equal({ startedAt: 1_000_000, completedAt: 1_006_000, from: 'db-a', to: 'db-b' });
  });

  it('refuses a cluster that is not available, without failing it over', async () => {
    rds.on(DescribeDBClustersCommand).resolves(cluster('modifying', 'db-a'));
    const err = await rejection(drill(new FakeClock()).cause!(live));
    expect(err).to.be.instanceOf(DrillError).with.property('message').that.matches(/is modifying, not available/);
    expect(rds.commandCalls(FailoverDBClusterCommand)).to.have.length(0);
  });

  it('turns AWS errors into one line that says what to check', async () => {
    rds.on(DescribeDBClustersCommand).rejects(new DBClusterNotFoundFault({ message: 'DBCluster nope not found.', $metadata: {} }));
    const notFound = await rejection(drill(new FakeClock(), { id: 'nope' }).cause!(live));
    expect(notFound.message).to.match(/^failover of nope failed: DBClusterNotFoundFault: .*check the cluster identifier/);
    expect(notFound.message).not.to.include('\n');

    rds.reset();
    rds.on(DescribeDBClustersCommand).resolves(cluster('available', 'db-a'));
    rds.on(FailoverDBClusterCommand).rejects(new InvalidDBClusterStateFault({ message: 'Cluster has no reader.', $metadata: {} }));
    const noReader = await rejection(drill(new FakeClock()).cause!(live));
    expect(noReader).to.be.instanceOf(DrillError);
    expect(noReader.message).to.match(/InvalidDBClusterStateFault: Cluster has no reader\.; the cluster needs a reader instance to fail over to/);
  });

  it('gives up waiting after the timeout, saying where the cluster stands', async () => {
    rds.on(DescribeDBClustersCommand).resolvesOnce(cluster('available', 'db-a')).resolves(cluster('failing-over', 'db-a'));
    rds.on(FailoverDBClusterCommand).resolves({});
    const err = await rejection(drill(new FakeClock(), { pollMs: 1000, timeoutMs: 10_000 }).cause!(live));
    expect(err.message).to.match(/had not finished failing over after 10 s \(status failing-over, writer db-a\)/);
  });
});

describe('drills: scheduling a fault', () => {
  it('runs the fault at its moment, and not at all once interrupted', async () => {
    const clock = new FakeClock(5_000);
    const at = await runAt(async () => clock.now(), 8_500, clock, live);
    expect(at).to.equal(8_500);
    const controller = new AbortController();
    controller.abort();
    let ran = false;
    const none = await runAt(async () => { ran = true; }, 20_000, clock, controller.signal);
    expect(none).to.equal(undefined);
    expect(ran).to.equal(false);
  });

  it('refuses a local failover without the embedded cluster, and a second one on a promoted cluster', async () => {
    const clock = new FakeClock();
    const failover = async (): Promise<void> => undefined;
    const none = await rejection(localFailoverDrill({ failover, cluster: undefined }, 1_000, clock).cause!(live));
    expect(none.message).to.match(/needs the embedded cluster: do not pass --writer-url\/--reader-url/);
    const twice = await rejection(localFailoverDrill({ failover, cluster: { promoted: true, writer: { port: 1 } } }, 1_000, clock).cause!(live));
    expect(twice.message).to.match(/has already failed over once/);
  });
});
