import { LIMITS } from '../../handlers/protocol/limits';
import { PROTOCOL_VERSION, type SliceMessage } from '../../handlers/protocol/message';
import { plannedCount } from '../../handlers/schedule';
import { UsageError } from '../errors';
import { describeMix } from '../options/mix';
import { round } from '../round';
import { scriptOptionsOf, type RunSpec } from './run-spec';
import type { SendPlan } from './send-plan';

/** A stretch of the run during which every worker runs one slice at `ratePerWorker`. */
export interface Slot {
  /** Start, ms after the load starts. */
  readonly offsetMs: number;
  readonly durationMs: number;
  readonly ratePerWorker: number;
}

export interface SliceOptions {
  /** Workers (concurrent slices). Default: ceil(rate / maxWorkerRate). */
  readonly workers?: number;
  /** The most statements per second one worker is asked for when `workers` is not given. */
  readonly maxWorkerRate: number;
  /**
   * The start lead: how long before its start each slice is sent, so every worker has received
   * its slice (and, in AWS, a cold Lambda has started) when the slice begins.
   */
  readonly startLeadMs: number;
  /** Longest slice; longer runs are consecutive slices per worker, back to back. */
  readonly sliceMaxMs: number;
  /** pgbench -L: a statement that cannot start this late is skipped and counted. */
  readonly lateLimitMs?: number;
}

export const SLICE_DEFAULTS = {
  maxWorkerRate: 100,
  sliceMaxMs: 60_000,
  /** A ramp is a staircase of slots no shorter than this... */
  rampStepMinMs: 1_000,
  /** ...and no more steps than this, so a long ramp does not cost thousands of messages. */
  rampStepsMax: 30,
} as const;

export interface SlicePlan extends SendPlan {
  readonly mode: 'slice';
  readonly workers: number;
  /** Statements per second per worker at full rate; workers x this = the target rate. */
  readonly ratePerWorker: number;
  readonly slots: readonly Slot[];
}

/** Workers for a rate when none are given: the fewest that keep each at or under the cap. */
export function defaultWorkers(rate: number, maxWorkerRate: number): number {
  return Math.max(1, Math.ceil(rate / maxWorkerRate - 1e-9));
}

/**
 * The slots of a run: a staircase for the ramp (each step at the ramp's average rate over that
 * step, so the statements match a linear ramp exactly), then full-rate slices of at most
 * `sliceMaxMs`, split evenly.
 */
export function layoutSlots(rate: number, workers: number, durationMs: number, rampMs: number, sliceMaxMs: number): Slot[] {
  const slots: Slot[] = [];
  const ramp = Math.min(rampMs, durationMs);
  if (ramp > 0) {
    const step = Math.max(SLICE_DEFAULTS.rampStepMinMs, Math.ceil(ramp / SLICE_DEFAULTS.rampStepsMax));
    for (let a = 0; a < ramp; a += step) {
      const b = Math.min(ramp, a + step);
      slots.push({ offsetMs: a, durationMs: b - a, ratePerWorker: (rate * ((a + b) / 2 / ramp)) / workers });
    }
  }
  const steady = durationMs - ramp;
  if (steady > 0) {
    const n = Math.ceil(steady / sliceMaxMs);
    const each = Math.floor(steady / n);
    for (let i = 0; i < n; i++) {
      const len = i === n - 1 ? steady - each * (n - 1) : each;
      slots.push({ offsetMs: ramp + i * each, durationMs: len, ratePerWorker: rate / workers });
    }
  }
  return slots;
}

/**
 * Slice mode (linear load): W workers x consecutive slices. Each slice tells one worker to run
 * the mix at `ratePerWorker` on an open-loop schedule from `startAt` for `durationMs`, so the
 * database sees W x ratePerWorker = the target however SQS batches and however fast Lambda scales.
 */
export function planSlices(spec: RunSpec, opts: SliceOptions): SlicePlan {
  if (opts.sliceMaxMs > LIMITS.maxDurationMs) throw new TypeError(`sliceMaxMs over the protocol's ${LIMITS.maxDurationMs} ms`);
  const workers = opts.workers ?? defaultWorkers(spec.rate, opts.maxWorkerRate);
  const ratePerWorker = spec.rate / workers;
  if (ratePerWorker > LIMITS.maxRate) {
    throw new UsageError(`--rate ${spec.rate} over ${workers} worker(s) is ${round(ratePerWorker)}/s each, over the worker's limit of ${LIMITS.maxRate}/s: use --workers ${defaultWorkers(spec.rate, LIMITS.maxRate)} or more`);
  }
  const slots = layoutSlots(spec.rate, workers, spec.durationMs, spec.rampMs, opts.sliceMaxMs);
  const total = slots.length * workers;
  const statements = slots.reduce((s, slot) => s + workers * plannedCount(slot.ratePerWorker, slot.durationMs), 0);
  const slotOf = (i: number): Slot => slots[Math.floor(i / workers)]!;
  const mix = spec.mix.map((m) => ({ ...m, hash: spec.hashes[m.op]! }));
  const scriptOptions = scriptOptionsOf(spec);
  return {
    mode: 'slice',
    workers,
    ratePerWorker,
    slots,
    total,
    dueAt: (i) => slotOf(i).offsetMs,
    dueBy(elapsed) {
      // Slots are few (tens); a linear scan is clearer than a binary search and as fast.
      let n = 0;
      for (const slot of slots) {
        if (slot.offsetMs > elapsed) break;
        n += workers;
      }
      return n;
    },
    body(i, sentAt, t0) {
      const slot = slotOf(i);
      const msg: SliceMessage = {
        v: PROTOCOL_VERSION, kind: 'slice', runId: spec.runId, seq: i, sentAt, workload: spec.workload,
        mix, rate: slot.ratePerWorker, durationMs: slot.durationMs,
        startAt: t0 + opts.startLeadMs + slot.offsetMs,
        ...(opts.lateLimitMs !== undefined ? { lateLimitMs: opts.lateLimitMs } : {}),
        ...(spec.hosts ? { hosts: spec.hosts } : {}),
        // Message i runs on worker i mod W (slots are consecutive blocks of W messages).
        ...scriptOptions, clientId: i % workers,
      };
      return JSON.stringify(msg);
    },
    startLeadMs: opts.startLeadMs,
    loadDurationMs: spec.durationMs,
    statements,
    plannedBy: (t) => slots.reduce((n, slot) => n + (workers * slot.ratePerWorker * Math.min(Math.max(0, t - slot.offsetMs), slot.durationMs)) / 1000, 0),
    peakRate: spec.rate,
    averageRate: (statements * 1000) / spec.durationMs,
    description: `slice mode: ${workers} worker(s) x ${round(ratePerWorker)}/s = ${round(spec.rate)}/s (${describeMix(spec.mix)}), `
      + `${slots.length} slice(s) each, starting ${round(opts.startLeadMs / 1000)}s after sending begins`,
  };
}
