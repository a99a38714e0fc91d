/**
 * Does a plan fit the fleet that will run it? The fleet is the SQS event source and the worker
 * function (handlers/event-source.ts: maximum concurrency, function timeout, how the event source
 * scales up) and the database's connections. Pure: a plan is checked, and its run simulated,
 * before anything is sent (and by `--dry-run`, with nothing sent at all).
 *
 * - Peak concurrency: a slice holds its invocation from receipt (its start lead before it starts)
 *   to its end and a moment more (its last statements, publishing: {@link HOLD_MS}); at a
 *   handover the worker's next slice is already received, so two invocations run for it. The
 *   staleness probe's messages hold invocations the same way, besides the load's workers.
 * - Scale-up: the event source starts with a few invocations and adds more per minute while
 *   messages wait; the first slices are sent early enough for it to reach the plan's peak.
 * - Connections: each invocation holds a pool per endpoint; a worker closes its pools when a slice
 *   invocation ends, so a frozen execution environment keeps none, and the fleet holds at most
 *   peak x pool x endpoints. Statements mode keeps its pools: maximum concurrency x pool x endpoints.
 * - One invocation: a slice and its start lead must end before the function times out, with the
 *   time the worker keeps for its last statements and publishing (handlers/deadline.ts).
 */
import { DEFAULTS } from '../../handlers/config';
import { usableInvocationMs, type DeadlineSettings } from '../../handlers/deadline';
import { STACK_OUTPUT } from '../../handlers/contract';
import { EVENT_SOURCE_DEFAULTS, MAX_CONCURRENCY_RANGE, SCALE_UP_DEFAULTS, ScaleUpModel, scaleUpMs, type ScaleUpSettings } from '../../handlers/event-source';
import { DEFAULT_LATE_LIMIT_MS } from '../../handlers/protocol/message';
import { dueWithin } from '../../handlers/schedule';
import { UsageError } from '../errors';
import { formatDuration } from '../options/duration';
import { hasStalenessProbe } from './probe-plan';
import type { SendPlan } from './send-plan';
import type { PlannedSlice, SlicePlan } from './slice-plan';

/**
 * How long an invocation outlives its slice, ms, in the model: its last statements finish and it
 * publishes its metrics.
 */
export const HOLD_MS = 1_000;
/** Connections kept free: superuser_reserved_connections (3) plus two for monitoring and the tool itself. */
export const RESERVED_CONNECTIONS = 5;
/** Sent this much earlier than the scale-up strictly needs: receipt and connecting take a moment. */
export const SCALE_UP_MARGIN_MS = 2_000;

/** What runs a plan. */
export interface Fleet {
  /** The event source's maximum concurrency; undefined when unknown (AWS, stack not read). */
  readonly maxConcurrency: number | undefined;
  /** Connections per pool; one pool per endpoint in each invocation. */
  readonly poolMax: number;
  /** Pools per worker: one per kind of traffic in the mix. */
  readonly endpoints: number;
  /** The database's max_connections; undefined when unknown (not checked). */
  readonly maxConnections: number | undefined;
  /** The event source's scale-up; null: assume it is scaled up already (`--no-scale-up`). */
  readonly scaleUp: ScaleUpSettings | null;
  readonly functionTimeoutMs: number;
  /** The worker's settings that decide how much of an invocation a slice may use. */
  readonly worker: DeadlineSettings;
}

/** What a plan asks of its fleet, and what the scale-up model expects to happen. */
export interface FleetFit {
  /** Invocations running at once at the plan's peak, with no limit on concurrency. */
  readonly peakConcurrency: number;
  /** Time for the event source to grow to the peak, ms (0 without the model). */
  readonly scaleUpMs: number;
  /** ms after sending begins at which every first slice has an invocation, in the model. */
  readonly allRunningAtMs: number;
  /** ms after sending begins at which the load is at full rate (after any ramp), in the model. */
  readonly fullRateAtMs: number;
  /** Connections the fleet may hold at once; undefined when the maximum concurrency is unknown (statements mode). */
  readonly connectionsNeeded: number | undefined;
  /** Statements the model expects to be skipped: slices received later than their start plus the late limit. */
  readonly expectedSkipped: number;
}

