/**
 * The staleness probe rides along with a run's own messages: probe messages covering the whole
 * load, back to back, merged into the send plan in time order, through the same queue to the same
 * workers and endpoints as the load. The probe holds one worker for the run (one more than the
 * load's own workers), which the plan's checks account for.
 */
import { LIMITS } from '../../handlers/protocol/limits';
import { PROBE_LIMITS, PROTOCOL_VERSION, type ProbeMessage } from '../../handlers/protocol/message';
import { round } from '../round';
import type { RunSpec } from './run-spec';
import type { StatementsPlan } from './send-plan';
import { SLICE_DEFAULTS, type SlicePlan } from './slice-plan';

/** The plans {@link withStalenessProbe} made: they say so to the checks that count workers. */
const withProbe = new WeakSet<object>();

/** Whether `plan` carries the staleness probe (one of its workers is the probe's). */
export function hasStalenessProbe(plan: object): boolean {
  return withProbe.has(plan);
}

/** One probe message: from `offsetMs` after the load starts, for `durationMs`. */
export interface ProbeChunk {
  readonly offsetMs: number;
  readonly durationMs: number;
}

/**
 * Probe messages over `durationMs`, each at most `maxChunkMs`, split evenly. A probe message is in
 * flight as long as a slice, so it is kept no longer than the plan's longest slice: the queue's
 * visibility timeout is sized for those.
 */
export function layoutProbe(durationMs: number, maxChunkMs: number): ProbeChunk[] {
  const max = Math.min(maxChunkMs, LIMITS.maxDurationMs);
  const n = Math.ceil(durationMs / max);
  const each = Math.floor(durationMs / n);
  return Array.from({ length: n }, (_, i) => ({ offsetMs: i * each, durationMs: i === n - 1 ? durationMs - each * (n - 1) : each }));
}

/**
 * `base` with the probe's messages merged in: each is due (sent) when its stretch starts, less the
 * start lead, as slices are; at equal times the load's message goes first. Probe messages are
 * numbered after the load's (`seq` from `base.total`).
 */
export function withStalenessProbe<P extends StatementsPlan | SlicePlan>(base: P, spec: RunSpec, intervalMs: number = PROBE_LIMITS.defaultIntervalMs): P {
  const longest = base.mode === 'slice' ? Math.max(...base.slots.map((s) => s.durationMs)) : SLICE_DEFAULTS.sliceMaxMs;
  const chunks = layoutProbe(base.loadDurationMs, longest);
  // Where probe j sits among all messages: after every load message due by its time, and the j probes before it.
  const at = chunks.map((c, j) => base.dueBy(c.offsetMs) + j);
  const probeAt = (i: number): number => at.indexOf(i);
  const before = (i: number): number => at.filter((x) => x < i).length;
  const plan = {
    ...base,
    total: base.total + chunks.length,
    dueBy: (elapsed: number) => base.dueBy(elapsed) + chunks.filter((c) => c.offsetMs <= elapsed).length,
    dueAt(i: number) {
      const j = probeAt(i);
      return j >= 0 ? chunks[j]!.offsetMs : base.dueAt(i - before(i));
    },
    body(i: number, sentAt: number, t0: number) {
      const j = probeAt(i);
      if (j < 0) return base.body(i - before(i), sentAt, t0);
      const c = chunks[j]!;
      const msg: ProbeMessage = {
        v: PROTOCOL_VERSION, kind: 'probe', runId: spec.runId, seq: base.total + j, sentAt, workload: spec.workload,
        startAt: t0 + base.startLeadMs + c.offsetMs, durationMs: c.durationMs,
        ...(intervalMs !== PROBE_LIMITS.defaultIntervalMs ? { intervalMs } : {}),
        ...(spec.hosts ? { hosts: spec.hosts } : {}),
      };
      return JSON.stringify(msg);
    },
    description: `${base.description}; staleness probe: a marker every ${round(intervalMs)} ms`,
  };
  // The probe holds a worker of its own for the whole load.
  const out = (base.mode === 'slice' ? { ...plan, workers: (base as SlicePlan).workers + 1 } : plan) as P;
  withProbe.add(out);
  return out;
}
