import { join } from 'node:path';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { METRIC_NAMESPACE_DEFAULT } from '../../handlers/contract';
import { isWorkloadName, operationsOf, projectCatalog } from '../../handlers/workloads/project';
import { cloudWatch, rds } from '../aws/clients';
import { readDatabaseSection } from '../aws/database-metrics';
import { resolveAwsResources } from '../aws/resources';
import { readMeasured, readMessageOutcomes, type MetricsWindow, type Operations } from '../aws/run-metrics';
import { EXIT, UsageError } from '../errors';
import { parseRegressionLimits } from '../options/regression';
import { compareRuns, evaluateRegressions, formatComparison } from '../report/compare';
import { renderCompareHtml, renderRunHtml } from '../report/html/render';
import { evaluateThresholds } from '../report/thresholds';
import { parseDuration } from '../options/duration';
import { parseRegion, RUN_DEFAULTS } from '../options/run-options';
import { parseThreshold, type Threshold } from '../options/threshold';
import { RUN_RECORD_VERSION, type RunFacts, type RunRecord } from '../report/run-record';
import { RunStore } from '../report/store';
import { summarize } from '../report/summary';
import { read, settle } from '../run/aws-backend';
import { checkHtmlTarget, finish, saveRun, writeHtml } from './finish';
import type { CliIo } from './io';

export interface RawReportOptions {
  run?: string;
  local?: boolean;
  refresh?: boolean;
  json?: boolean;
  threshold?: string[];
  region?: string;
  stack?: string;
  namespace?: string;
  since?: string;
  html?: string;
  compare?: string[];
  maxRegression?: string[];
}

/**
 * `report [--run ID]`: print a saved run again, exactly as it printed (its thresholds checked
 * again, or the ones given here). `--refresh` reads an AWS run's metrics from CloudWatch again and
 * saves the new summary; an AWS run not saved here is read from CloudWatch over the last `--since`.
 */
export async function reportCommand(raw: RawReportOptions, io: CliIo): Promise<number> {
  if (raw.compare !== undefined) return compareCommand(raw, io);
  if (raw.maxRegression !== undefined) throw new UsageError('--max-regression compares two runs: use it with --compare A B');
  if (raw.html !== undefined) checkHtmlTarget(raw.html, io.cwd);
  const given = raw.threshold?.map(parseThreshold);
  const sinceMs = raw.since !== undefined ? parseDuration(raw.since, '--since') : 3 * 3_600_000;
  const region = raw.region !== undefined ? parseRegion(raw.region) : undefined;
  const store = new RunStore(join(io.cwd, '.runs'));
  const runId = raw.run ?? await store.latest();
  if (!runId) throw new UsageError('no runs saved in .runs/ here: pass --run ID (the id a run printed)');
  const saved = await store.load(runId);
  if (raw.local && saved?.facts.source !== 'local') throw new UsageError(`no local run ${runId} saved in .runs/: local runs are saved there when they finish`);
  if (raw.refresh && saved?.facts.source === 'local') throw new UsageError('--refresh reads an AWS run from CloudWatch again; a local run is all in its saved record');
  const thresholds = given ?? (saved ? saved.facts.settings.thresholds.map(parseThreshold) : []);
  if (saved && !raw.refresh) return finishWithHtml(saved, thresholds, raw, io);

  // Metrics need a region and a namespace, not the queue: the stack is read only to learn them.
  let metricsRegion = region ?? (saved?.cloud?.region || undefined);
  let namespace = raw.namespace ?? saved?.cloud?.namespace;
  if (!namespace) {
    const aws = await resolveAwsResources({ stack: raw.stack ?? RUN_DEFAULTS.stack, ...(metricsRegion ? { region: metricsRegion } : {}) }).catch(() => undefined);
    namespace = aws?.namespace ?? METRIC_NAMESPACE_DEFAULT;
    metricsRegion ??= aws?.region;
  }
  const now = io.clock.now();
  const window: MetricsWindow = { namespace, runId, startMs: saved?.cloud?.startMs ?? now - sinceMs, endMs: now };
  const cw = await cloudWatch(metricsRegion);
  try {
    const record = saved ? await refreshed(cw, saved, window, now) : await foreign(cw, window, now);
    if (saved) await saveRun(record, io);
    return await finishWithHtml(record, thresholds, raw, io);
  } finally {
    cw.destroy();
  }
}

/** Print the summary (and write the HTML report when asked), then the exit code. */
async function finishWithHtml(record: RunRecord, thresholds: readonly Threshold[], raw: RawReportOptions, io: CliIo): Promise<number> {
  if (raw.html !== undefined) await writeHtml(raw.html, renderRunHtml({ record, thresholds: evaluateThresholds(record.summary, thresholds) }), io);
  return finish(record.summary, thresholds, raw.json === true, io);
}