/** When the first slices must be sent, ms before the load, for the event source to reach `peak` in time. */
export function firstLeadFor(peak: number, fleet: Pick<Fleet, 'scaleUp' | 'maxConcurrency'>, startLeadMs: number): number {
  if (!fleet.scaleUp) return startLeadMs;
  const reach = Math.min(peak, fleet.maxConcurrency ?? peak);
  const needed = scaleUpMs(reach, fleet.scaleUp);
  if (needed <= 0) return startLeadMs;
  return Math.max(startLeadMs, Math.ceil((needed + SCALE_UP_MARGIN_MS) / 1000) * 1000);
}

/** What the model reads of a slice plan: its messages, when they are sent, the late limit. */
export type ModelledPlan = Pick<SlicePlan, 'slices' | 'probe' | 'startLeadMs' | 'lateLimitMs'>;

/** An invocation a plan holds: from receipt to release, ms after sending begins; `slice` unless it is the probe's. */
interface Hold {
  readonly from: number;
  readonly to: number;
  readonly slice?: PlannedSlice;
}

/**
 * The invocations a slice plan holds, in order of receipt: each slice's, and each staleness probe
 * message's (sent as a worker's slices are: probe-plan.ts); at equal times, the load's first.
 */
function holds(plan: ModelledPlan): Hold[] {
  const held = (m: { offsetMs: number; leadMs: number; durationMs: number }) => ({
    from: plan.startLeadMs + m.offsetMs - m.leadMs, to: plan.startLeadMs + m.offsetMs + m.durationMs + HOLD_MS,
  });
  // Array.prototype.sort is stable: slices keep their send order, probe messages come after equals.
  return [...plan.slices.map((slice) => ({ ...held(slice), slice })), ...(plan.probe ?? []).map(held)].sort((a, b) => a.from - b.from);
}

/** The most invocations a slice plan holds at once (the staleness probe's included), with no limit on concurrency. */
export function peakConcurrency(plan: ModelledPlan): number {
  const events: Array<[number, number]> = [];
  for (const h of holds(plan)) events.push([h.from, 1], [h.to, -1]);
  // Ends before starts at the same moment (an invocation that ends frees its place): a hold that
  // ends at T was received before T, so it comes before any hold received at T and its end was
  // pushed before their starts; Array.prototype.sort is stable.
  events.sort((a, b) => a[0] - b[0]);
  let now = 0;
  let peak = 0;
  for (const [, d] of events) {
    now += d;
    peak = Math.max(peak, now);
  }
  return peak;
}

/** A binary min-heap of numbers. */
class MinHeap {
  private readonly a: number[] = [];
  get size(): number { return this.a.length; }
  peek(): number | undefined { return this.a[0]; }
  push(x: number): void {
    const a = this.a;
    a.push(x);
    for (let i = a.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (a[p]! <= a[i]!) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  pop(): number | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]! < a[m]!) m = l;
        if (r < a.length && a[r]! < a[m]!) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}

/**
 * The run through the modelled event source: messages arrive when sent, wait until the event
 * source has a free invocation (its capacity grows while they wait), and hold it until their
 * slice ends. A slice received after its start skips the statements already later than the late
 * limit, as the worker does.
 */
