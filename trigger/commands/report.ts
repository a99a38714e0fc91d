import { join } from 'node:path';
import { cloudWatch } from '../aws/clients';
import { UsageError } from '../errors';
import { parseDuration } from '../options/duration';
import { parseThreshold } from '../options/threshold';
import { RunStore } from '../report/store';
import type { RunContext } from '../report/summary';
import { resolveAwsTarget } from './aws-target';
import { finish } from './finish';
import type { CliIo } from './io';
import { read } from './run-aws';
import { parseRegion, RUN_DEFAULTS } from '../options/run-options';
import { DEFAULTS } from '../../handlers/config';

export interface RawReportOptions {
  run?: string;
  local?: boolean;
  json?: boolean;
  threshold?: string[];
  region?: string;
  stack?: string;
  namespace?: string;
  since?: string;
}

/**
 * `report [--run ID]`: a saved local run from `.runs/`, or an AWS run read again from CloudWatch
 * (over the window saved with it, or the last `--since` when this machine did not run it).
 */
export async function reportCommand(raw: RawReportOptions, io: CliIo): Promise<number> {
  const thresholds = (raw.threshold ?? []).map(parseThreshold);
  const sinceMs = raw.since !== undefined ? parseDuration(raw.since, '--since') : 3 * 3_600_000;
  const region = raw.region !== undefined ? parseRegion(raw.region) : undefined;
  const store = new RunStore(join(io.cwd, '.runs'));
  const runId = raw.run ?? await store.latest();
  if (!runId) throw new UsageError('no runs saved in .runs/ here: pass --run ID (the id a run printed)');
  const saved = await store.load(runId);
  if (raw.local) {
    if (!saved || saved.summary.source !== 'local') throw new UsageError(`no local run ${runId} saved in .runs/: local runs are saved there when they finish`);
  }
  if (saved && saved.summary.source === 'local') return finish(saved.summary, thresholds, raw.json === true, io);

  // Metrics need a region and a namespace, not the queue: the stack is read only to learn them.
  let metricsRegion = region ?? (saved?.cloud?.region || undefined);
  let namespace = raw.namespace ?? saved?.cloud?.namespace;
  if (!namespace) {
    const t = await resolveAwsTarget({ stack: raw.stack ?? RUN_DEFAULTS.stack, ...(metricsRegion ? { region: metricsRegion } : {}) }).catch(() => undefined);
    namespace = t?.namespace ?? DEFAULTS.metricNamespace;
    metricsRegion ??= t?.region;
  }
  const now = Date.now();
  const startMs = saved?.cloud?.startMs ?? now - sinceMs;
  const endMs = saved?.cloud?.endMs ?? now;
  const s = saved?.summary;
  const ctx: RunContext = {
    runId,
    workload: s?.workload ?? 'unknown',
    mode: s?.mode ?? 'slice',
    mix: s?.mix ?? 'unknown',
    startedAt: s ? Date.parse(s.startedAt) : startMs,
    durationMs: s?.durationMs ?? endMs - startMs,
    interrupted: s?.interrupted ?? false,
    rate: s?.target.rate ?? 0,
    averageRate: s?.target.averageRate ?? 0,
    plannedStatements: s?.target.statements ?? 0,
    messagesSent: s?.messages.sent ?? 0,
    deadLettered: s?.messages.deadLettered ?? null,
    ...(s?.send ? { send: s.send } : {}),
    notes: s ? [...s.notes] : [`run ${runId} was not started from here: throughput is over the whole ${Math.round((endMs - startMs) / 60_000)}-minute window and the target rate is unknown`],
  };
  const cw = await cloudWatch(metricsRegion);
  try {
    const summary = await read(cw, { namespace, runId, startMs, endMs }, ctx);
    return finish(summary, thresholds, raw.json === true, io);
  } finally {
    cw.destroy();
  }
}
