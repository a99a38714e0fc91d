import { expect } from 'chai';
import { ScaleUpModel, SCALE_UP_DEFAULTS } from '../../handlers/event-source';
import { UsageError } from '../../trigger/errors';
import { resolveRunOptions, type RawRunOptions } from '../../trigger/options/run-options';
import { buildPlan } from '../../trigger/plan/build';
import { checkFleet, describeFit, fitLine, fleetOf, HOLD_MS, peakConcurrency, simulate, type Fleet, type ModelledPlan } from '../../trigger/plan/fleet';
import type { PlannedProbe } from '../../trigger/plan/probe-plan';
import type { PlannedSlice, SlicePlan } from '../../trigger/plan/slice-plan';

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
  // The whole sentence a user reads, so every number and every fix in it is checked.
  it('says in full how many workers fit the database\'s connections, with and without the staleness probe', () => {
    expect(refusal(() => checkFleet(plan({ rate: '20000', duration: '10m' }), fleet({ maxConnections: 1000 })))).to.equal(
      'plan needs 204 invocations at the peak x 8 connections (pool of 4 x 2 endpoint(s)) = 1632, but max_connections is 1000 (5 kept free): '
      + 'at most 121 worker(s) fit, so lower --rate, raise the rate per worker with fewer --workers, or give the database more connections');
    expect(refusal(() => checkFleet(plan({ rate: '20000', duration: '10m', stalenessProbe: true }), fleet({ maxConnections: 1000 })))).to.equal(
      'plan needs 206 invocations at the peak (1 the staleness probe\'s) x 8 connections (pool of 4 x 2 endpoint(s)) = 1648, but max_connections is 1000 (5 kept free): '
      + 'at most 120 worker(s) fit, so lower --rate, raise the rate per worker with fewer --workers, pass --no-staleness-probe, or give the database more connections');
  });

  it('offers a higher maximum concurrency only while the stack allows one', () => {
    expect(refusal(() => checkFleet(plan({ rate: '20000', duration: '10m' }), fleet({ maxConcurrency: 150 })))).to.equal(
      'plan needs 204 invocations at once at its peak (200 workers + 4 handing over to their next slice) but the maximum concurrency is 150: '
      + 'about 147 workers fit (--workers 147, or a higher --worker-rate so fewer are needed), or deploy with a higher WorkerMaxConcurrency (up to 1000) and pass --max-concurrency');
    const huge = plan({ rate: '500000', duration: '10m', workerRate: '500' }, fleet({ maxConcurrency: undefined }));
    expect(refusal(() => checkFleet(huge, fleet({ maxConcurrency: 1000 })))).to.equal(
      'plan needs 1020 invocations at once at its peak (1000 workers + 20 handing over to their next slice) but the maximum concurrency is 1000: '
      + 'about 980 workers fit (--workers 980, or a higher --worker-rate so fewer are needed)');
  });

  it('says how long a start lead may be for a slice to finish inside one invocation', () => {
    expect(refusal(() => checkFleet(plan({ rate: '100', duration: '10m', startLead: '12m' }), fleet()))).to.equal(
      'a slice sent 12m before its start and lasting 5m cannot finish inside one 15m invocation (48s are kept for the last statements and publishing): use --start-lead 9m12s or less');
  });

  it('describes what a slice plan asks of the fleet, with and without the scale-up model', () => {
    const p = plan({ rate: '20000', duration: '10m' });
    const f = fleet({ maxConnections: 5000 });
    const fit = checkFleet(p, f);
    expect(describeFit(p, fit, f)).to.deep.equal([
      'peak concurrency: 204 invocations (200 workers + 4 handing over); the maximum concurrency is 1000',
      'scale-up: the event source grows from 5 to 204 concurrent invocations in 40s (+300/min): first slices sent 42s ahead',
      'time to full rate: 42s after sending begins',
      'connections: up to 1632 (4 x 2 endpoint(s) per invocation) of 4995 (max_connections 5000, 5 kept free)',
      'expected skipped statements under the scale-up model: 0',
    ]);
    expect(fitLine(p, fit, f)).to.equal('fleet: peak 204 of 1000 invocations, connections 1632 of 4995; full rate 42s after sending begins');
    const unmodelled = fleet({ scaleUp: false, maxConnections: 5000 });
    const q = plan({ rate: '20000', duration: '10m', startLead: '5s' }, unmodelled);
    expect(describeFit(q, checkFleet(q, unmodelled), unmodelled)[1]).to.equal('scale-up: not modelled (--no-scale-up): first slices sent 5s ahead');
  });

  it('describes what a statements plan asks of the fleet, with the maximum concurrency known and unknown', () => {
    const p = buildPlan(resolveRunOptions({ queueUrl: QUEUE, mode: 'statements', rate: '100' }), fleet({ maxConcurrency: 10 }));
    const known = fleet({ maxConcurrency: 10, maxConnections: 200 });
    const fit = checkFleet(p, known);
    expect(describeFit(p, fit, known)).to.deep.equal([
      'statements mode: up to 10 invocations at once, as the event source scales (one of them runs the staleness probe)',
      'connections: up to 80 (4 x 2 endpoint(s) per invocation) of 195 (max_connections 200, 5 kept free)',
    ]);
    expect(fitLine(p, fit, known)).to.equal('fleet: up to 10 invocations at once, connections 80 of 195');
    const unknown = fleet({ maxConcurrency: undefined });
    const fitUnknown = checkFleet(p, unknown);
    expect(describeFit(p, fitUnknown, unknown)).to.deep.equal([
      'statements mode: up to the maximum concurrency of invocations at once, as the event source scales (one of them runs the staleness probe)',
      'connections: up to 4 x 2 endpoint(s) per invocation (maximum concurrency unknown)',
    ]);
    expect(fitLine(p, fitUnknown, unknown)).to.equal('fleet: up to ? invocations at once, connections ?');
  });
});

