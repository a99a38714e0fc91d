import { expect } from 'chai';
import { PublishError } from '../../handlers/metrics/cloudwatch-sink';
import { Collector, recordSuccess } from '../../handlers/metrics/collector';
import { PeriodicPublish, PUBLISH_EVERY_MS } from '../../handlers/metrics/periodic-publish';
import type { InvocationMetrics, MetricsSink, PublishOptions } from '../../handlers/metrics/types';
import { FakeClock } from '../trigger/helpers/fake-clock';

const T0 = 1_800_000_000_000;
const quiet = { warn: () => undefined, error: () => undefined };

/**
 * A sink that keeps what it is given, with the time; `failFirst` publishes fail, refused by
 * CloudWatch (nothing stored) or, with `maybeStored`, with an outcome it cannot know.
 */
class RecordingSink implements MetricsSink {
  readonly published: Array<{ at: number; metrics: InvocationMetrics; options: PublishOptions | undefined }> = [];
  constructor(private readonly clock: FakeClock, private failFirst = 0, private readonly maybeStored = false) {}
  async publish(metrics: InvocationMetrics, options?: PublishOptions): Promise<void> {
    if (this.failFirst > 0) {
      this.failFirst -= 1;
      throw this.maybeStored
        ? new PublishError('PutMetricData failed after 1 attempt(s), not sent again: CloudWatch may have stored it: TimeoutError', { nothingStored: false })
        : new PublishError('PutMetricData failed after 10 attempt(s): ThrottlingException: Rate exceeded', { nothingStored: true });
    }
    this.published.push({ at: this.clock.now(), metrics, options });
  }
}

/** Statements in a publish, over every series and second. */
const statementsIn = (m: InvocationMetrics): number => m.series.reduce((n, s) => n + [...s.seconds.values()].reduce((k, b) => k + b.latency.count, 0), 0);
const secondsIn = (m: InvocationMetrics): number[] => m.series.flatMap((s) => [...s.seconds.keys()]);

/** An invocation that records a statement every 100 ms for `ms`, publishing on the way; returns its final metrics. */
async function invocation(clock: FakeClock, sink: MetricsSink, ms: number, phaseMs = 0): Promise<InvocationMetrics> {
  const collector = new Collector();
  const series = collector.op('run-1', 'seed', 'select', 'reader');
  const periodic = new PeriodicPublish(collector, sink, clock, { startedAt: clock.now(), phaseMs, by: clock.now() + 15 * 60_000, log: quiet });
  for (let t = 100; t <= ms; t += 100) {
    await clock.sleep(100);
    recordSuccess(series, 2, 'standby', clock.now());
  }
  await periodic.stop();
  return collector.finish(clock.now());
}

describe('metrics: a long invocation publishes its seconds as they pass', () => {
  it('publishes the seconds that are over once a minute during a 5-minute slice, each statement once, leaving at most a minute for the end', async () => {
    const clock = new FakeClock(T0);
    const sink = new RecordingSink(clock);
    const final = await invocation(clock, sink, 5 * 60_000, 20_000);
    expect(sink.published.map((p) => p.at - T0)).to.deep.equal([80_000, 140_000, 200_000, 260_000]);
    for (const p of sink.published) {
      expect(p.metrics.messages).to.deep.equal([]);
      expect(Math.max(...secondsIn(p.metrics))).to.be.below(Math.floor(p.at / 1000));
    }
    const all = [...sink.published.map((p) => p.metrics), final];
    expect(all.reduce((n, m) => n + statementsIn(m), 0)).to.equal(3_000);
    const seconds = all.flatMap(secondsIn);
    expect(new Set(seconds).size).to.equal(seconds.length);
    expect(secondsIn(final).length).to.be.at.most(PUBLISH_EVERY_MS / 1000 + 1);
  });

  it('leaves an invocation shorter than a minute to its one publish at the end', async () => {
    const clock = new FakeClock(T0);
    const sink = new RecordingSink(clock);
    const final = await invocation(clock, sink, 55_000, 59_000);
    expect(sink.published).to.deep.equal([]);
    expect(statementsIn(final)).to.equal(550);
  });

  it('carries the seconds of a publish that failed in the next one: nothing lost, nothing sent twice', async () => {
    const clock = new FakeClock(T0);
    const sink = new RecordingSink(clock, 1);
    // Publishes at 60 s (refused) and 120 s, which carries the first minute too.
    const final = await invocation(clock, sink, 150_000);
    expect(sink.published).to.have.length(1);
    expect(secondsIn(sink.published[0]!.metrics).length).to.be.greaterThan(60);
    expect(statementsIn(sink.published[0]!.metrics) + statementsIn(final)).to.equal(1_500);
  });

  it('never sends again a publish CloudWatch may have stored: those seconds are not counted twice', async () => {
    const clock = new FakeClock(T0);
    const sink = new RecordingSink(clock, 1, true);
    // Publishes at 60 s (timed out: maybe stored) and 120 s, which carries only the second minute.
    const final = await invocation(clock, sink, 150_000);
    expect(sink.published).to.have.length(1);
    expect(Math.min(...secondsIn(sink.published[0]!.metrics))).to.be.at.least((T0 + 60_000) / 1000);
    expect(statementsIn(sink.published[0]!.metrics) + statementsIn(final)).to.be.below(1_500);
  });

  it('bounds every publish by the invocation\'s deadline', async () => {
    const clock = new FakeClock(T0);
    const sink = new RecordingSink(clock);
    await invocation(clock, sink, 90_000);
    expect(sink.published.map((p) => p.options)).to.deep.equal([{ by: T0 + 15 * 60_000 }]);
  });
});
