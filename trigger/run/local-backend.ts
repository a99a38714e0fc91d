import type { WorkloadName } from '../../handlers/workloads/catalog';
import { aborted, type CliIo } from '../commands/io';
import { initWorkload, startEngine } from '../commands/local-engine';
import { formatDuration } from '../options/duration';
import type { ServerUrls } from '../options/postgres-url';
import { DEFAULTS } from '../../handlers/config';
import { EVENT_SOURCE_DEFAULTS, SCALE_UP_DEFAULTS } from '../../handlers/event-source';
import { EMBEDDED_MAX_CONNECTIONS } from '../local/data-dir';
import { checkFleet, fitLine, fleetOf, type Fleet } from '../plan/fleet';
import type { SendPlan } from '../plan/send-plan';
import type { SlicePlan } from '../plan/slice-plan';
import { deadLetterCrossCheck, deadLettersOf } from '../report/dead-letters';
import { measureInvocations } from '../report/timeline';
import { LocalTransport } from '../send/local-transport';
import type { LocalEngine, LocalEngineOptions } from '../local/engine';
import { ServerSampler } from '../local/server-sampler';
import type { Backend, Collected, RunWindow } from './backend';

/** Visibility timeout beyond lead + slice: the worker's deadline margin and a slow last statement. */
const VISIBILITY_MARGIN_MS = 30_000;
/** How long to wait, past the planned end, for the last invocations to finish. */
const DRAIN_GRACE_MS = 60_000;
/** After Ctrl-C, how long running invocations get to stop and publish their partial metrics. */
const INTERRUPT_SETTLE_MS = 3_000;
/** After Ctrl-C, how long the engine may take to stop before the process exits anyway. */
const INTERRUPT_STOP_GRACE_MS = 2_000;

export interface LocalBackendOptions {
  /** `--writer-url` / `--reader-url`. @default the embedded writer + hot standby */
  readonly servers?: ServerUrls;
  readonly workload: WorkloadName;
  /** tpcb scale factor for the init. */
  readonly scale?: number;
  /** `--max-connections`. @default read from the writer */
  readonly maxConnections?: number;
  /** Pools per worker: one per kind of traffic in the mix. */
  readonly endpoints: number;
  /** `--max-concurrency`. @default the stack's (EVENT_SOURCE_DEFAULTS.maxConcurrency) */
  readonly maxConcurrency?: number;
  /** Model the event source's scale-up (`--no-scale-up`: false). */
  readonly scaleUp: boolean;
  /** Engine settings a drill needs (failover endpoints, a short visibility timeout...); they win over the plan's. */
  readonly engine?: Pick<LocalEngineOptions, 'failoverEndpoints' | 'visibilityTimeoutMs' | 'maxReceiveCount' | 'maxConcurrency' | 'statementTimeoutMs' | 'functionTimeoutMs'>;
}

/** The local engine's fleet: the stack's event-source settings unless the flags (or a drill) say otherwise. */
export function localFleet(o: Pick<LocalBackendOptions, 'servers' | 'maxConnections' | 'endpoints' | 'maxConcurrency' | 'scaleUp' | 'engine'>): Fleet {
  return fleetOf({
    maxConcurrency: o.engine?.maxConcurrency ?? o.maxConcurrency ?? EVENT_SOURCE_DEFAULTS.maxConcurrency,
    poolMax: DEFAULTS.poolMax,
    endpoints: o.endpoints,
    // The embedded servers' is known before they start; servers given are asked once started.
    maxConnections: o.maxConnections ?? (o.servers ? undefined : EMBEDDED_MAX_CONNECTIONS),
    scaleUp: o.scaleUp,
  });
}

/**
 * The local engine as a backend: an embedded PostgreSQL writer + hot standby (or the servers given),
 * an in-process queue with SQS semantics and the Lambda's own worker code. Every process it
 * starts is stopped in {@link close}, Ctrl-C included.
 */
export class LocalBackend implements Backend {
  readonly source = 'local';
  #engine: LocalEngine | undefined;
  #transport: LocalTransport | undefined;
  #deadLetteredBefore = 0;
  #sampler: ServerSampler | undefined;
  /** Set when the workers had not drained in time: the run's numbers are then incomplete. */
  #busy: string | undefined;

  constructor(private readonly o: LocalBackendOptions) {}

