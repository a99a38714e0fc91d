import { expect } from 'chai';
import { configFromEnv, ENV } from '../../handlers/config';
import { StaticCredentials } from '../../handlers/db/credentials';
import { errorClassOf } from '../../handlers/db/errors';
import { Pools } from '../../handlers/db/pools';
import { createWorker } from '../../handlers/worker';
import { EndpointProxy } from '../../trigger/local/endpoint-proxy';
import { LocalCluster } from '../../trigger/local/cluster';
import { FakeClock } from '../trigger/helpers/fake-clock';
import { LateListener } from '../helpers/late-listener';
import { projectCatalog } from '../../handlers/workloads/project';
import { CapturedLog, MemorySink, configFor } from '../helpers/worker-fixture';

describe('worker: the first connections wait for a paused cluster to resume (ServerlessMinCapacity=0)', function () {
  this.timeout(120_000);
  let cluster: LocalCluster;
  let late: LateListener;

  before(async () => {
    cluster = await LocalCluster.start();
  });
  beforeEach(async () => {
    late = await LateListener.start(cluster.writer);
  });
  afterEach(async () => {
    await late?.close();
  });
  after(async () => {
    await cluster?.stop();
  });

  /** A worker whose writer is behind the late listener; each connect attempt gives up after 300 ms. */
  const workerBehind = (resumeWaitMs: number) => createWorker({
    config: configFor(cluster, { writer: late.endpoint, connectTimeoutMs: 300, resumeWaitMs }),
    catalog: projectCatalog(),
    sink: new MemorySink(),
    logger: new CapturedLog().logger,
  });

  it('keeps connecting past the connect timeout until the server answers', async () => {
    const worker = workerBehind(60_000);
    try {
      const init = worker.init('seed');
      // One attempt already ran out of time: without the resume wait, init has failed by now.
      await late.abandonedAtLeast(1);
      late.open();
      expect((await init).summary).to.match(/^seed ready/);
    } finally {
      await worker.close();
    }
  });

  it('gives up after the resume wait with one line saying how long it waited and why', async () => {
    const worker = workerBehind(1_000);
    try {
      const err = await worker.init('seed').then(() => undefined, (e: Error) => e);
      expect(err?.message).to.match(new RegExp(
        `^could not connect to 127\\.0\\.0\\.1:${late.endpoint.port} within 1 s, which is longer than a paused Aurora Serverless v2 instance takes to resume: Connection terminated due to connection timeout$`,
      ));
      // Counted as a lost connection (class 08), the class an outage's statements get.
      expect(errorClassOf(err)).to.equal('08');
      // More than one attempt was made (and given up on).
      await late.abandonedAtLeast(2);
    } finally {
      await worker.close();
    }
  });

  it('tries once when no resume wait is configured (clusters that never pause)', async () => {
    const worker = workerBehind(0);
    try {
      const err = await worker.init('seed').then(() => undefined, (e: Error) => e);
      expect(err?.message).to.equal('Connection terminated due to connection timeout');
    } finally {
      await worker.close();
    }
  });

  /** Pools on virtual time: the resume wait's pauses cost nothing, and are recorded. */
  const poolsOn = (clock: FakeClock, resumeWaitMs: number, over: { connectTimeoutMs?: number; poolMax?: number } = {}): Pools =>
    new Pools(configFor(cluster, { resumeWaitMs, ...over }), new StaticCredentials(cluster.user, cluster.password), { warn: () => undefined }, clock);
  /** Nothing listens on port 1: every attempt is refused at once. */
  const refusing = { host: '127.0.0.1', port: 1 };

  it('pauses 250 ms between the first attempts, doubling to at most 2 s, and stops at the resume wait', async () => {
    const clock = new FakeClock();
    const pools = poolsOn(clock, 5_000);
    try {
      await pools.acquire(refusing).then(() => expect.fail('connected to a closed port'), () => undefined);
      // 250 + 500 + 1000 + 2000 ms, then what is left of the 5 s; six attempts in all.
      expect(clock.sleeps).to.deep.equal([250, 500, 1_000, 2_000, 1_250]);
    } finally {
      await pools.close();
    }
  });

  it('counts a resume wait that ended on refused connections as a lost connection (class 08), in one line', async () => {
    const pools = poolsOn(new FakeClock(), 3_000);
    try {
      const err = await pools.acquire(refusing).then(() => undefined, (e: Error) => e);
      expect(err?.message).to.equal(
        'could not connect to 127.0.0.1:1 within 3 s, which is longer than a paused Aurora Serverless v2 instance takes to resume: connect ECONNREFUSED 127.0.0.1:1',
      );
      expect(errorClassOf(err)).to.equal('08');
    } finally {
      await pools.close();
    }
  });

  it('reports a wrong password at once, not after the resume wait: it is no paused cluster', async () => {
    const clock = new FakeClock();
    const pools = new Pools(configFor(cluster, { resumeWaitMs: 60_000 }), new StaticCredentials(cluster.user, 'not-the-password'), { warn: () => undefined }, clock);
    try {
      const err = await pools.acquire(cluster.writer).then(() => undefined, (e: Error) => e);
      expect(errorClassOf(err)).to.equal('28');
      expect(clock.sleeps, 'no pause: no retry').to.deep.equal([]);
    } finally {
      await pools.close();
    }
  });

  it('fails at once, without the resume wait, when the pool already holds a connection (a failover, not a pause)', async () => {
    const proxy = await EndpointProxy.start(cluster.writer);
    const clock = new FakeClock();
    const pools = poolsOn(clock, 60_000, { connectTimeoutMs: 300, poolMax: 2 });
    try {
      const endpoint = { host: proxy.host, port: proxy.port };
      const held = await pools.acquire(endpoint);
      proxy.silence();
      const err = await pools.acquire(endpoint).then(() => undefined, (e: Error) => e);
      held.release();
      expect(err?.message).to.equal('Connection terminated due to connection timeout');
      expect(clock.sleeps, 'no pause: one attempt').to.deep.equal([]);
    } finally {
      await proxy.close();
      await pools.close();
    }
  });

  it('reads the wait from DB_RESUME_WAIT_MS, which the stack sets for a cluster that may pause', () => {
    const env = { [ENV.writerHost]: 'w', [ENV.readerHost]: 'r', [ENV.secretId]: 's' };
    expect(configFromEnv({ ...env, [ENV.resumeWaitMs]: '30000' }).resumeWaitMs).to.equal(30_000);
    expect(configFromEnv(env).resumeWaitMs).to.equal(undefined);
  });
});
