/**
 * The load a drill runs, planned and sent exactly as `node trigger --local` does (the trigger's own
 * planners, open-loop sender and local transport), so a drill exercises the real path.
 */
import type { MixEntry } from '../../handlers/protocol/message';
import type { WorkloadName } from '../../handlers/workloads/catalog';
import { projectCatalog } from '../../handlers/workloads/project';
import { hashesOf } from '../options/mix';
import { systemClock, type Clock } from '../clock';
import { CliError, EXIT } from '../errors';
import type { LocalEngine } from '../local/engine';
import { planSlices, SLICE_DEFAULTS, type SlicePlan } from '../plan/slice-plan';
import { planStatements } from '../plan/statements-plan';
import type { StatementsPlan } from '../plan/send-plan';
import { LocalTransport } from '../send/local-transport';
import { Sender, type SenderResult } from '../send/sender';

/** A drill that cannot run as asked (wrong engine, options that contradict each other). One line. */
export class DrillError extends CliError {
  override readonly name = 'DrillError';
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

export interface DrillLoad {
  readonly runId: string;
  readonly workload: WorkloadName;
  /** @default the workload's read and write operations, 80:20 */
  readonly mix?: readonly MixEntry[];
  /** Statements per second. */
  readonly rate: number;
  readonly durationMs: number;
  /** slice: linear load, failures are counted, messages succeed; statements: a failure fails the message, which SQS redelivers. */
  readonly mode: 'slice' | 'statements';
  /** Statements per message (statements mode). @default 5 */
  readonly count?: number;
  /** Slices sent this long before they start (slice mode). @default 1000 */
  readonly leadMs?: number;
  /** Concurrent slices (slice mode). @default ceil(rate / 100) */
  readonly workers?: number;
}

export interface SentLoad {
  readonly plan: SlicePlan | StatementsPlan;
  readonly transport: LocalTransport;
  readonly sender: SenderResult;
  /** Epoch ms the load on the database started and ended (as planned). */
  readonly loadStartAt: number;
  readonly loadEndAt: number;
}

export function defaultMix(workload: WorkloadName): MixEntry[] {
  const catalog = projectCatalog();
  return [{ op: catalog.defaultOp(workload, 'reader')!, weight: 80 }, { op: catalog.defaultOp(workload, 'writer')!, weight: 20 }];
}

export function planLoad(load: DrillLoad): SlicePlan | StatementsPlan {
  const mix = load.mix ?? defaultMix(load.workload);
  const spec = { runId: load.runId, workload: load.workload, mix, hashes: hashesOf(load.workload, mix), rate: load.rate, durationMs: load.durationMs, rampMs: 0 };
  if (load.mode === 'statements') return planStatements(spec, load.count ?? 5);
  return planSlices(spec, {
    ...(load.workers !== undefined ? { workers: load.workers } : {}),
    maxWorkerRate: SLICE_DEFAULTS.maxWorkerRate,
    leadMs: load.leadMs ?? 1000,
    sliceMaxMs: SLICE_DEFAULTS.sliceMaxMs,
  });
}

/**
 * Send the plan into the engine's queue on its schedule. `onLoadStart` is called with the epoch ms
 * the load on the database starts, before the first message leaves (so a fault can be timed
 * from it). Resolves once everything is sent (not yet run).
 */
export async function sendLoad(
  engine: Pick<LocalEngine, 'queue'>,
  plan: SlicePlan | StatementsPlan,
  opts: { onLoadStart?: (at: number) => void; signal?: AbortSignal; clock?: Clock } = {},
): Promise<SentLoad> {
  const transport = new LocalTransport(engine.queue);
  let t0 = 0;
  const sender = await new Sender(plan, transport, {
    clock: opts.clock ?? systemClock,
    ...(opts.signal ? { signal: opts.signal } : {}),
    onStart: (t) => {
      t0 = t;
      opts.onLoadStart?.(t + plan.loadStartMs);
    },
  }).run();
  return { plan, transport, sender, loadStartAt: t0 + plan.loadStartMs, loadEndAt: t0 + plan.loadStartMs + plan.loadDurationMs };
}

/** A fresh run id for a drill. */
export function drillRunId(kind: string): string {
  const d = new Date();
  const stamp = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
  return `drill-${kind}-${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return systemClock.sleep(ms, signal);
}
