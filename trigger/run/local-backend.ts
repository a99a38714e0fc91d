import type { WorkloadName } from '../../handlers/workloads/catalog';
import { aborted, type CliIo } from '../commands/io';
import { initWorkload, startEngine } from '../commands/local-engine';
import { formatDuration } from '../options/duration';
import type { ServerUrls } from '../options/postgres-url';
import { checkConnectionBudget, RESERVED_CONNECTIONS } from '../plan/budget';
import type { SendPlan } from '../plan/send-plan';
import type { SlicePlan } from '../plan/slice-plan';
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
  /** Engine settings a drill needs (failover endpoints, a short visibility timeout...); they win over the plan's. */
  readonly engine?: Pick<LocalEngineOptions, 'failoverEndpoints' | 'visibilityTimeoutMs' | 'maxReceiveCount' | 'maxConcurrency'>;
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
    // Each worker holds one invocation; a slice sent ahead of its start briefly holds a second. A
    // slice message stays in flight from receipt to the slice's end, so the visibility timeout must
    // outlast lead + slice, or the queue would hand the same slice to a second worker (as SQS would
    // with a visibility timeout shorter than the Lambda timeout).
    const slices = plan.mode === 'slice' ? (plan as SlicePlan) : undefined;
    const engine = await startEngine({
      ...(o.servers ? { servers: o.servers } : {}),
      ...(slices ? {
        maxConcurrency: Math.max(4, 2 * slices.workers),
        visibilityTimeoutMs: plan.startLeadMs + Math.max(...slices.slots.map((x) => x.durationMs)) + VISIBILITY_MARGIN_MS,
      } : {}),
      ...o.engine,
      log: io.err,
    });
    this.#engine = engine;
    this.#transport = new LocalTransport(engine.queue);
    io.err(`worker log: ${engine.logFile}`);
    if (io.signal.aborted) return;
    checkConnectionBudget({
      workers: slices ? slices.workers : engine.maxConcurrency,
      poolMax: engine.poolMax,
      endpoints: o.endpoints,
      maxConnections: o.maxConnections ?? await engine.maxConnections(),
      reserved: RESERVED_CONNECTIONS,
    });
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
    return {
      measured: this.#sampler ? { ...measured, database: this.#sampler.samples(t.startMs, t.startMs + t.steps * t.stepSeconds * 1000) } : measured,
      deadLettered: engine.queue.stats.deadLettered - this.#deadLetteredBefore,
      replicaLag: await engine.replicationLag().catch(() => null),
      incomplete: this.#busy ?? null,
      notes: [],
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