describe('fleet: the plans at the edges of the model, and what --dry-run says of them', () => {
  it('runs a long plan without a skipped statement on a maximum concurrency exactly its peak: each ended invocation frees its place', () => {
    const p = plan({ rate: '1000', duration: '1h' });
    const exact = fleet({ maxConcurrency: peakConcurrency(p) });
    const fit = checkFleet(p, exact);
    expect(fit.expectedSkipped).to.equal(0);
    expect(fit.allRunningAtMs).to.be.at.most(p.startLeadMs);
  });

  it('assumes no limit when the maximum concurrency is unknown: nothing expected skipped', () => {
    const unknown = fleet({ maxConcurrency: undefined });
    const p = plan({ rate: '2000', duration: '20m' }, unknown);
    expect(checkFleet(p, unknown).expectedSkipped).to.equal(0);
  });

  it('says how long the scale-up takes in a --start-lead refusal when the maximum concurrency is unknown', () => {
    const unknown = fleet({ maxConcurrency: undefined });
    expect(refusal(() => plan({ rate: '20000', duration: '10m', startLead: '5s' }, unknown)))
      .to.match(/^--start-lead 5s is too short: the event source needs 40s to scale up from 5 to 204 concurrent invocations/);
  });

  it('honours a --start-lead shorter than the scale-up margin when no scale-up is needed', () => {
    expect(plan({ rate: '300', duration: '10m', startLead: '1s' }).startLeadMs).to.equal(1_000);
  });

  it('passes --workers, --late-limit and --writer HOST on to every slice', () => {
    const p = plan({ rate: '300', duration: '10m', workers: '4', lateLimit: '3s', writer: 'db.example.com' });
    expect(p.workers).to.equal(4);
    const first = JSON.parse(p.body(0, 1_000, 1_000)) as { lateLimitMs?: number; hosts?: unknown };
    expect(first.lateLimitMs).to.equal(3_000);
    expect(first.hosts).to.deep.equal({ writer: 'db.example.com' });
  });

  it('refuses a statements-mode plan whose pools would exceed max_connections, saying what to lower', () => {
    const f = fleet({ maxConcurrency: 100, maxConnections: 500 });
    const p = buildPlan(resolveRunOptions({ queueUrl: QUEUE, stalenessProbe: false, mode: 'statements', rate: '100', duration: '1m' }), f);
    expect(refusal(() => checkFleet(p, f))).to.equal(
      'plan needs up to 100 invocations (the maximum concurrency; statements mode keeps its pools) x 8 connections (pool of 4 x 2 endpoint(s)) = 800, '
      + 'but max_connections is 500 (5 kept free): --max-concurrency lower, or a database with more connections',
    );
  });

  it('refuses a first slice whose scale-up lead leaves no room in one invocation, and names the scale-up as the cause', () => {
    const unknown = fleet({ maxConcurrency: undefined });
    const p = plan({ rate: '400000', duration: '20m', workerRate: '100' }, unknown);
    expect(refusal(() => checkFleet(p, unknown))).to.match(/: the event source needs that lead to scale up; use more --worker-rate \(fewer workers\) or --no-scale-up$/);
  });

  it('says how short a --start-lead must be when it leaves a slice no room in one invocation', () => {
    const f = fleet({ scaleUp: false });
    const p = plan({ rate: '300', duration: '20m', startLead: '14m' }, f);
    expect(refusal(() => checkFleet(p, f))).to.match(/: use --start-lead \S+ or less$/);
  });

  it('names only the workers in a peak refusal when none hands over (a run of one slice)', () => {
    const small = fleet({ maxConcurrency: 10 });
    const p = plan({ rate: '2000', duration: '5m' }, fleet({ scaleUp: false }));
    expect(refusal(() => checkFleet(p, small))).to.match(/^plan needs 20 invocations at once at its peak \(20 workers\) but the maximum concurrency is 10: about 10 workers fit/);
  });

  it('describes a small ramped plan on an unknown fleet: no scale-up needed, full rate after the ramp, connections unchecked', () => {
    const unknown = fleet({ maxConcurrency: undefined });
    const p = plan({ rate: '300', duration: '10m', ramp: '1m' }, unknown);
    expect(describeFit(p, checkFleet(p, unknown), unknown)).to.deep.equal([
      'peak concurrency: 4 invocations (3 workers + 1 handing over); the maximum concurrency is unknown (pass --max-concurrency)',
      'scale-up: none needed (the event source starts with 5): first slices sent 5s ahead',
      'time to full rate: 1m5s after sending begins (after the ramp)',
      'connections: up to 32 (4 x 2 endpoint(s) per invocation), not checked: pass --max-connections',
      'expected skipped statements under the scale-up model: 0',
    ]);
  });

  it('says in statements mode that one invocation runs the staleness probe', () => {
    const f = fleet({ maxConcurrency: 10 });
    const p = buildPlan(resolveRunOptions({ queueUrl: QUEUE, stalenessProbe: true, mode: 'statements', rate: '100', duration: '1m' }), f);
    expect(describeFit(p, checkFleet(p, f), f)[0]).to.equal('statements mode: up to 10 invocations at once, as the event source scales (one of them runs the staleness probe)');
  });

  it('warns at the start of a run sent too late for the scale-up how many statements it expects skipped', () => {
    const p = plan({ rate: '20000', duration: '10m' }, fleet({ scaleUp: false }));
    const f = fleet();
    const fit = checkFleet(p, f);
    expect(fit.expectedSkipped).to.be.greaterThan(0);
    expect(fitLine(p, fit, f)).to.match(new RegExp(`; ${fit.expectedSkipped} statements expected skipped while the event source scales up$`));
  });
});