export function simulate(plan: ModelledPlan, fleet: Pick<Fleet, 'scaleUp' | 'maxConcurrency'>): Pick<FleetFit, 'allRunningAtMs' | 'expectedSkipped'> {
  const items = holds(plan);
  const model = new ScaleUpModel(fleet.scaleUp, fleet.maxConcurrency ?? Math.max(1, items.length));
  const lateLimit = plan.lateLimitMs ?? DEFAULT_LATE_LIMIT_MS;
  const running = new MinHeap();
  const waiting: number[] = [];
  let head = 0;
  let next = 0;
  let t = 0;
  let allRunningAt = 0;
  let skipped = 0;
  let waitingFlag = false;
  while (next < items.length || head < waiting.length) {
    // The next moment anything can change: an arrival, an invocation ending, the capacity growing.
    const candidates = [items[next]?.from, running.peek(), head < waiting.length ? model.nextGrowthAt(t) : undefined]
      .filter((x): x is number => x !== undefined);
    t = Math.max(t, Math.min(...candidates));
    while (running.size > 0 && running.peek()! <= t) running.pop();
    while (next < items.length && items[next]!.from <= t) waiting.push(next++);
    let cap = model.capacity(t, waitingFlag);
    while (head < waiting.length && running.size < cap) {
      const h = items[waiting[head++]!]!;
      running.push(h.to);
      // A probe message takes its place in the queue and an invocation; it schedules no statements.
      const slice = h.slice;
      if (!slice) continue;
      const start = plan.startLeadMs + slice.offsetMs;
      if (slice.offsetMs === 0) allRunningAt = Math.max(allRunningAt, t);
      const lateBy = t - lateLimit - start;
      if (lateBy > 0) {
        skipped += Math.min(slice.statements, Math.ceil(dueWithin(slice, lateBy) - 1e-9));
      }
    }
    waitingFlag = head < waiting.length;
    cap = model.capacity(t, waitingFlag);
  }
  return { allRunningAtMs: allRunningAt, expectedSkipped: skipped };
}

/**
 * Both pools are counted against one server's max_connections: on a cluster without replicas the
 * reader endpoint is the writer, and over-counting costs a smaller plan where under-counting costs
 * a run full of "too many clients" errors (SQLSTATE 53300).
 */
function checkConnections(needed: number | undefined, fleet: Fleet, who: string, fix: () => string): void {
  if (needed === undefined || fleet.maxConnections === undefined) return;
  const available = fleet.maxConnections - RESERVED_CONNECTIONS;
  if (needed <= available) return;
  throw new UsageError(
    `plan needs ${who} x ${fleet.poolMax * fleet.endpoints} connections (pool of ${fleet.poolMax} x ${fleet.endpoints} endpoint(s)) = ${needed}, `
    + `but max_connections is ${fleet.maxConnections} (${RESERVED_CONNECTIONS} kept free): ${fix()}`,
  );
}

/**
 * Check that `plan` fits `fleet`: a {@link UsageError} in one line, saying what would fit, when
 * it does not; else what it asks of the fleet and what the scale-up model expects.
 */
