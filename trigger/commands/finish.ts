import { join } from 'node:path';
import { EXIT } from '../errors';
import type { Threshold } from '../options/threshold';
import { formatSummary } from '../report/format';
import type { RunRecord } from '../report/run-record';
import { RunStore } from '../report/store';
import type { RunSummary } from '../report/summary';
import { evaluateThresholds } from '../report/thresholds';
import type { CliIo } from './io';

/**
 * Print a summary (text, or JSON with `json`), check the thresholds, and give the exit code:
 * 130 when interrupted; 1 when a threshold failed (an incomplete summary fails them all), a
 * drill's books did not balance, or nothing was measured; else 0.
 */
export function finish(summary: RunSummary, thresholds: readonly Threshold[], json: boolean, io: CliIo): number {
  const results = evaluateThresholds(summary, thresholds);
  if (json) io.out(JSON.stringify({ ...summary, thresholds: results }, null, 2));
  else io.out(formatSummary(summary, results));
  if (summary.interrupted) return EXIT.interrupted;
  if (results.some((r) => !r.ok)) return EXIT.failed;
  if (summary.drill?.reconciliation && !summary.drill.reconciliation.ok) {
    io.err(`the ${summary.drill.kind} drill did not reconcile: ${summary.drill.reconciliation.problems.join('; ')}`);
    return EXIT.failed;
  }
  if (summary.planned.statements > 0 && summary.achieved.statements === 0) {
    io.err('no statements were measured for this run: see the notes above');
    return EXIT.failed;
  }
  return EXIT.ok;
}

/** Save the run's record as `.runs/<runId>.json`; a failure to save is reported, never fatal. */
export async function saveRun(run: RunRecord, io: CliIo): Promise<void> {
  try {
    const file = await new RunStore(join(io.cwd, '.runs')).save(run);
    io.err(`saved ${file} (node trigger report --run ${run.runId})`);
  } catch (e) {
    io.err(`could not save the run under .runs/: ${(e as Error).message}`);
  }
}
