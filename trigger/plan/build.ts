import type { RunSettings } from '../options/run-options';
import type { RunSpec } from './run-spec';
import type { StatementsPlan } from './send-plan';
import { planSlices, SLICE_DEFAULTS, type SlicePlan } from './slice-plan';
import { planStatements } from './statements-plan';
import { withStalenessProbe } from './probe-plan';

export function runSpecOf(s: RunSettings): RunSpec {
  return {
    runId: s.runId, workload: s.workload, mix: s.mix, rate: s.rate, durationMs: s.durationMs, rampMs: s.rampMs,
    ...(s.hosts ? { hosts: s.hosts } : {}),
  };
}

/** The send plan for validated settings, in either mode, with the staleness probe when it is on. */
export function buildPlan(s: RunSettings): StatementsPlan | SlicePlan {
  const plan = buildLoadPlan(s);
  return s.stalenessProbe ? withStalenessProbe(plan, runSpecOf(s)) : plan;
}

function buildLoadPlan(s: RunSettings): StatementsPlan | SlicePlan {
  const spec = runSpecOf(s);
  if (s.mode === 'statements') return planStatements(spec, s.count);
  return planSlices(spec, {
    ...(s.workers !== undefined ? { workers: s.workers } : {}),
    maxWorkerRate: s.maxWorkerRate,
    startLeadMs: s.startLeadMs,
    sliceMaxMs: SLICE_DEFAULTS.sliceMaxMs,
    ...(s.lateLimitMs !== undefined ? { lateLimitMs: s.lateLimitMs } : {}),
  });
}
