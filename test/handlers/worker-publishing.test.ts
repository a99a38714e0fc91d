import { expect } from 'chai';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { SQSEvent } from 'aws-lambda';
import { RETURN_MARGIN_MS } from '../../handlers/deadline';
import { CloudWatchSink } from '../../handlers/metrics/cloudwatch-sink';
import type { InvocationMetrics, MetricsSink, PublishOptions } from '../../handlers/metrics/types';
import { createWorker, type Worker } from '../../handlers/worker';
import { projectCatalog } from '../../handlers/workloads/project';
import { freePort } from '../../trigger/local/free-port';
import { localWorkerConfig } from '../../trigger/local/worker-config';
import { FakeClock } from '../trigger/helpers/fake-clock';
import { body, CapturedLog, sqsEvent } from '../helpers/worker-fixture';

/** A sink that keeps every publish with the time it came. */
class RecordingSink implements MetricsSink {
  readonly published: Array<{ at: number; metrics: InvocationMetrics; options: PublishOptions | undefined }> = [];
  constructor(private readonly clock: FakeClock) {}
  async publish(metrics: InvocationMetrics, options?: PublishOptions): Promise<void> {
    this.published.push({ at: this.clock.now(), metrics, options });
  }
}

/** Every statement a publish accounts for: succeeded, failed or skipped. */
const accounted = (m: InvocationMetrics): number => m.series.reduce((n, s) => n + [...s.seconds.values()].reduce(
  (k, b) => k + b.latency.count + b.skipped + [...b.errors.values()].reduce((a, x) => a + x, 0), 0), 0);

/**
 * The worker on a fake clock, its database a port where nothing listens: every statement fails at
 * once (class 08), which is all these tests need, since they are about when the worker publishes.
 */
describe('worker: publishing a long invocation, on a fake clock', function () {
  this.timeout(60_000);
  let port: number;
  before(async () => {
    port = await freePort();
  });

  function worker(clock: FakeClock, sink: MetricsSink, log = new CapturedLog()): Worker {
    const endpoint = { host: '127.0.0.1', port };
    const config = { ...localWorkerConfig({ writer: endpoint, reader: endpoint, user: 'u', password: 'p', database: 'd' }), metricNamespace: 'Test' };
    return createWorker({ config, catalog: projectCatalog(), sink, clock, logger: log.logger, random: () => 0.5 });
  }

  function event(fields: Record<string, unknown>, clock: FakeClock): SQSEvent {
    const e = sqsEvent([body(fields)]);
    // Sent now, on the fake clock.
    const b = JSON.parse(e.Records[0]!.body) as Record<string, unknown>;
    e.Records[0]!.body = JSON.stringify({ ...b, sentAt: clock.now() });
    return e;
  }

  it('publishes the seconds that are over during a 3-minute slice, and every scheduled statement once in all', async () => {
    const clock = new FakeClock(Date.now());
    const sink = new RecordingSink(clock);
    const w = worker(clock, sink);
    const startAt = clock.now() + 1_000;
    const context = { awsRequestId: 'r', getRemainingTimeInMillis: () => 15 * 60_000 };
    await w.handle(event({ kind: 'slice', mix: [{ op: 'select', weight: 1 }], rate: 5, durationMs: 180_000, startAt }, clock), context);
    await w.close();
    const during = sink.published.slice(0, -1);
    expect(during.length).to.be.at.least(2);
    expect(during.every((p) => p.at < startAt + 180_000 && p.metrics.messages.length === 0)).to.equal(true);
    const final = sink.published.at(-1)!;
    expect(final.metrics.messages).to.have.length(1);
    expect(sink.published.reduce((n, p) => n + accounted(p.metrics), 0)).to.equal(900);
  });

  it('returns before Lambda\'s deadline when CloudWatch throttles every call, with the lost publish logged', async () => {
    const cw = mockClient(CloudWatchClient);
    try {
      const clock = new FakeClock(Date.now());
      cw.on(PutMetricDataCommand).callsFake(() => { throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }); });
      const sink = new CloudWatchSink('Test', new CloudWatchClient({ region: 'us-east-1' }), { clock, random: () => 0.999 });
      const log = new CapturedLog();
      const w = worker(clock, sink, log);
      const deadline = clock.now() + 20_000;
      const context = { awsRequestId: 'r', getRemainingTimeInMillis: () => deadline - clock.now() };
      await w.handle(event({ kind: 'statements', op: 'select', count: 1 }, clock), context);
      await w.close();
      expect(clock.now()).to.be.at.most(deadline - RETURN_MARGIN_MS);
      expect(cw.commandCalls(PutMetricDataCommand).length).to.be.greaterThan(1);
      expect(log.entries().find((e) => e.msg === 'publishing metrics failed')?.error).to.match(/out of time before the invocation's deadline: ThrottlingException/);
    } finally {
      cw.restore();
    }
  });
});
