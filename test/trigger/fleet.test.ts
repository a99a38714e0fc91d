import { expect } from 'chai';
import { ScaleUpModel, SCALE_UP_DEFAULTS } from '../../handlers/event-source';
import { UsageError } from '../../trigger/errors';
import { resolveRunOptions, type RawRunOptions } from '../../trigger/options/run-options';
import { buildPlan } from '../../trigger/plan/build';
import { checkFleet, fleetOf, peakConcurrency, type Fleet } from '../../trigger/plan/fleet';
import type { SlicePlan } from '../../trigger/plan/slice-plan';

const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/LoadTest-Queue';
const fleet = (over: Partial<Parameters<typeof fleetOf>[0]> = {}): Fleet => fleetOf({ maxConcurrency: 1000, poolMax: 4, endpoints: 2, maxConnections: undefined, scaleUp: true, ...over });
/** The load's own plan: the staleness probe's invocations are counted in a test of their own. */
const plan = (raw: RawRunOptions, f: Fleet = fleet()): SlicePlan => buildPlan(resolveRunOptions({ queueUrl: QUEUE, stalenessProbe: false, ...raw }), f) as SlicePlan;

/** The message a refusal carries; fails the test when nothing is refused. */
function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).to.be.instanceOf(UsageError);
    return (e as Error).message;
  }
  return expect.fail('expected a refusal');
}

describe('fleet: the event source scale-up model', () => {
  it('starts with 5 invocations and adds 300 a minute while messages wait, never above the maximum', () => {
    const m = new ScaleUpModel(SCALE_UP_DEFAULTS, 100);
    expect(m.capacity(0, true)).to.equal(5);
    expect(m.capacity(6_000, true)).to.equal(35);
    expect(m.capacity(60_000, true)).to.equal(100);
  });

  it('grows only while messages wait, and keeps what it reached', () => {
    const m = new ScaleUpModel(SCALE_UP_DEFAULTS, 1000);
    m.capacity(0, true);
    expect(m.capacity(2_000, false)).to.equal(15);
    expect(m.capacity(60_000, true)).to.equal(15);
    expect(m.capacity(61_000, false)).to.equal(20);
  });

  it('runs the maximum at once without the model (--no-scale-up)', () => {
    expect(new ScaleUpModel(null, 40).capacity(0, true)).to.equal(40);
  });
});

describe('fleet: does a plan fit the event source and the database', () => {
  it('holds a few invocations more than W at its peak: one per worker handing over, spread over the slice length', () => {
    const peaks = [10, 100, 200, 500].map((w) => peakConcurrency(plan({ rate: String(w * 100), duration: '20m' })));
    expect(peaks).to.deep.equal([11, 102, 204, 510]);
  });

  it('needs exactly W for a run no longer than one slice: nobody hands over', () => {
    expect(peakConcurrency(plan({ rate: '20000', duration: '5m' }))).to.equal(200);
  });

  it('sends the first slices early enough for the event source to scale up to the peak', () => {
    expect(plan({ rate: '300', duration: '10m' }).startLeadMs, '3 workers: the 5 it starts with are enough').to.equal(5_000);
    // 204 at the peak: (204 - 5) / 300 per minute = 39.8 s, plus a margin.
    expect(plan({ rate: '20000', duration: '10m' }).startLeadMs).to.equal(42_000);
    expect(plan({ rate: '20000', duration: '10m' }, fleet({ scaleUp: false })).startLeadMs).to.equal(5_000);
  });

  it('refuses a --start-lead too short for the scale-up, saying what would do', () => {
    const message = refusal(() => plan({ rate: '20000', duration: '10m', startLead: '5s' }));
    expect(message).to.match(/^--start-lead 5s is too short: the event source needs 40s to scale up from 5 to 204 concurrent invocations/);
    expect(message).to.contain('sent 42s ahead');
    expect(plan({ rate: '20000', duration: '10m', startLead: '1m' }).startLeadMs).to.equal(60_000);
  });

  it('refuses a plan whose peak is over the maximum concurrency, saying how many workers fit', () => {
    const message = refusal(() => checkFleet(plan({ rate: '20000', duration: '10m' }, fleet({ maxConcurrency: 150 })), fleet({ maxConcurrency: 150 })));
    expect(message).to.match(/^plan needs 204 invocations at once at its peak \(200 workers \+ 4 handing over to their next slice\) but the maximum concurrency is 150: about 147 workers fit/);
  });

  it('counts connections by the invocations at the peak, each with a pool per endpoint', () => {
    const p = plan({ rate: '20000', duration: '10m' });
    expect(checkFleet(p, fleet({ maxConnections: 5000 })).connectionsNeeded).to.equal(204 * 4 * 2);
    const message = refusal(() => checkFleet(p, fleet({ maxConnections: 1000 })));
    expect(message).to.match(/^plan needs 204 invocations at the peak x 8 connections .* = 1632, but max_connections is 1000 \(5 kept free\): at most \d+ worker\(s\) fit/);
  });

  it('counts the staleness probe\'s invocation in the peak and the connections, and names it in a refusal', () => {
    const probed = plan({ rate: '20000', duration: '10m', stalenessProbe: true });
    // 200 workers + the probe + 5 handing over: 4 workers, and the probe to its next message.
    expect(peakConcurrency(probed)).to.equal(206);
    expect(checkFleet(probed, fleet({ maxConnections: 5000 })).connectionsNeeded).to.equal(206 * 4 * 2);
    expect(refusal(() => checkFleet(probed, fleet({ maxConcurrency: 150 }))))
      .to.match(/^plan needs 206 invocations at once at its peak \(200 workers \+ 1 staleness probe \+ 5 handing over to their next slice\) but the maximum concurrency is 150: about 145 workers fit .*--no-staleness-probe frees one/);
  });

  it('counts statements mode by the maximum concurrency: its invocations keep their pools', () => {
    const p = buildPlan(resolveRunOptions({ queueUrl: QUEUE, mode: 'statements', rate: '100' }), fleet({ maxConcurrency: 10 }));
    expect(checkFleet(p, fleet({ maxConcurrency: 10, maxConnections: 200 })).connectionsNeeded).to.equal(80);
    expect(refusal(() => checkFleet(p, fleet({ maxConcurrency: 50, maxConnections: 200 })))).to.match(/^plan needs up to 50 invocations .* = 400, but max_connections is 200/);
  });

  it('refuses a start lead that leaves a slice no time to finish inside one invocation', () => {
    const message = refusal(() => checkFleet(plan({ rate: '100', duration: '10m', startLead: '12m' }), fleet()));
    expect(message).to.match(/^a slice sent 12m before its start and lasting .* cannot finish inside one 15m invocation .*: use --start-lead \S+ or less$/);
  });
});
