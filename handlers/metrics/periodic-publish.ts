/**
 * A long invocation publishes its seconds as they pass, not all at its end.
 *
 * Every worker's last slice ends when the load ends, so if each invocation published everything
 * at its end, W workers would send W to 3 x W PutMetricData calls (a long slice needs several)
 * within about a second: 400 to 600 at W = 200, past the account's 500 per second ("CloudWatch
 * service quotas", https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html),
 * and a publish that fails loses that invocation's outcome, which leaves the run incomplete. So
 * an invocation running longer than {@link PUBLISH_EVERY_MS} publishes the seconds that are over
 * about once a minute, each at its own phase (AWS: "Distribute your API calls evenly over time
 * ... Use jitter", "How do I avoid throttling when I call PutMetricData in the CloudWatch API?",
 * https://repost.aws/knowledge-center/cloudwatch-400-error-throttling), and what is left for the
 * end is at most a minute and a bit: one request. An invocation shorter than that publishes once.
 */
import type { Clock } from '../clock';
import type { Collector } from './collector';
import { PublishError } from './cloudwatch-sink';
import type { MetricsSink } from './types';

/** How often a long invocation publishes the seconds that are over. */
export const PUBLISH_EVERY_MS = 60_000;

export interface PeriodicPublishOptions {
  /** Epoch ms the invocation started (its first publish is at least {@link PUBLISH_EVERY_MS} later). */
  readonly startedAt: number;
  /** Where in each period this invocation publishes, ms in [0, PUBLISH_EVERY_MS): chosen at random, so workers do not publish together. */
  readonly phaseMs: number;
  /** Epoch ms by which every publish is over (the invocation's deadline, less the time to return). */
  readonly by: number;
  readonly log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

/**
 * Publishes the collector's finished seconds every {@link PUBLISH_EVERY_MS} (at the invocation's
 * phase) until {@link stop}. A publish that fails is put back into the collector, so the next one
 * (or the final one) carries it: nothing is lost, nothing is sent twice.
 */
export class PeriodicPublish {
  readonly #stop = new AbortController();
  readonly #loop: Promise<void>;

  constructor(private readonly collector: Collector, private readonly sink: MetricsSink, private readonly clock: Clock, private readonly o: PeriodicPublishOptions) {
    this.#loop = this.#run();
  }

  /** Stop publishing; resolves once a publish in progress is over. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { clock, o } = this;
    for (let next = o.startedAt + PUBLISH_EVERY_MS + o.phaseMs; ; next += PUBLISH_EVERY_MS) {
      await clock.sleep(Math.max(0, next - clock.now()), this.#stop.signal);
      if (this.#stop.signal.aborted || clock.now() >= o.by) return;
      const finished = this.collector.takeFinished(clock.now());
      if (!finished) continue;
      try {
        await this.sink.publish(finished, { by: o.by });
      } catch (err) {
        // Sent again only when CloudWatch holds none of it: a datum stored twice is counted twice.
        if (err instanceof PublishError && err.nothingStored) {
          this.collector.putBack(finished);
          o.log.warn({ error: err.message }, 'publishing the finished seconds failed: the next publish carries them');
        } else {
          o.log.error({ error: (err as Error)?.message ?? String(err) }, 'publishing the finished seconds failed, and CloudWatch may hold part of them: not sent again');
        }
      }
    }
  }
}
