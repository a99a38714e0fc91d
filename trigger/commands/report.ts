import { join } from 'node:path';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { METRIC_NAMESPACE_DEFAULT } from '../../handlers/contract';
import { WORKLOAD_NAMES, isWorkloadName } from '../../handlers/workloads/catalog';
import { operationsOf } from '../../handlers/workloads/operations';
import { cloudWatch, rds } from '../aws/clients';
import { readDatabaseSection } from '../aws/database-metrics';
import { resolveAwsResources } from '../aws/resources';
import { readMeasured, readMessageOutcomes, type MetricsWindow, type Operations } from '../aws/run-metrics';
import { UsageError } from '../errors';
import { parseDuration } from '../options/duration';
import { parseRegion, RUN_DEFAULTS } from '../options/run-options';
import { parseThreshold } from '../options/threshold';
import { RUN_RECORD_VERSION, type RunFacts, type RunRecord } from '../report/run-record';
import { RunStore } from '../report/store';
import { summarize } from '../report/summary';
import { read, settle } from '../run/aws-backend';
import { finish, saveRun } from './finish';
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
}

/**
 * `report [--run ID]`: print a saved run again, exactly as it printed (its thresholds checked
 * again, or the ones given here). `--refresh` reads an AWS run's metrics from CloudWatch again and
 * saves the new summary; an AWS run not saved here is read from CloudWatch over the last `--since`.
 */
export async function reportCommand(raw: RawReportOptions, io: CliIo): Promise<number> {
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
  if (saved && !raw.refresh) return finish(saved.summary, thresholds, raw.json === true, io);

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
    return finish(record.summary, thresholds, raw.json === true, io);
  } finally {
    cw.destroy();
  }
}

/** A saved AWS run read again: new measurements, the same facts, completeness judged again. */
async function refreshed(cw: CloudWatchClient, saved: RunRecord, window: MetricsWindow, now: number): Promise<RunRecord> {
  const f = saved.facts;
  const mixOps = new Set(f.settings.mix.map((m) => m.op));
  const operations = isWorkloadName(f.settings.workload) ? operationsOf(f.settings.workload).filter((o) => mixOps.has(o.op)) : allOperations();
  const outcomes = await read(() => readMessageOutcomes(cw, window), f.runId);
  const settled = settle(outcomes, f.deadLettered ?? undefined, f.messagesSent);
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
    deadLettered: null,
    notes: [`run ${window.runId} was not started from here: throughput is over the whole ${Math.round(durationMs / 60_000)}-minute window and the planned rate is unknown`],
    incomplete: null,
  };
  return { version: RUN_RECORD_VERSION, runId: window.runId, facts, summary: summarize(facts, measured), timeline: measured.timeline };
}

/** Every workload's operations: what a run of unknown workload may have run. */
function allOperations(): Operations {
  return WORKLOAD_NAMES.flatMap((w) => operationsOf(w));
}
