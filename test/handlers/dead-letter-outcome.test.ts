import { expect } from 'chai';
import type { SQSEvent } from 'aws-lambda';
import { EVENT_SOURCE_DEFAULTS } from '../../handlers/event-source';
import type { MessageFacts } from '../../handlers/metrics/types';
import type { RetryRequest } from '../../handlers/redelivery';
import { createWorker, type Worker } from '../../handlers/worker';
import { projectCatalog } from '../../handlers/workloads/project';
import { freePort } from '../../trigger/local/free-port';
import { localWorkerConfig } from '../../trigger/local/worker-config';
import { body, CapturedLog, context, MemorySink, sqsEvent } from '../helpers/worker-fixture';

/**
 * A message that fails on its last receive goes to the dead-letter queue; the worker counts it for
 * the message's own run, so a run's dead letters never include another run's. The database is a
 * port where nothing listens: every statements message fails.
 */
describe('worker: the dead-letter outcome of a message that fails on its last receive', () => {
  const max = EVENT_SOURCE_DEFAULTS.maxReceiveCount;
  let sink: MemorySink;
  let retried: RetryRequest[];
  let w: Worker;

  beforeEach(async () => {
    const endpoint = { host: '127.0.0.1', port: await freePort() };
    sink = new MemorySink();
    retried = [];
    const config = { ...localWorkerConfig({ writer: endpoint, reader: endpoint, user: 'u', password: 'p', database: 'd', maxReceiveCount: max }), metricNamespace: 'Test' };
    w = createWorker({ config, catalog: projectCatalog(), sink, logger: new CapturedLog().logger, redelivery: { retry: async (r) => { retried.push(...r); } } });
  });
  afterEach(async () => {
    await w.close();
  });

  /** One message received for the `receive`-th time. */
  function onReceive(messageBody: string, receive: number): SQSEvent {
    const e = sqsEvent([messageBody]);
    e.Records[0]!.attributes.ApproximateReceiveCount = String(receive);
    return e;
  }
  const factsOf = (runId: string): MessageFacts | undefined => sink.invocations.at(-1)!.messages.find((m) => m.runId === runId);

  it('counts a message that fails on its last receive as dead-lettered, under its own run id, and hands it back at once', async () => {
    const res = await w.handle(onReceive(body({ kind: 'statements', op: 'select', count: 1 }, 'run-dl'), max), context);
    expect(res.batchItemFailures).to.have.length(1);
    expect(factsOf('run-dl')).to.deep.include({ failed: 1, deadLettered: 1 });
    expect(retried.map((r) => r.delaySeconds)).to.deep.equal([0]);
  });

  it('does not count a failure before the last receive: the message comes back after its backoff', async () => {
    await w.handle(onReceive(body({ kind: 'statements', op: 'select', count: 1 }, 'run-dl'), 2), context);
    expect(factsOf('run-dl')).to.deep.include({ failed: 1, deadLettered: 0 });
    expect(retried.map((r) => r.delaySeconds)).to.deep.equal([15]);
  });

  it('counts an unreadable message on its last receive under run id "unknown"', async () => {
    await w.handle(onReceive('{"v":1,"kind":', max), context);
    expect(factsOf('unknown')).to.deep.include({ invalid: 1, deadLettered: 1 });
  });
});
