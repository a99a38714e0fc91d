import { systemClock } from '../clock';
import { localFailover, scheduleFailover, type FailoverEvent } from '../drills/failover';
import { analyseOutage } from '../drills/outage';
import { EXIT, oneLine } from '../errors';
import { formatDuration } from '../options/duration';
import { redactUrl } from '../options/host';
import type { RunSettings } from '../options/run-options';
import { describeMix } from '../options/mix';
import { buildPlan, endpointsUsed } from '../plan/build';
import { checkConnectionBudget, RESERVED_CONNECTIONS } from '../plan/budget';
import { Progress } from '../progress';
import { summarize, type FailoverReport } from '../report/summary';
import { LocalTransport } from '../send/local-transport';
import { Sender, type SenderResult } from '../send/sender';
import { finish, saveRun } from './finish';
import { aborted, type CliIo } from './io';
import { initWorkload, startEngine, type EngineLike } from './local-engine';

/** Visibility timeout beyond lead + slice: the worker's deadline margin and a slow last statement. */
const VISIBILITY_MARGIN_MS = 30_000;

/** After Ctrl-C, how long running invocations get to stop and publish their partial metrics. */
const INTERRUPT_SETTLE_MS = 3_000;
/** After Ctrl-C, how long the engine may take to stop before the process exits anyway. */
const INTERRUPT_STOP_GRACE_MS = 2_000;

/** How long to wait, past the planned end, for the last invocations to finish. */
const DRAIN_GRACE_MS = 60_000;

/**
 * A run on this machine: start the local engine (embedded writer + hot standby, or the servers
 * named with --writer-url/--reader-url), init the workload, send the plan through the in-process
 * queue, wait for the workers, summarise the in-memory metrics. Every process it started is
 * stopped on the way out, Ctrl-C included.
 */
export async function runLocal(s: RunSettings, io: CliIo): Promise<number> {
  const plan = buildPlan(s);
  io.err(`run ${s.runId}: ${plan.description}, for ${formatDuration(s.durationMs)}${s.rampMs ? ` (ramp ${formatDuration(s.rampMs)})` : ''}`);
  if (s.local.writerUrl) io.err(`servers: writer ${redactUrl(s.local.writerUrl)}, reader ${redactUrl(s.local.readerUrl!)}`);

  // Each worker holds one invocation; a slice sent ahead of its start briefly holds a second. A
  // slice message stays in flight from receipt to the slice's end, so the visibility timeout must
  // outlast lead + slice, or the queue would hand the same slice to a second worker (as SQS would
  // with a visibility timeout shorter than the Lambda timeout).
  const longestSlice = plan.mode === 'slice' ? Math.max(...plan.slots.map((x) => x.durationMs)) : 0;
  const engine = await startEngine({
    ...s.local,
    ...(plan.mode === 'slice' ? { maxConcurrency: Math.max(4, 2 * plan.workers), visibilityTimeoutMs: plan.leadMs + longestSlice + VISIBILITY_MARGIN_MS } : {}),
    ...(s.failoverAtMs !== undefined ? { failoverEndpoints: true } : {}),
    log: io.err,
  });
  io.err(`worker log: ${engine.logFile}`);
  try {
    if (io.signal.aborted) return EXIT.interrupted;
    const maxConnections = s.maxConnections ?? await engine.maxConnections();
    checkConnectionBudget({
      workers: plan.mode === 'slice' ? plan.workers : engine.maxConcurrency,
      poolMax: engine.poolMax,
      endpoints: endpointsUsed(s),
      maxConnections,
      reserved: RESERVED_CONNECTIONS,
    });
    io.err(`initialising ${s.workload} (idempotent)...`);
    await Promise.race([initWorkload(engine, s.workload, { ...(s.scale !== undefined ? { scale: s.scale } : {}) }), aborted(io.signal)]);
    if (io.signal.aborted) return EXIT.interrupted;
    return await drive(s, plan, engine, io);
  } finally {
    await stopEngine(engine, io);
  }
}

/**
 * Stop the engine. After Ctrl-C, do not wait for slices still running (a stop waits for the
 * invocations in flight, up to a whole slice): give it a moment, then leave the rest to the
 * process exit, where the engine's exit guard shuts the servers down.
 */
async function stopEngine(engine: EngineLike, io: CliIo): Promise<void> {
  if (!io.signal.aborted) return engine.stop();
  const stopped = await Promise.race([
    engine.stop().then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), INTERRUPT_STOP_GRACE_MS).unref()),
  ]);
  if (!stopped) io.err('invocations still running were abandoned; the local servers are shut down as the process exits');
}

