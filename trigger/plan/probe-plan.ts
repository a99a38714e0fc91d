/**
 * The staleness probe rides along with a run's own messages: probe messages covering the whole
 * load, back to back, merged into the send plan in time order, through the same queue to the same
 * workers and endpoints as the load. Each probe message holds an invocation of its own, besides
 * the load's workers: the plan lists them (`probe`), so the fleet checks count them (fleet.ts).
 */
import { LIMITS } from '../../handlers/protocol/limits';
import { PROBE_LIMITS, PROTOCOL_VERSION, type ProbeMessage } from '../../handlers/protocol/message';
import { round } from '../round';
import type { RunSpec } from './run-spec';
import type { StatementsPlan } from './send-plan';
import { SLICE_DEFAULTS, type SlicePlan } from './slice-plan';

/** One probe message: from `offsetMs` after the load starts, for `durationMs`. */
export interface ProbeChunk {
  readonly offsetMs: number;
  readonly durationMs: number;
}

/** A probe message as planned: its stretch of the load and how long before its start it is sent. */
export interface PlannedProbe extends ProbeChunk {
  readonly leadMs: number;
}

/** Whether `plan` carries the staleness probe (one invocation at a time is the probe's). */
export function hasStalenessProbe(plan: { readonly probe?: readonly PlannedProbe[] }): boolean {
  return plan.probe !== undefined && plan.probe.length > 0;
}

/**
 * Probe messages over `durationMs`, each at most `maxChunkMs`, split evenly (statements mode,
 * which has no slices to keep clear of). A probe message is in flight as long as a slice, so it is
 * kept no longer than a slice.
 */
export function layoutProbe(durationMs: number, maxChunkMs: number): ProbeChunk[] {
  const max = Math.min(maxChunkMs, LIMITS.maxDurationMs);
  const n = Math.ceil(durationMs / max);
  const each = Math.floor(durationMs / n);
  return Array.from({ length: n }, (_, i) => ({ offsetMs: i * each, durationMs: i === n - 1 ? durationMs - each * (n - 1) : each }));
}

/**
 * Where the probe hands over to its next message in a slice plan, ms after the load starts: once
 * per slice length, halfway between two workers' handovers (worker w hands over at (w + 1)/W of it:
 * slice-plan.ts), so that with a small fleet the probe's overlap never adds to a worker's. A load no
 * longer than one slice has none, as the workers have none.
 */
export function probeHandovers(workers: number, sliceMs: number, durationMs: number): number[] {
  const out: number[] = [];
  if (durationMs <= sliceMs) return out;
  for (let at = Math.round(sliceMs / (2 * workers)); at < durationMs; at += sliceMs) out.push(at);
  return out;
}

/** The probe's messages over the load: cut at its handovers in slice mode, split evenly otherwise. */
function probeChunks(base: StatementsPlan | SlicePlan): ProbeChunk[] {
  if (base.mode !== 'slice') return layoutProbe(base.loadDurationMs, SLICE_DEFAULTS.sliceMs);
  const s = base as SlicePlan;
  const cuts = [0, ...probeHandovers(s.workers, s.sliceMs, s.loadDurationMs), s.loadDurationMs];
  return cuts.slice(1).map((end, i) => ({ offsetMs: cuts[i]!, durationMs: end - cuts[i]! }));
}

/**
 * `base` with the probe's messages merged in. They are sent as one worker's slices are: the first
 * with the plan's start lead (the first slices' lead, long enough for the event source to scale
 * up), each later one a handover lead before its start; at equal times the load's message goes
 * first. Probe messages are numbered after the load's (`seq` from `base.total`), and carry no
 * interval: the worker marks at its default one.
 */
export function withStalenessProbe<P extends StatementsPlan | SlicePlan>(base: P, spec: RunSpec): P {
  const slices = base.mode === 'slice' ? (base as SlicePlan) : undefined;
  const probe: PlannedProbe[] = probeChunks(base)
    .map((c) => ({ ...c, leadMs: c.offsetMs === 0 ? base.startLeadMs : Math.min(base.startLeadMs, slices?.handoverLeadMs ?? 0) }));
  const sendAt = (c: PlannedProbe): number => base.startLeadMs + c.offsetMs - c.leadMs;
  // Where probe j sits among all messages: after every load message due by its time, and the j probes before it.
  const at = probe.map((c, j) => base.dueBy(sendAt(c)) + j);
  const probeAt = (i: number): number => at.indexOf(i);
  const before = (i: number): number => at.filter((x) => x < i).length;
  return {
    ...base,
    total: base.total + probe.length,
    dueBy: (elapsed: number) => base.dueBy(elapsed) + probe.filter((c) => sendAt(c) <= elapsed).length,
    dueAt(i: number) {
      const j = probeAt(i);
      return j >= 0 ? sendAt(probe[j]!) : base.dueAt(i - before(i));
    },
    body(i: number, sentAt: number, t0: number) {
      const j = probeAt(i);
      if (j < 0) return base.body(i - before(i), sentAt, t0);
      const c = probe[j]!;
      const msg: ProbeMessage = {
        v: PROTOCOL_VERSION, kind: 'probe', runId: spec.runId, seq: base.total + j, sentAt, workload: spec.workload,
        startAt: t0 + base.startLeadMs + c.offsetMs, durationMs: c.durationMs,
        ...(spec.hosts ? { hosts: spec.hosts } : {}),
      };
      return JSON.stringify(msg);
    },
    probe,
    description: `${base.description} (+ staleness probe: a marker every ${round(PROBE_LIMITS.defaultIntervalMs)} ms, one invocation of its own)`,
  };
}