export function checkFleet(plan: SendPlan, fleet: Fleet): FleetFit {
  if (plan.mode !== 'slice') {
    const connections = fleet.maxConcurrency !== undefined ? fleet.maxConcurrency * fleet.poolMax * fleet.endpoints : undefined;
    checkConnections(connections, fleet, `up to ${fleet.maxConcurrency} invocations (the maximum concurrency; statements mode keeps its pools)`, () => '--max-concurrency lower, or a database with more connections');
    return {
      peakConcurrency: fleet.maxConcurrency ?? 0, scaleUpMs: 0, allRunningAtMs: 0, fullRateAtMs: 0,
      connectionsNeeded: connections, expectedSkipped: 0,
    };
  }
  const slices = plan as SlicePlan;
  const lateLimit = slices.lateLimitMs ?? DEFAULT_LATE_LIMIT_MS;
  const usable = usableInvocationMs(fleet.functionTimeoutMs, fleet.worker, lateLimit);
  const tooLong = slices.slices.find((s) => s.leadMs + s.durationMs > usable);
  if (tooLong) {
    const lead = tooLong.leadMs;
    const most = usable - tooLong.durationMs;
    throw new UsageError(
      `a slice sent ${formatDuration(lead)} before its start and lasting ${formatDuration(tooLong.durationMs)} cannot finish inside one ${formatDuration(fleet.functionTimeoutMs)} invocation `
      + `(${formatDuration(fleet.functionTimeoutMs - usable)} are kept for the last statements and publishing): `
      + (tooLong.offsetMs === 0 && lead > slices.handoverLeadMs
        ? `the event source needs that lead to scale up; use more --worker-rate (fewer workers) or --no-scale-up`
        : `use --start-lead ${formatDuration(Math.max(0, most))} or less`),
    );
  }
  const peak = peakConcurrency(slices);
  // The probe holds one invocation (two at its own handovers), whatever the load's workers.
  const probe = hasStalenessProbe(slices) ? 1 : 0;
  const max = fleet.maxConcurrency;
  if (max !== undefined && peak > max) {
    const extra = peak - slices.workers - probe;
    const fit = Math.max(1, Math.floor(((max - probe) * slices.workers) / (peak - probe)));
    const raise = max < MAX_CONCURRENCY_RANGE.max ? `, or deploy with a higher ${STACK_OUTPUT.workerMaxConcurrency} (up to ${MAX_CONCURRENCY_RANGE.max}) and pass --max-concurrency` : '';
    throw new UsageError(
      `plan needs ${peak} invocations at once at its peak (${slices.workers} workers${probe ? ' + 1 staleness probe' : ''}${extra > 0 ? ` + ${extra} handing over to their next slice` : ''}) but the maximum concurrency is ${max}: `
      + `about ${fit} workers fit (--workers ${fit}, or a higher --worker-rate so fewer are needed${probe ? '; --no-staleness-probe frees one' : ''})${raise}`,
    );
  }
  const connections = peak * fleet.poolMax * fleet.endpoints;
  checkConnections(connections, fleet, `${peak} invocations at the peak${probe ? ' (1 the staleness probe\'s)' : ''}`, () => {
    const perInvocation = fleet.poolMax * fleet.endpoints;
    const perWorker = (perInvocation * (peak - probe)) / slices.workers;
    const fit = Math.max(0, Math.floor((fleet.maxConnections! - RESERVED_CONNECTIONS - probe * perInvocation) / perWorker));
    return `at most ${fit} worker(s) fit, so lower --rate, raise the rate per worker with fewer --workers${probe ? ', pass --no-staleness-probe' : ''}, or give the database more connections`;
  });
  const sim = simulate(slices, fleet);
  const rampMs = slices.slices.reduce((m, s) => (s.offsetMs === 0 ? Math.max(m, s.rampMs ?? 0) : m), 0);
  return {
    peakConcurrency: peak,
    scaleUpMs: fleet.scaleUp ? scaleUpMs(Math.min(peak, max ?? peak), fleet.scaleUp) : 0,
    allRunningAtMs: sim.allRunningAtMs,
    fullRateAtMs: Math.max(slices.startLeadMs, sim.allRunningAtMs) + rampMs,
    connectionsNeeded: connections,
    expectedSkipped: sim.expectedSkipped,
  };
}

/** What is known about the fleet, from flags, the stack or the local engine. */
export interface FleetFacts {
  readonly maxConcurrency: number | undefined;
  readonly poolMax: number;
  readonly endpoints: number;
  readonly maxConnections: number | undefined;
  /** Model the event source's scale-up (false: `--no-scale-up`). */
  readonly scaleUp: boolean;
}

/** The fleet, with the stack's defaults for everything the trigger cannot read (handlers/event-source.ts, handlers/config.ts). */
export function fleetOf(f: FleetFacts): Fleet {
  return {
    maxConcurrency: f.maxConcurrency,
    poolMax: f.poolMax,
    endpoints: f.endpoints,
    maxConnections: f.maxConnections,
    scaleUp: f.scaleUp ? SCALE_UP_DEFAULTS : null,
    functionTimeoutMs: EVENT_SOURCE_DEFAULTS.functionTimeoutMs,
    worker: { statementTimeoutMs: DEFAULTS.statementTimeoutMs, deadlineMarginMs: DEFAULTS.deadlineMarginMs },
  };
}

