import { LIMITS } from '../../handlers/protocol/limits';
import { PROTOCOL_VERSION, type SliceMessage } from '../../handlers/protocol/message';
import { plannedCount, type SliceRate } from '../../handlers/schedule';
import { UsageError } from '../errors';
import { formatDuration } from '../options/duration';
import { describeMix } from '../options/mix';
import { round } from '../round';
import { scheduledBy } from './pacing';
import { scriptOptionsOf, type RunSpec } from './run-spec';
import type { SendPlan } from './send-plan';

/** One slice: one message, run by one worker's invocation. */
export interface PlannedSlice extends SliceRate {
  /** Which worker (0-based) it continues. */
  readonly worker: number;
  /** Start, ms after the load starts. */
  readonly offsetMs: number;
  /** How long before its start it is sent. */
  readonly leadMs: number;
  /** Statements it schedules. */
  readonly statements: number;
}

export interface SliceOptions {
  /** Workers (concurrent slices). Default: ceil(rate / maxWorkerRate). */
  readonly workers?: number;
  /** The most statements per second one worker is asked for when `workers` is not given. */
  readonly maxWorkerRate: number;
  /**
   * The start lead of a slice that continues a worker: how long before its start it is sent, so
   * that an invocation has it (and has connected) when the previous slice ends.
   */
  readonly startLeadMs: number;
  /**
   * How long before the load the first slices are sent: long enough for the event source to scale
   * up to every worker (fleet.ts). @default startLeadMs
   */
  readonly firstLeadMs?: number;
  /** Longest slice; a worker's run is consecutive slices of this length. */
  readonly sliceMs: number;
  /** pgbench -L: a statement that cannot start this late is skipped and counted. */
  readonly lateLimitMs?: number;
}

export const SLICE_DEFAULTS = {
  maxWorkerRate: 100,
  /**
   * Longest slice. Each worker hands over to its next slice once per slice length, and the
   * handovers of different workers are spread over it, so about W x (lead + 1 s) / sliceMs
   * invocations overlap at any moment (2% of W with a 5 s lead); a running slice cannot be
   * stopped, so `node trigger stop` takes up to this long (handlers/README.md, "Fitting the fleet").
   */
  sliceMs: 5 * 60_000,
} as const;

export interface SlicePlan extends SendPlan {
  readonly mode: 'slice';
  readonly workers: number;
  /** Statements per second per worker at full rate; workers x this = the target rate. */
  readonly ratePerWorker: number;
  /** Every slice, in the order they are sent. */
  readonly slices: readonly PlannedSlice[];
  /** The start lead of the slices that continue a worker. */
  readonly handoverLeadMs: number;
  readonly sliceMs: number;
  readonly lateLimitMs?: number;
}

/** Workers for a rate when none are given: the fewest that keep each at or under the cap. */
export function defaultWorkers(rate: number, maxWorkerRate: number): number {
  return Math.max(1, Math.ceil(rate / maxWorkerRate - 1e-9));
}

/**
 * Where worker `w` of `workers` hands over, ms after the load starts: once per `sliceMs`, at
 * (w + 1) / workers of it and then every `sliceMs`. Spread so, only a few workers hand over at
 * once, and the event source never has to find W more invocations in one moment. A run no longer
 * than one slice has no handover at all.
 */
export function handovers(w: number, workers: number, sliceMs: number, durationMs: number): number[] {
  const out: number[] = [];
  if (durationMs <= sliceMs) return out;
  for (let at = Math.round((sliceMs * (w + 1)) / workers); at < durationMs; at += sliceMs) out.push(at);
  return out;
}

/**
 * One worker's slices over the run: consecutive, cut at its handovers, each at the worker's share
 * of the rate; during a ramp a slice's rate climbs linearly (startRate -> rate over rampMs), so W
 * workers together follow the linear ramp exactly.
 */
export function workerSlices(w: number, workers: number, spec: Pick<RunSpec, 'rate' | 'durationMs' | 'rampMs'>, sliceMs: number): Array<Omit<PlannedSlice, 'leadMs'>> {
  const share = spec.rate / workers;
  const ramp = Math.min(spec.rampMs, spec.durationMs);
  const rateAt = (t: number): number => (ramp > 0 && t < ramp ? (share * t) / ramp : share);
  const cuts = [0, ...handovers(w, workers, sliceMs, spec.durationMs), spec.durationMs];
  const out: Array<Omit<PlannedSlice, 'leadMs'>> = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const a = cuts[i]!;
    const b = cuts[i + 1]!;
    const rate: SliceRate = a < ramp
      ? { rate: rateAt(Math.min(b, ramp)), durationMs: b - a, startRate: rateAt(a), rampMs: Math.min(b, ramp) - a }
      : { rate: share, durationMs: b - a };
    out.push({ worker: w, offsetMs: a, ...rate, statements: plannedCount(rate) });
  }
  return out;
}

