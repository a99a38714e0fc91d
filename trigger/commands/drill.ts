import { faultDrill, FAULT_KINDS, type FaultKind } from '../drills/faults';
import { UsageError } from '../errors';
import { formatDuration, parseDuration } from '../options/duration';
import { resolveRunOptions } from '../options/run-options';
import { buildPlan } from '../plan/build';
import { LocalBackend } from '../run/local-backend';
import { runPipeline } from '../run/pipeline';
import type { CliIo } from './io';

export interface RawDrillOptions {
  local?: boolean;
  workload?: string;
  rate?: string;
  duration?: string;
  at?: string;
  down?: string;
  scale?: string;
  threshold?: string[];
  json?: boolean;
  runId?: string;
  save?: boolean;
}

/**
 * The queue settings of a drill engine: a visibility timeout short enough that a failed message
 * comes back within the drill (and that a storm's slices outlive it), more receives before the
 * dead-letter queue than the stack's 3, and enough concurrency for the redelivered copies.
 */
const DRILL_ENGINE = { visibilityTimeoutMs: 1_000, maxReceiveCount: 5, maxConcurrency: 12 } as const;

const DRILL_DEFAULTS = {
  /** Server faults: statements per second, load length, when the servers stop and for how long. */
  rate: '100', durationMs: 5_000, atMs: 1_000, downMs: 1_500,
  /** Redelivery storm: 4 slices of the whole duration at 200/s, sent 300 ms ahead. */
  storm: { rate: '200', durationMs: 2_500, workers: '4', startLead: '300ms' },
} as const;

/**
 * `drill KIND --local`: a fault drill on the local engine, through the run pipeline. The server
 * faults run statements-mode load (a failure fails its message, which is redelivered); the storm
 * runs slices longer than the queue's visibility timeout. Each ends in a reconciliation, and a
 * drill whose books do not balance exits 1.
 */
export async function drillCommand(kind: string, raw: RawDrillOptions, io: CliIo): Promise<number> {
  if (!(FAULT_KINDS as readonly string[]).includes(kind)) throw new UsageError(`unknown drill "${kind}": use ${FAULT_KINDS.join(', ')}`);
  const fault = kind as FaultKind;
  if (!raw.local) throw new UsageError('drills stop and start database servers: they run on the local engine only; add --local');
  const storm = fault === 'redelivery-storm';
  if (storm && (raw.at !== undefined || raw.down !== undefined)) throw new UsageError('--at and --down are for the server faults; a redelivery storm has no moment: its slices outlive the visibility timeout');
  const durationText = raw.duration ?? `${storm ? DRILL_DEFAULTS.storm.durationMs : DRILL_DEFAULTS.durationMs}ms`;
  const s = resolveRunOptions({
    local: true,
    // The books count the load's messages and rows; a probe would only add its own.
    stalenessProbe: false,
    duration: durationText,
    rate: raw.rate ?? (storm ? DRILL_DEFAULTS.storm.rate : DRILL_DEFAULTS.rate),
    ...(storm
      ? { mode: 'slice', workers: DRILL_DEFAULTS.storm.workers, startLead: DRILL_DEFAULTS.storm.startLead }
      : { mode: 'statements', count: '5' }),
    ...(raw.workload !== undefined ? { workload: raw.workload } : {}),
    ...(raw.scale !== undefined ? { scale: raw.scale } : {}),
    ...(raw.threshold ? { threshold: raw.threshold } : {}),
    ...(raw.json ? { json: true } : {}),
    ...(raw.runId !== undefined ? { runId: raw.runId } : {}),
    save: raw.save !== false,
  });
  const atMs = raw.at !== undefined ? parseDuration(raw.at, '--at') : DRILL_DEFAULTS.atMs;
  const downMs = raw.down !== undefined ? parseDuration(raw.down, '--down') : DRILL_DEFAULTS.downMs;
  if (!storm && !(atMs > 0 && atMs < s.durationMs)) throw new UsageError(`--at ${formatDuration(atMs)} must fall within the load: after 0s and before --duration (${formatDuration(s.durationMs)})`);
  if (!storm && !(downMs > 0 && downMs <= 60_000)) throw new UsageError(`--down must be more than 0s and at most 1m, got ${formatDuration(downMs)}`);
  if (storm && !(s.durationMs > DRILL_ENGINE.visibilityTimeoutMs && s.durationMs <= 60_000)) {
    throw new UsageError(`a redelivery storm needs slices longer than the visibility timeout (${formatDuration(DRILL_ENGINE.visibilityTimeoutMs)}) and at most 1m: give --duration between 2s and 1m`);
  }
  io.err(`${fault} drill: ${storm ? `slices of ${formatDuration(s.durationMs)} against a ${formatDuration(DRILL_ENGINE.visibilityTimeoutMs)} visibility timeout` : `${fault === 'both-down' ? 'both servers stop' : `the ${fault.split('-')[0]} stops`} ${formatDuration(atMs)} into the load, for ${formatDuration(downMs)}`}`);
  return runPipeline({
    settings: s,
    plan: buildPlan(s),
    backend: new LocalBackend({
      workload: s.workload,
      ...(s.scale !== undefined ? { scale: s.scale } : {}),
      endpoints: s.kinds.size,
      engine: DRILL_ENGINE,
    }),
    drill: (b) => faultDrill({ engine: b.engine, kind: fault, runId: s.runId, workload: s.workload, atMs, downMs, clock: io.clock, log: io.err }),
    io,
  });
}