/**
 * A slice of worker `worker` at 10 statements/s for `seconds`, starting `offsetMs` after the load
 * and sent `leadMs` before: a small plan written by hand, so that its run can be worked out by hand.
 */
const slice = (worker: number, seconds: number, offsetMs = 0, leadMs = 0): PlannedSlice =>
  ({ worker, offsetMs, leadMs, rate: 10, durationMs: seconds * 1000, statements: 10 * seconds });
/** An event source held at `n` invocations: the binding capacity of a scale-up, without its growth. */
const heldAt = (n: number) => ({ scaleUp: null, maxConcurrency: n });

describe('fleet: the simulated run when every invocation is taken (what --dry-run expects skipped)', () => {
  // Every plan here starts its load as sending begins (startLeadMs 0); an invocation is held
  // until its slice ends and HOLD_MS more; a slice received late skips the statements due before
  // its receipt minus the late limit (1 s unless given), at 10/s: 10 per second late.
  before(() => expect(HOLD_MS).to.equal(1_000));

  it('starts a message that finds every invocation taken when the first of them ends, whichever started first', () => {
    // 3 invocations, taken by slices of 15, 10 and 5 s, sent in that order; they end at 16, 11
    // and 6 s. The fourth (60 s) starts at 6 s: 6 s late, 5 s past the late limit, 50 skipped.
    const plan: ModelledPlan = { startLeadMs: 0, slices: [slice(0, 15), slice(1, 10), slice(2, 5), slice(3, 60)] };
    expect(simulate(plan, heldAt(3))).to.deep.equal({ allRunningAtMs: 6_000, expectedSkipped: 50 });
  });

  it('starts waiting messages one by one as the running invocations end, in the order they end', () => {
    // 6 invocations, ending at 2, 3, 4, 21, 22 and 5 s (slices of 1, 2, 3, 20, 21 and 4 s); four
    // 60 s slices wait and start at 2, 3, 4 and 5 s: 10 + 20 + 30 + 40 = 100 skipped.
    const plan: ModelledPlan = {
      startLeadMs: 0,
      slices: [slice(0, 1), slice(1, 2), slice(2, 3), slice(3, 20), slice(4, 21), slice(5, 4), slice(6, 60), slice(7, 60), slice(8, 60), slice(9, 60)],
    };
    expect(simulate(plan, heldAt(6))).to.deep.equal({ allRunningAtMs: 5_000, expectedSkipped: 100 });
  });

  it('skips exactly the statements due before the late limit: none due at the limit itself', () => {
    // The waiting slice starts at 2 s, 2 s late, 1 s past a 1 s limit: its statements due at 0 ms,
    // 100 ms, ... 900 ms are skipped (10); the one due at 1 s is exactly at the limit and runs.
    const plan: ModelledPlan = { startLeadMs: 0, slices: [slice(0, 1), slice(1, 60)] };
    expect(simulate(plan, heldAt(1)).expectedSkipped).to.equal(10);
  });

  it('puts a staleness-probe message in the queue when it is sent, ahead of a handover sent after it', () => {
    // 2 invocations. Worker 0: 0-30 s, then a handover slice sent at 25 s for 30-60 s. The probe:
    // 0-20 s, then its next message sent at 15 s for 20-60 s, which takes the invocation freed at
    // 21 s. The handover then waits for worker 0's first invocation to end (31 s): 1 s late, past
    // a 500 ms late limit by 500 ms, 5 skipped. The load's first slice starts at once.
    const probe: PlannedProbe[] = [{ offsetMs: 0, durationMs: 20_000, leadMs: 0 }, { offsetMs: 20_000, durationMs: 40_000, leadMs: 5_000 }];
    const plan: ModelledPlan = { startLeadMs: 0, lateLimitMs: 500, slices: [slice(0, 30), slice(0, 30, 30_000, 5_000)], probe };
    expect(simulate(plan, heldAt(2))).to.deep.equal({ allRunningAtMs: 0, expectedSkipped: 5 });
  });
});