/**
 * Slice mode (linear load): W workers, each running consecutive slices on an open-loop schedule,
 * so the database sees W x rate per worker = the target however SQS batches and however fast
 * Lambda scales. The first slices are sent `firstLeadMs` ahead (the event source scales up
 * meanwhile), the later ones `startLeadMs` ahead of their start, one worker at a time.
 */
export function planSlices(spec: RunSpec, opts: SliceOptions): SlicePlan {
  if (opts.sliceMs > LIMITS.maxDurationMs) throw new TypeError(`sliceMs over the protocol's ${LIMITS.maxDurationMs} ms`);
  const workers = opts.workers ?? defaultWorkers(spec.rate, opts.maxWorkerRate);
  const ratePerWorker = spec.rate / workers;
  if (ratePerWorker > LIMITS.maxRate) {
    throw new UsageError(`--rate ${spec.rate} over ${workers} worker(s) is ${round(ratePerWorker)}/s each, over the worker's limit of ${LIMITS.maxRate}/s: use --workers ${defaultWorkers(spec.rate, LIMITS.maxRate)} or more`);
  }
  const firstLeadMs = Math.max(opts.firstLeadMs ?? opts.startLeadMs, opts.startLeadMs);
  const slices: PlannedSlice[] = [];
  for (let w = 0; w < workers; w++) {
    for (const s of workerSlices(w, workers, spec, opts.sliceMs)) slices.push({ ...s, leadMs: s.offsetMs === 0 ? firstLeadMs : opts.startLeadMs });
  }
  const sendAt = (s: PlannedSlice): number => firstLeadMs + s.offsetMs - s.leadMs;
  // Array.prototype.sort is stable: slices sent at the same moment stay in worker order, as pushed.
  slices.sort((a, b) => sendAt(a) - sendAt(b));
  const sendTimes = slices.map(sendAt);
  const statements = slices.reduce((n, s) => n + s.statements, 0);
  const longest = slices.reduce((m, s) => Math.max(m, s.durationMs), 0);
  const mix = spec.mix.map((m) => ({ ...m, hash: spec.hashes[m.op]! }));
  const scriptOptions = scriptOptionsOf(spec);
  return {
    mode: 'slice',
    workers,
    ratePerWorker,
    slices,
    handoverLeadMs: opts.startLeadMs,
    sliceMs: opts.sliceMs,
    ...(opts.lateLimitMs !== undefined ? { lateLimitMs: opts.lateLimitMs } : {}),
    total: slices.length,
    dueAt: (i) => sendTimes[i]!,
    dueBy(elapsed) {
      // The number of send times at or before `elapsed` (they are sorted).
      let lo = 0;
      let hi = sendTimes.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (sendTimes[mid]! <= elapsed) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    },
    body(i, sentAt, t0) {
      const s = slices[i]!;
      const msg: SliceMessage = {
        v: PROTOCOL_VERSION, kind: 'slice', runId: spec.runId, seq: i, sentAt, workload: spec.workload,
        mix, rate: s.rate, durationMs: s.durationMs,
        ...(s.rampMs !== undefined ? { startRate: s.startRate!, rampMs: s.rampMs } : {}),
        startAt: t0 + firstLeadMs + s.offsetMs,
        ...(opts.lateLimitMs !== undefined ? { lateLimitMs: opts.lateLimitMs } : {}),
        ...(spec.hosts ? { hosts: spec.hosts } : {}),
        // pgbench's client id: the worker the slice continues, the same for all its slices.
        ...scriptOptions, clientId: s.worker,
      };
      return JSON.stringify(msg);
    },
    startLeadMs: firstLeadMs,
    loadDurationMs: spec.durationMs,
    statements,
    // The workers' rates add up to the run's profile; each slice rounds its count down by under one statement.
    plannedBy: (t) => scheduledBy(spec, t),
    peakRate: spec.rate,
    averageRate: (statements * 1000) / spec.durationMs,
    description: `slice mode: ${workers} worker(s) x ${round(ratePerWorker)}/s = ${round(spec.rate)}/s (${describeMix(spec.mix)}), `
      + `${slices.length} slice(s) of up to ${formatDuration(longest)}, starting ${formatDuration(firstLeadMs)} after sending begins`,
  };
}
