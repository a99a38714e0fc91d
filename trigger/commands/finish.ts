import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { renderRunHtml } from '../report/html/render';
import { EXIT, UsageError } from '../errors';
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

/** Before a run: `--html FILE` must be writable where it points, or the run would end without it. */
export function checkHtmlTarget(file: string, cwd: string): void {
  const path = resolve(cwd, file);
  const dir = dirname(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--html ${file}: the directory ${dir} does not exist`);
  if (existsSync(path) && statSync(path).isDirectory()) throw new UsageError(`--html ${file} is a directory: give a file name, e.g. --html run.html`);
}

/** Write `html` to `file` (relative to the working directory); says where, and how big. */
export async function writeHtml(file: string, html: string, io: CliIo): Promise<void> {
  const path = resolve(io.cwd, file);
  await writeFile(path, html);
  io.err(`wrote ${path} (${(Buffer.byteLength(html) / 1024).toFixed(0)} KB; opens offline in any browser)`);
}

/** The run's HTML report (`--html FILE`); a failure to write it is reported, never fatal: the run is saved. */
export async function writeHtmlReport(file: string, record: RunRecord, thresholds: readonly Threshold[], io: CliIo): Promise<void> {
  try {
    await writeHtml(file, renderRunHtml({ record, thresholds: evaluateThresholds(record.summary, thresholds) }), io);
  } catch (e) {
    io.err(`could not write the HTML report to ${file}: ${(e as Error).message}; node trigger report --run ${record.runId} --html FILE writes it from the saved run`);
  }
}