async function drive(s: RunSettings, plan: ReturnType<typeof buildPlan>, engine: EngineLike, io: CliIo): Promise<number> {
  const transport = new LocalTransport(engine.queue);
  let t0 = Date.now();
  // Failover drill: scheduled against the load's real start, once sending has begun.
  let failover: Promise<FailoverEvent | undefined> = Promise.resolve(undefined);
  const onStart = (t: number): void => {
    t0 = t;
    if (s.failoverAtMs === undefined) return;
    failover = scheduleFailover(localFailover(engine), t + plan.loadStartMs + s.failoverAtMs, { signal: io.signal });
    failover.catch(() => undefined);
  };
  const sender = new Sender(plan, transport, { clock: systemClock, signal: io.signal, onStart });
  let phase: string | undefined;
  const totalMs = plan.loadStartMs + plan.loadDurationMs;
  const progress = new Progress(() => ({
    elapsedMs: Date.now() - t0,
    totalMs,
    sent: sender.progress.sent,
    messages: plan.total,
    ...(engine.live.ok + engine.live.errors > 0 ? { statements: engine.live.ok + engine.live.errors } : {}),
    loadElapsedMs: Math.min(plan.loadDurationMs, Date.now() - t0 - plan.loadStartMs),
    errors: engine.live.errors,
    depth: engine.queue.depth,
    ...(phase ? { phase } : {}),
  }), { stream: io.progressStream });
  progress.start();
  let result: SenderResult;
  const notes: string[] = [];
  try {
    result = await sender.run();
    if (!io.signal.aborted) {
      phase = 'load running, waiting for the workers';
      const remaining = t0 + totalMs - Date.now();
      const drained = await Promise.race([
        engine.idle(Math.max(0, remaining) + DRAIN_GRACE_MS).then(() => true, () => false),
        aborted(io.signal).then(() => true),
      ]);
      if (!drained) notes.push(`the workers were still busy ${formatDuration(DRAIN_GRACE_MS)} after the planned end; their unfinished invocations are not counted`);
    }
  } finally {
    progress.stop();
  }
  const interrupted = io.signal.aborted;
  if (interrupted) {
    engine.interrupt();
    const purged = await transport.purge().then(() => true, () => false);
    // Running slices now end within ~100 ms and publish what they measured.
    const settled = await engine.idle(INTERRUPT_SETTLE_MS).then(() => true, () => false);
    notes.push(`interrupted after ${formatDuration(Date.now() - t0)}: ${result.sent} of ${plan.total} messages sent${purged ? ', the rest of the queue purged' : ''}; ${settled ? 'running slices were stopped and what they ran is counted' : 'some invocations were still running and are not counted'}`);
  }
  const loadElapsed = Math.max(0, Date.now() - t0 - plan.loadStartMs);
  const durationMs = interrupted ? Math.min(plan.loadDurationMs, loadElapsed) : plan.loadDurationMs;
  let failoverReport: FailoverReport | undefined;
  if (s.failoverAtMs !== undefined) {
    try {
      const event = await failover;
      if (event) {
        const analysis = analyseOutage(engine.sink.invocations, event.startedAt, s.rate, {
          runId: s.runId, loadStartAt: t0 + plan.loadStartMs, loadEndAt: t0 + plan.loadStartMs + durationMs,
        });
        failoverReport = { startedAt: event.startedAt, completedAt: event.completedAt, ...(event.from ? { from: event.from } : {}), ...(event.to ? { to: event.to } : {}), analysis };
      } else {
        notes.push('the failover drill did not run: the run ended before its time');
      }
    } catch (e) {
      notes.push(`the failover drill failed: ${oneLine(String((e as Error)?.message ?? e))}`);
    }
  }
  const lag = await engine.replicationLag().catch(() => null);
  const dlq = engine.dlq.depth;
  const summary = summarize(engine.sink.invocations, {
    runId: s.runId,
    workload: s.workload,
    mode: plan.mode,
    mix: describeMix(s.mix),
    startedAt: t0 + plan.loadStartMs,
    durationMs,
    interrupted,
    rate: s.rate,
    averageRate: plan.averageRate,
    plannedStatements: interrupted ? (plan.averageRate * durationMs) / 1000 : plan.statements,
    messagesSent: transport.stats.accepted,
    deadLettered: dlq.visible + dlq.inFlight,
    send: { ...transport.stats, maxLateMs: result.maxLateMs },
    replicaLag: lag,
    notes,
    ...(failoverReport ? { failover: failoverReport } : {}),
  });
  if (s.save) await saveRun({ summary }, io);
  return finish(summary, s.thresholds, s.json, io);
}
