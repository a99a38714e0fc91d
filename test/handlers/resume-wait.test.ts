import { expect } from 'chai';
import { configFromEnv, ENV } from '../../handlers/config';
import { errorClassOf } from '../../handlers/db/errors';
import { createWorker } from '../../handlers/worker';
import { LocalCluster } from '../../trigger/local/cluster';
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

  it('reads the wait from DB_RESUME_WAIT_MS, which the stack sets for a cluster that may pause', () => {
    const env = { [ENV.writerHost]: 'w', [ENV.readerHost]: 'r', [ENV.secretId]: 's' };
    expect(configFromEnv({ ...env, [ENV.resumeWaitMs]: '30000' }).resumeWaitMs).to.equal(30_000);
    expect(configFromEnv(env).resumeWaitMs).to.equal(undefined);
  });
});
