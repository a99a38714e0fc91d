import { DEFAULTS } from '../../handlers/config';
import { usableInvocationMs } from '../../handlers/deadline';
import { EVENT_SOURCE_DEFAULTS } from '../../handlers/event-source';
import { DEFAULT_LATE_LIMIT_MS } from '../../handlers/protocol/message';
import { faultDrill, FAULT_KINDS, type FaultKind } from '../drills/faults';
import { UsageError } from '../errors';
import { formatDuration, parseDuration } from '../options/duration';
import { resolveRunOptions } from '../options/run-options';
import { buildPlan } from '../plan/build';
import { LocalBackend, localFleet, type LocalBackendOptions } from '../run/local-backend';
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
  /** `-D name=value`, repeatable. */
  define?: string[];
  threshold?: string[];
  json?: boolean;
  runId?: string;
  save?: boolean;
}

/**
 * The queue settings of a drill engine: a visibility timeout short enough that a storm's slices
 * outlive it (a failed message comes back after the worker's own backoff, 5 s at first), the
 * stack's maxReceiveCount, and enough concurrency for the redelivered copies.
 */
const DRILL_ENGINE = { visibilityTimeoutMs: 1_000, maxConcurrency: 12 } as const;

const DRILL_DEFAULTS = {
  /** Server faults: statements per second, load length, when the servers stop and for how long. */
  rate: '100', durationMs: 5_000, atMs: 1_000, downMs: 1_500,
  /** Redelivery storm: 4 slices of the whole duration at 200/s, sent 300 ms ahead. */
  storm: { rate: '200', durationMs: 2_500, workers: '4', startLead: '300ms' },
  /**
   * Silent writer: slices of 6 s; the writer goes silent 1 s in and stays so past the end of the
   * load, so that only the worker's own timeouts can end its slices. A 1 s statement timeout keeps
   * the drill short (its query timeout is 3 s).
   */
  silent: { durationMs: 6_000, atMs: 1_000, downMs: 8_000, statementTimeoutMs: 1_000 },
} as const;

/**
 * The silent writer's engine: endpoints that can be silenced, a short statement timeout, and a
 * function timeout only just long enough for a slice and the time the worker keeps at the end, so
 * an invocation held by a dead connection would time out and lose its metrics.
 */
function silentEngine(startLeadMs: number, durationMs: number): NonNullable<LocalBackendOptions['engine']> {
  const { statementTimeoutMs } = DRILL_DEFAULTS.silent;
  const worker = { statementTimeoutMs, deadlineMarginMs: DEFAULTS.deadlineMarginMs };
  return {
    maxConcurrency: DRILL_ENGINE.maxConcurrency,
    failoverEndpoints: true,
    statementTimeoutMs,
    functionTimeoutMs: startLeadMs + durationMs + (EVENT_SOURCE_DEFAULTS.functionTimeoutMs - usableInvocationMs(EVENT_SOURCE_DEFAULTS.functionTimeoutMs, worker, DEFAULT_LATE_LIMIT_MS)) + 2_000,
  };
}

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
  const silent = fault === 'writer-silent';
  if (storm && (raw.at !== undefined || raw.down !== undefined)) throw new UsageError('--at and --down are for the server faults; a redelivery storm has no moment: its slices outlive the visibility timeout');
  const durationText = raw.duration ?? `${storm ? DRILL_DEFAULTS.storm.durationMs : silent ? DRILL_DEFAULTS.silent.durationMs : DRILL_DEFAULTS.durationMs}ms`;
  const s = resolveRunOptions({
    local: true,
    // The books count the load's messages and rows; a probe would only add its own.
    stalenessProbe: false,
    duration: durationText,
    rate: raw.rate ?? (storm ? DRILL_DEFAULTS.storm.rate : DRILL_DEFAULTS.rate),
    ...(storm
      ? { mode: 'slice', workers: DRILL_DEFAULTS.storm.workers, startLead: DRILL_DEFAULTS.storm.startLead }
      : silent ? { mode: 'slice' } : { mode: 'statements', count: '5' }),
    ...(raw.workload !== undefined ? { workload: raw.workload } : {}),
    ...(raw.scale !== undefined ? { scale: raw.scale } : {}),
    ...(raw.define ? { define: raw.define } : {}),
    ...(raw.threshold ? { threshold: raw.threshold } : {}),
    ...(raw.json ? { json: true } : {}),
    ...(raw.runId !== undefined ? { runId: raw.runId } : {}),
    save: raw.save !== false,
  });
  const atMs = raw.at !== undefined ? parseDuration(raw.at, '--at') : silent ? DRILL_DEFAULTS.silent.atMs : DRILL_DEFAULTS.atMs;
  const downMs = raw.down !== undefined ? parseDuration(raw.down, '--down') : silent ? DRILL_DEFAULTS.silent.downMs : DRILL_DEFAULTS.downMs;
  if (!storm && !(atMs > 0 && atMs < s.durationMs)) throw new UsageError(`--at ${formatDuration(atMs)} must fall within the load: after 0s and before --duration (${formatDuration(s.durationMs)})`);
  if (!storm && !(downMs > 0 && downMs <= 60_000)) throw new UsageError(`--down must be more than 0s and at most 1m, got ${formatDuration(downMs)}`);
  if (storm && !(s.durationMs > DRILL_ENGINE.visibilityTimeoutMs && s.durationMs <= 60_000)) {
    throw new UsageError(`a redelivery storm needs slices longer than the visibility timeout (${formatDuration(DRILL_ENGINE.visibilityTimeoutMs)}) and at most 1m: give --duration between 2s and 1m`);
  }
  const what = storm ? `slices of ${formatDuration(s.durationMs)} against a ${formatDuration(DRILL_ENGINE.visibilityTimeoutMs)} visibility timeout`
    : silent ? `the writer stops answering (sockets stay open) ${formatDuration(atMs)} into the load, for ${formatDuration(downMs)}`
      : `${fault === 'both-down' ? 'both servers stop' : `the ${fault.split('-')[0]} stops`} ${formatDuration(atMs)} into the load, for ${formatDuration(downMs)}`;
  io.err(`${fault} drill: ${what}`);
  const options: LocalBackendOptions = {
    workload: s.workload,
    ...(s.scale !== undefined ? { scale: s.scale } : {}),
    endpoints: s.kinds.size,
    scaleUp: s.scaleUp,
    engine: silent ? silentEngine(s.startLeadMs, s.durationMs) : DRILL_ENGINE,
  };
  return runPipeline({
    settings: s,
    plan: buildPlan(s, localFleet(options)),
    backend: new LocalBackend(options),
    drill: (b) => faultDrill({ engine: b.engine, kind: fault, runId: s.runId, workload: s.workload, atMs, downMs, clock: io.clock, log: io.err }),
    io,
  });
}
