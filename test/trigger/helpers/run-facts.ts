import type { RunFacts } from '../../../trigger/report/run-record';

/** The facts of a 10-second local run of seed at 200/s, with whatever a test changes. */
export function runFacts(over: Partial<RunFacts> = {}): RunFacts {
  return {
    runId: 'run-a',
    source: 'local',
    settings: { workload: 'seed', mode: 'slice', mix: [{ op: 'select', weight: 80 }, { op: 'insert', weight: 20 }], rate: 200, durationMs: 10_000, rampMs: 0, thresholds: [] },
    plan: { description: 'slice mode', messages: 2, statements: 2000, averageRate: 200, perSecond: Array.from({ length: 10 }, () => 200) },
    loadStartAt: 1_700_000_000_000,
    durationMs: 10_000,
    interrupted: false,
    messagesSent: 2,
    deadLetterQueueGrowth: 0,
    notes: [],
    incomplete: null,
    ...over,
  };
}
