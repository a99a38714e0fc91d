import { scaleUpMs } from '../../handlers/event-source';
import { UsageError } from '../errors';
import { formatDuration } from '../options/duration';
import type { RunSettings } from '../options/run-options';
import { firstLeadFor, peakConcurrency, type Fleet } from './fleet';
import type { RunSpec } from './run-spec';
import type { StatementsPlan } from './send-plan';
import { planSlices, SLICE_DEFAULTS, type SliceOptions, type SlicePlan } from './slice-plan';
import { withStalenessProbe } from './probe-plan';
import { planStatements } from './statements-plan';

export function runSpecOf(s: RunSettings): RunSpec {
  return {
    runId: s.runId, workload: s.workload, mix: s.mix, hashes: s.hashes, vars: s.vars, randomSeed: s.randomSeed,
    rate: s.rate, durationMs: s.durationMs, rampMs: s.rampMs,
    ...(s.hosts ? { hosts: s.hosts } : {}),
  };
}

/**
 * The send plan for validated settings, in either mode, with the staleness probe when it is on.
 * In slice mode the first slices are sent early enough for the event source to scale up to the
 * plan's peak, the probe's invocation included (fleet.ts); a `--start-lead` given too short for
 * that is refused in one line.
 */
export function buildPlan(s: RunSettings, fleet: Pick<Fleet, 'scaleUp' | 'maxConcurrency'>): StatementsPlan | SlicePlan {
  const spec = runSpecOf(s);
  const probed = <P extends StatementsPlan | SlicePlan>(plan: P): P => (s.stalenessProbe ? withStalenessProbe(plan, spec) : plan);
  if (s.mode === 'statements') return probed(planStatements(spec, s.count));
  const opts: SliceOptions = {
    ...(s.workers !== undefined ? { workers: s.workers } : {}),
    maxWorkerRate: s.maxWorkerRate,
    startLeadMs: s.startLeadMs,
    sliceMs: SLICE_DEFAULTS.sliceMs,
    ...(s.lateLimitMs !== undefined ? { lateLimitMs: s.lateLimitMs } : {}),
  };
  const plan = probed(planSlices(spec, opts));
  const peak = peakConcurrency(plan);
  const firstLeadMs = firstLeadFor(peak, fleet, s.startLeadMs);
  if (firstLeadMs <= s.startLeadMs) return plan;
  if (s.startLeadGiven) {
    const up = fleet.scaleUp!;
    throw new UsageError(
      `--start-lead ${formatDuration(s.startLeadMs)} is too short: the event source needs ${formatDuration(scaleUpMs(Math.min(peak, fleet.maxConcurrency ?? peak), up))} to scale up `
      + `from ${up.startConcurrency} to ${peak} concurrent invocations (${up.perMinute} more per minute); `
      + `drop --start-lead (the first slices are then sent ${formatDuration(firstLeadMs)} ahead), or pass --no-scale-up if it is scaled up already`,
    );
  }
  return probed(planSlices(spec, { ...opts, firstLeadMs }));
}
