import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { expect } from 'chai';
import { EVENT_SOURCE_DEFAULTS, SCALE_UP_DEFAULTS } from '../../handlers/event-source';
import { DEFAULT_LATE_LIMIT_MS, parseMessage, type SliceMessage } from '../../handlers/protocol/message';
import { dueWithin, plannedCount } from '../../handlers/schedule';
import { LocalPoller } from '../../trigger/local/poller';
import { LocalQueue } from '../../trigger/local/queue';
import { resolveRunOptions } from '../../trigger/options/run-options';
import { buildPlan } from '../../trigger/plan/build';
import { checkFleet, fleetOf, simulate } from '../../trigger/plan/fleet';
import { planSlices, type SlicePlan } from '../../trigger/plan/slice-plan';
import { LocalTransport } from '../../trigger/send/local-transport';
import { Sender } from '../../trigger/send/sender';
import { FakeClock } from './helpers/fake-clock';

const T0 = 1_800_000_000_000;
/** How long an invocation takes after its slice: the last statements and publishing. */
const PUBLISH_MS = 200;

interface Outcome {
  /** Statements the invocations could not start in time, by whether they were due in the load's first minute. */
  skippedFirstMinute: number;
  skippedLater: number;
  /** Statements run (planned minus skipped). */
  ran: number;
  maxInFlight: number;
  /** Invocations whose slice did not fit before their deadline. */
  overran: number;
  /** When the last first slice was received, ms after sending began. */
  lastFirstReceivedMs: number;
  timeouts: number;
}

/**
 * The run through the sender, the queue and the modelled event source on a fake clock, each
 * invocation standing in for the worker: it receives its slice, skips the statements already past
 * the late limit (as the worker's schedule does), holds its invocation until the slice ends, then
 * publishes; a staleness probe message holds its invocation to its end. No database: a simulated
 * 11 minutes take a second or two.
 */
async function runThrough(plan: SlicePlan, maxConcurrency: number): Promise<Outcome> {
  const clock = new FakeClock(T0);
  const queue = new LocalQueue({ now: () => clock.now(), visibilityTimeoutMs: 6 * EVENT_SOURCE_DEFAULTS.functionTimeoutMs });
  let t0 = T0;
  const out: Outcome = { skippedFirstMinute: 0, skippedLater: 0, ran: 0, maxInFlight: 0, overran: 0, lastFirstReceivedMs: 0, timeouts: 0 };
  const handler = async (event: SQSEvent, context: { getRemainingTimeInMillis(): number }): Promise<SQSBatchResponse> => {
    const received = clock.now();
    const parsed = parseMessage(event.Records[0]!.body, received);
    if (parsed.kind === 'probe') {
      // The staleness probe (on by default for a mixed run) holds its invocation to its end and runs no statements.
      const end = Math.max(received, parsed.startAt + parsed.durationMs) + PUBLISH_MS;
      if (end - received > context.getRemainingTimeInMillis()) out.overran++;
      await clock.sleep(end - received);
      return { batchItemFailures: [] };
    }
    const msg = parsed as SliceMessage;
    const n = plannedCount(msg);
    const lateBy = received - (msg.lateLimitMs ?? DEFAULT_LATE_LIMIT_MS) - msg.startAt;
    const skipped = lateBy > 0 ? Math.min(n, Math.ceil(dueWithin(msg, lateBy) - 1e-9)) : 0;
    const loadStart = t0 + plan.startLeadMs;
    const firstMinute = Math.min(skipped, Math.max(0, Math.ceil(dueWithin(msg, loadStart + 60_000 - msg.startAt) - 1e-9)));
    out.skippedFirstMinute += firstMinute;
    out.skippedLater += skipped - firstMinute;
    out.ran += n - skipped;
    if (msg.startAt === loadStart) out.lastFirstReceivedMs = Math.max(out.lastFirstReceivedMs, received - t0);
    const end = Math.max(received, msg.startAt + msg.durationMs) + PUBLISH_MS;
    if (end - received > context.getRemainingTimeInMillis()) out.overran++;
    await clock.sleep(end - received);
    return { batchItemFailures: [] };
  };
  const poller = new LocalPoller(queue, handler, {
    batchSize: EVENT_SOURCE_DEFAULTS.batchSize, maxConcurrency, scaleUp: SCALE_UP_DEFAULTS, clock,
  });
  poller.start();
  await new Sender(plan, new LocalTransport(queue), { clock, onStart: (t) => { t0 = t; } }).run();
  await poller.idle();
  await poller.stop();
  out.maxInFlight = poller.stats.maxInFlight;
  out.timeouts = poller.stats.timeouts;
  return out;
}

describe('a simulated large run: 20,000 statements/s on 200 workers for 10 minutes through the modelled event source', function () {
  this.timeout(120_000);
  const fleet = fleetOf({ maxConcurrency: 1000, poolMax: 4, endpoints: 2, maxConnections: 5000, scaleUp: true });
  const settings = resolveRunOptions({ rate: '20000', duration: '10m', queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/LoadTest-Queue' });

  it('is planned with its first slices sent early enough, and runs every statement: none skipped', async () => {
    const plan = buildPlan(settings, fleet) as SlicePlan;
    expect(plan.workers).to.equal(200);
    const fit = checkFleet(plan, fleet);
    expect(fit.expectedSkipped).to.equal(0);
    const out = await runThrough(plan, 1000);
    expect(out.skippedFirstMinute + out.skippedLater).to.equal(0);
    expect(out.ran).to.equal(plan.statements);
    expect(out.lastFirstReceivedMs, 'every first slice had an invocation before the load began').to.be.at.most(plan.startLeadMs);
    expect(out.maxInFlight).to.be.at.most(fit.peakConcurrency);
    expect(out.overran + out.timeouts).to.equal(0);
  });

  it('sent with only a 5 s lead, skips statements in the first scale-up minute and none after it', async () => {
    const plan = planSlices({ runId: 'short-lead', workload: 'seed', mix: settings.mix, hashes: settings.hashes, rate: 20_000, durationMs: 600_000, rampMs: 0 }, { maxWorkerRate: 100, startLeadMs: 5_000, sliceMs: 300_000 });
    const predicted = simulate(plan, fleet);
    const out = await runThrough(plan, 1000);
    expect(predicted.expectedSkipped, 'the model predicts the scale-up costs statements').to.be.greaterThan(0);
    expect(out.skippedFirstMinute).to.be.greaterThan(0);
    expect(out.skippedLater).to.equal(0);
  });
});
