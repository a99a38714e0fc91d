/**
 * One run, written once: plan -> send -> collect -> summarize, whatever the backend (the local
 * engine, or SQS and CloudWatch) and whatever drill rides along.
 *
 * - plan: the command has built the send plan from validated settings;
 * - send: the backend prepares (checks the plan fits, initialises), the open-loop sender sends,
 *   the drill's fault is caused `atMs` into the load, the backend waits for the load to run;
 * - collect: the backend reads back what the workers measured (a timeline and distributions);
 * - summarize: the summary is built from the run's facts and the measurements, printed, saved
 *   with the timeline as the run's record (report --run ID prints it again), and the thresholds
 *   give the exit code.
 *
 * A new backend implements {@link Backend}; a new drill is a {@link Drill}; neither needs a line here.
 */
import { operationsOf } from '../../handlers/workloads/project';
import { finish, saveRun, writeHtmlReport } from '../commands/finish';
import type { CliIo } from '../commands/io';
import { runAt, type Drill, type DrillEvent } from '../drills/drill';
import { EXIT, oneLine } from '../errors';
import { formatDuration } from '../options/duration';
import type { RunSettings } from '../options/run-options';
import type { SendPlan } from '../plan/send-plan';
import { Progress } from '../progress';
import { round } from '../round';
import { RUN_RECORD_VERSION, type DrillFacts, type RunFacts, type RunRecord } from '../report/run-record';
import { summarize } from '../report/summary';
import { Sender, type SenderResult } from '../send/sender';
import type { Backend } from './backend';

export interface RunRequest<B extends Backend> {
  readonly settings: RunSettings;
  readonly plan: SendPlan;
  readonly backend: B;
  /** The drill to run with the load, made once the backend is ready (it may need the engine). */
  readonly drill?: (backend: B) => Drill;
  readonly io: CliIo;
}

/** Run it; resolves to the exit code. The backend is closed on the way out, Ctrl-C and errors included. */
export async function runPipeline<B extends Backend>(r: RunRequest<B>): Promise<number> {
  const { settings: s, plan, backend, io } = r;
  try {
    io.err(`run ${s.runId}: ${plan.description}, for ${formatDuration(s.durationMs)}${s.rampMs ? ` (ramp ${formatDuration(s.rampMs)})` : ''}`);
    await backend.prepare(plan, io);
    if (io.signal.aborted) return EXIT.interrupted;
    const drill = r.drill?.(backend);
    await drill?.prepare?.();
    return await sendAndSummarize(r, drill);
  } finally {
    await backend.close(io);
  }
}