  /** The running engine (after {@link prepare}): drills drive it. */
  get engine(): LocalEngine {
    if (!this.#engine) throw new Error('the local engine is not started yet');
    return this.#engine;
  }

  get transport(): LocalTransport {
    if (!this.#transport) throw new Error('the local engine is not started yet');
    return this.#transport;
  }

  async prepare(plan: SendPlan, io: CliIo): Promise<void> {
    const o = this.o;
    if (o.servers) io.err(`servers: writer ${o.servers.writer.shown}, reader ${o.servers.reader.shown}`);
    // Refused before anything starts when it cannot fit.
    let fleet = localFleet(o);
    let fit = checkFleet(plan, fleet);
    // A slice (or staleness probe) message stays in flight from receipt to its end, so the
    // visibility timeout must outlast lead + duration, or the queue would hand the same message to
    // a second worker (as SQS would with a visibility timeout shorter than the Lambda timeout).
    const held = [...(plan.mode === 'slice' ? (plan as SlicePlan).slices : []), ...(plan.probe ?? [])];
    const engine = await startEngine({
      ...(o.servers ? { servers: o.servers } : {}),
      maxConcurrency: fleet.maxConcurrency!,
      scaleUp: o.scaleUp ? SCALE_UP_DEFAULTS : null,
      ...(held.length > 0 ? { visibilityTimeoutMs: held.reduce((m, x) => Math.max(m, x.leadMs + x.durationMs), 0) + VISIBILITY_MARGIN_MS } : {}),
      ...o.engine,
      log: io.err,
    });
    this.#engine = engine;
    this.#transport = new LocalTransport(engine.queue);
    io.err(`worker log: ${engine.logFile}`);
    if (io.signal.aborted) return;
    if (fleet.maxConnections === undefined) {
      fleet = { ...fleet, maxConnections: await engine.maxConnections() };
      fit = checkFleet(plan, fleet);
    }
    io.err(fitLine(plan, fit, fleet));
    io.err(`initialising ${o.workload} (idempotent)...`);
    await Promise.race([initWorkload(engine, o.workload, { ...(o.scale !== undefined ? { scale: o.scale } : {}) }), aborted(io.signal)]);
    this.#deadLetteredBefore = engine.queue.stats.deadLettered;
    this.#sampler = new ServerSampler(engine.sampledServers(), io.clock).start();
  }

  progress(): ReturnType<Backend['progress']> {
    const e = this.engine;
    const statements = e.live.ok + e.live.errors;
    return { ...(statements > 0 ? { statements } : {}), errors: e.live.errors, depth: e.queue.depth };
  }

  async awaitLoad(loadEndAt: number, io: CliIo): Promise<void> {
    const remaining = Math.max(0, loadEndAt - io.clock.now());
    const drained = await Promise.race([
      this.engine.idle(remaining + DRAIN_GRACE_MS).then(() => true, () => false),
      aborted(io.signal).then(() => true),
    ]);
    if (!drained) this.#busy = `the workers were still busy ${formatDuration(DRAIN_GRACE_MS)} after the planned end; their unfinished invocations are not counted`;
  }

  async interrupt(sent: number, total: number): Promise<string> {
    const engine = this.engine;
    engine.interrupt();
    const purged = await this.transport.purge().then(() => true, () => false);
    // Running slices now end within ~100 ms and publish what they measured.
    const settled = await engine.idle(INTERRUPT_SETTLE_MS).then(() => true, () => false);
    return `${sent} of ${total} messages sent${purged ? ', the rest of the queue purged' : ''}; ${settled ? 'running slices were stopped and what they ran is counted' : 'some invocations were still running and are not counted'}`;
  }

  async collect(run: RunWindow): Promise<Collected> {
    const engine = this.engine;
    const measured = measureInvocations(engine.sink.invocations, run.runId, run.loadStartAt, run.loadEndAt);
    const t = measured.timeline;
    await this.#sampler?.stop();
    const growth = engine.queue.stats.deadLettered - this.#deadLetteredBefore;
    const crossCheck = deadLetterCrossCheck(deadLettersOf(t), growth);
    return {
      measured: this.#sampler ? { ...measured, database: this.#sampler.samples(t.startMs, t.startMs + t.steps * t.stepSeconds * 1000) } : measured,
      deadLetterQueueGrowth: growth,
      replicaLag: await engine.replicationLag().catch(() => null),
      incomplete: this.#busy ?? null,
      notes: crossCheck ? [crossCheck] : [],
    };
  }

  /**
   * Stop the engine. After Ctrl-C, do not wait for slices still running (a stop waits for the
   * invocations in flight, up to a whole slice): give it a moment, then leave the rest to the
   * process exit, where the engine's exit guard shuts the servers down.
   */
  async close(io: CliIo): Promise<void> {
    const engine = this.#engine;
    if (!engine) return;
    await this.#sampler?.stop();
    if (!io.signal.aborted) return engine.stop();
    const stopped = await Promise.race([
      engine.stop().then(() => true),
      io.clock.sleep(INTERRUPT_STOP_GRACE_MS).then(() => false),
    ]);
    if (!stopped) io.err('invocations still running were abandoned; the local servers are shut down as the process exits');
  }
}