/** What a plan asks of its fleet, in a few lines (the run's start, `--dry-run`). */
export function describeFit(plan: SendPlan, fit: FleetFit, fleet: Fleet): string[] {
  const lines: string[] = [];
  const max = fleet.maxConcurrency !== undefined ? `the maximum concurrency is ${fleet.maxConcurrency}` : 'the maximum concurrency is unknown (pass --max-concurrency)';
  if (plan.mode === 'slice') {
    const s = plan as SlicePlan;
    const probe = hasStalenessProbe(s) ? 1 : 0;
    lines.push(`peak concurrency: ${fit.peakConcurrency} invocations (${s.workers} workers${probe ? ' + 1 staleness probe' : ''} + ${fit.peakConcurrency - s.workers - probe} handing over); ${max}`);
    const up = fleet.scaleUp;
    lines.push(!up
      ? `scale-up: not modelled (--no-scale-up): first slices sent ${formatDuration(s.startLeadMs)} ahead`
      : fit.scaleUpMs > 0
        ? `scale-up: the event source grows from ${up.startConcurrency} to ${Math.min(fit.peakConcurrency, fleet.maxConcurrency ?? fit.peakConcurrency)} concurrent invocations in ${formatDuration(fit.scaleUpMs)} (+${up.perMinute}/min): first slices sent ${formatDuration(s.startLeadMs)} ahead`
        : `scale-up: none needed (the event source starts with ${up.startConcurrency}): first slices sent ${formatDuration(s.startLeadMs)} ahead`);
    const ramped = s.slices.some((x) => x.offsetMs === 0 && x.rampMs !== undefined);
    lines.push(`time to full rate: ${formatDuration(fit.fullRateAtMs)} after sending begins${ramped ? ' (after the ramp)' : ''}`);
  } else {
    lines.push(`statements mode: up to ${fleet.maxConcurrency ?? 'the maximum concurrency of'} invocations at once, as the event source scales${hasStalenessProbe(plan) ? ' (one of them runs the staleness probe)' : ''}`);
  }
  const perInvocation = `${fleet.poolMax} x ${fleet.endpoints} endpoint(s)`;
  lines.push(fit.connectionsNeeded === undefined
    ? `connections: up to ${perInvocation} per invocation (maximum concurrency unknown)`
    : `connections: up to ${fit.connectionsNeeded} (${perInvocation} per invocation)${fleet.maxConnections !== undefined
      ? ` of ${fleet.maxConnections - RESERVED_CONNECTIONS} (max_connections ${fleet.maxConnections}, ${RESERVED_CONNECTIONS} kept free)`
      : ', not checked: pass --max-connections'}`);
  if (plan.mode === 'slice') lines.push(`expected skipped statements under the scale-up model: ${fit.expectedSkipped}`);
  return lines;
}

/** What a plan asks of its fleet, in one line for the start of a run. */
export function fitLine(plan: SendPlan, fit: FleetFit, fleet: Fleet): string {
  const of = (n: number | undefined, max: number | undefined): string => `${n ?? '?'}${max !== undefined ? ` of ${max}` : ''}`;
  const connections = `connections ${of(fit.connectionsNeeded, fleet.maxConnections !== undefined ? fleet.maxConnections - RESERVED_CONNECTIONS : undefined)}`;
  if (plan.mode !== 'slice') return `fleet: up to ${fleet.maxConcurrency ?? '?'} invocations at once, ${connections}`;
  return `fleet: peak ${of(fit.peakConcurrency, fleet.maxConcurrency)} invocations, ${connections}; `
    + `full rate ${formatDuration(fit.fullRateAtMs)} after sending begins${fit.expectedSkipped ? `; ${fit.expectedSkipped} statements expected skipped while the event source scales up` : ''}`;
}