async function sendAndSummarize<B extends Backend>(r: RunRequest<B>, drill: Drill | undefined): Promise<number> {
  const { settings: s, plan, backend, io } = r;
  const { clock } = io;
  let t0 = clock.now();
  let drilling = false;
  let caused: Promise<DrillEvent | undefined> = Promise.resolve(undefined);
  const onStart = (t: number): void => {
    t0 = t;
    const cause = drill?.cause;
    if (!cause || drill.atMs === undefined) return;
    caused = runAt(async () => {
      drilling = true;
      try {
        return await cause(io.signal);
      } finally {
        drilling = false;
      }
    }, t + plan.startLeadMs + drill.atMs, clock, io.signal);
    // Reported once awaited below; never an unhandled rejection meanwhile.
    caused.catch(() => undefined);
  };
  const sender = new Sender(plan, backend.transport, { clock, signal: io.signal, onStart });
  const totalMs = plan.startLeadMs + plan.loadDurationMs;
  let phase: string | undefined;
  const progress = new Progress(() => {
    const shown = [phase, drilling ? `${drill!.kind} drill in progress` : undefined].filter(Boolean).join('; ');
    const now = clock.now();
    return {
      elapsedMs: now - t0, totalMs, sent: sender.progress.sent, messages: plan.total,
      loadElapsedMs: Math.min(plan.loadDurationMs, now - t0 - plan.startLeadMs),
      ...backend.progress(),
      ...(shown ? { phase: shown } : {}),
    };
  }, { stream: io.progressStream });
  progress.start();
  let sent: SenderResult;
  try {
    sent = await sender.run();
    if (!io.signal.aborted) {
      phase = 'load running';
      await backend.awaitLoad(t0 + totalMs, io);
    }
    if (drill?.cause && !io.signal.aborted) {
      phase = 'load done';
      await caused.catch(() => undefined);
    }
  } finally {
    progress.stop();
  }

  const notes: string[] = [];
  const interrupted = io.signal.aborted;
  const loadStartAt = t0 + plan.startLeadMs;
  const durationMs = interrupted ? Math.min(plan.loadDurationMs, Math.max(0, clock.now() - loadStartAt)) : plan.loadDurationMs;
  if (interrupted) notes.push(`interrupted after ${formatDuration(clock.now() - t0)}: ${await backend.interrupt(sent.sent, plan.total, io)}`);
  let drillFacts: DrillFacts | undefined;
  if (drill) {
    let event: DrillEvent | undefined;
    try {
      event = await caused;
      if (event) io.err(`${drill.kind} drill: over after ${((event.completedAt - event.startedAt) / 1000).toFixed(1)} s${event.from || event.to ? ` (writer ${event.from ?? 'unknown'} -> ${event.to ?? 'unknown'})` : ''}`);
      else if (drill.cause) notes.push(`the ${drill.kind} drill did not run: the run ended before its time`);
    } catch (e) {
      // A drill that failed (no permission, nothing to fail over to) must not lose the run.
      notes.push(`the ${drill.kind} drill failed: ${oneLine(String((e as Error)?.message ?? e))}`);
    }
    drillFacts = { kind: drill.kind, ...(event ? { event } : {}) };
  }
  const transport = backend.transport;
  if (transport.stats.lost > 0) notes.push(`${transport.stats.lost} message(s) could not be sent (see sending)`);

  const mixOps = new Set(s.mix.map((m) => m.op));
  const collected = await backend.collect({
    runId: s.runId,
    operations: operationsOf(s.workload).filter((o) => mixOps.has(o.op)),
    loadStartAt,
    loadEndAt: loadStartAt + durationMs,
    messagesSent: transport.stats.accepted,
    interrupted,
  }, io);
  if (drill?.finish && drillFacts) drillFacts = { ...drillFacts, reconciliation: await drill.finish(collected.measured) };

  const seconds = Math.ceil(plan.loadDurationMs / 1000);
  const facts: RunFacts = {
    runId: s.runId,
    source: backend.source,
    settings: { workload: s.workload, mode: plan.mode, mix: s.mix, rate: s.rate, durationMs: s.durationMs, rampMs: s.rampMs, thresholds: s.thresholds.map((t) => t.text) },
    plan: {
      description: plan.description,
      messages: plan.total,
      statements: interrupted ? (plan.averageRate * durationMs) / 1000 : plan.statements,
      averageRate: plan.averageRate,
      perSecond: Array.from({ length: seconds }, (_, i) => round(plan.plannedBy(Math.min(plan.loadDurationMs, (i + 1) * 1000)) - plan.plannedBy(i * 1000), 3)),
    },
    loadStartAt,
    durationMs,
    interrupted,
    messagesSent: transport.stats.accepted,
    deadLetterQueueGrowth: collected.deadLetterQueueGrowth,
    send: { ...transport.stats, maxLateMs: sent.maxLateMs },
    ...(collected.replicaLag !== undefined ? { replicaLag: collected.replicaLag } : {}),
    notes: [...notes, ...collected.notes],
    incomplete: collected.incomplete,
    ...(drillFacts ? { drill: drillFacts } : {}),
  };
  const summary = summarize(facts, collected.measured);
  const record: RunRecord = {
    version: RUN_RECORD_VERSION, runId: s.runId, facts, summary, timeline: collected.measured.timeline,
    ...(collected.measured.database ? { database: collected.measured.database } : {}),
    ...(collected.cloud ? { cloud: collected.cloud } : {}),
  };
  if (s.save) await saveRun(record, io);
  if (s.html !== undefined) await writeHtmlReport(s.html, record, s.thresholds, io);
  return finish(summary, s.thresholds, s.json, io);
}