/**
 * `report --compare A B`: two saved runs side by side, as text, JSON or HTML; with
 * `--max-regression`, exit 1 when B is worse than A by more than allowed.
 */
async function compareCommand(raw: RawReportOptions, io: CliIo): Promise<number> {
  const ids = raw.compare ?? [];
  if (ids.length !== 2) throw new UsageError(`--compare takes two run ids, A then B (the baseline first), got ${ids.length}: e.g. --compare nightly-41 nightly-42`);
  for (const [flag, given] of [['--run', raw.run], ['--refresh', raw.refresh], ['--threshold', raw.threshold], ['--since', raw.since], ['--local', raw.local]] as const) {
    if (given !== undefined) throw new UsageError(`${flag} is for one run; --compare reads two saved runs as they are`);
  }
  const limits = (raw.maxRegression ?? []).flatMap(parseRegressionLimits);
  if (raw.html !== undefined) checkHtmlTarget(raw.html, io.cwd);
  const store = new RunStore(join(io.cwd, '.runs'));
  const [a, b] = await Promise.all(ids.map(async (id) => {
    const r = await store.load(id);
    if (!r) throw new UsageError(`no run ${id} saved in .runs/ here: --compare reads saved runs (node trigger report --run ${id} --refresh saves an AWS run read from CloudWatch)`);
    return r;
  })) as [RunRecord, RunRecord];
  const comparison = compareRuns(a.summary, b.summary);
  const regressions = evaluateRegressions(a.summary, b.summary, limits);
  if (raw.json) io.out(JSON.stringify({ ...comparison, regressions }, null, 2));
  else io.out(formatComparison(comparison, regressions));
  if (raw.html !== undefined) await writeHtml(raw.html, renderCompareHtml({ a, b, comparison, regressions }), io);
  return regressions.some((r) => !r.ok) ? EXIT.failed : EXIT.ok;
}

/** A saved AWS run read again: new measurements, the same facts, completeness judged again. */
async function refreshed(cw: CloudWatchClient, saved: RunRecord, window: MetricsWindow, now: number): Promise<RunRecord> {
  const f = saved.facts;
  const mixOps = new Set(f.settings.mix.map((m) => m.op));
  const operations = isWorkloadName(f.settings.workload) ? operationsOf(f.settings.workload).filter((o) => mixOps.has(o.op)) : allOperations();
  const outcomes = await read(() => readMessageOutcomes(cw, window), f.runId);
  const settled = settle(outcomes, f.messagesSent);
  const measured = await read(() => readMeasured(cw, window, operations, now), f.runId);
  const region = saved.cloud?.region ?? '';
  const database = await readDatabaseSection(cw, () => rds(region || undefined), saved.cloud?.database ?? {}, measured.timeline, now);
  const facts: RunFacts = {
    ...f,
    notes: [...f.notes, ...database.notes.filter((n) => !f.notes.includes(n))],
    incomplete: settled.complete ? null : `${settled.done} of ${f.messagesSent} messages reported done when read again; node trigger report --run ${f.runId} --refresh reads CloudWatch again`,
  };
  const all = database.samples ? { ...measured, database: database.samples } : measured;
  const { database: _old, ...rest } = saved;
  return {
    ...rest, facts, summary: summarize(facts, all), timeline: measured.timeline,
    ...(database.samples ? { database: database.samples } : {}),
    cloud: { region, namespace: window.namespace, startMs: window.startMs, endMs: window.endMs, database: database.source },
  };
}

/** An AWS run not started from here: only its metrics are known. Not saved. */
async function foreign(cw: CloudWatchClient, window: MetricsWindow, now: number): Promise<RunRecord> {
  const measured = await read(() => readMeasured(cw, window, allOperations(), now), window.runId);
  const durationMs = window.endMs - window.startMs;
  const facts: RunFacts = {
    runId: window.runId,
    source: 'cloudwatch',
    settings: { workload: 'unknown', mode: 'slice', mix: [], rate: 0, durationMs, rampMs: 0, thresholds: [] },
    plan: { description: 'unknown', messages: 0, statements: 0, averageRate: 0, perSecond: [] },
    loadStartAt: window.startMs,
    durationMs,
    interrupted: false,
    messagesSent: 0,
    deadLetterQueueGrowth: null,
    notes: [`run ${window.runId} was not started from here: throughput is over the whole ${Math.round(durationMs / 60_000)}-minute window and the planned rate is unknown`],
    incomplete: null,
  };
  return { version: RUN_RECORD_VERSION, runId: window.runId, facts, summary: summarize(facts, measured), timeline: measured.timeline };
}

/** Every workload's operations: what a run of unknown workload may have run. */
function allOperations(): Operations {
  return projectCatalog().names.flatMap((w) => operationsOf(w));
}
