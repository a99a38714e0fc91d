import { SERVER_ROLES, type ErrorClass, type ServerRole } from '../../handlers/contract';
import { Histogram } from '../../handlers/metrics/histogram';
import type { Target } from '../../handlers/workloads/catalog';
import type { DrillEvent, DrillKind } from '../drills/drill';
import { analyseOutage, type OutageAnalysis } from '../drills/outage';
import type { Reconciliation } from '../drills/reconcile';
import { describeMix } from '../options/mix';
import { summarizeDatabase, type DatabaseSamples, type DatabaseSummary } from './database';
import { deadLettersOf } from './dead-letters';
import type { ReplicaLag, RunFacts, SendSummary, Timeline } from './run-record';

/** Latency-like statistics, ms. pgbench's average and standard deviation, k6's percentiles. */
export interface Stats {
  readonly count: number;
  readonly avg: number;
  /** null when the source cannot tell (CloudWatch keeps no sum of squares). */
  readonly stddev: number | null;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * Whole-run statistics that cannot be added up from the timeline's steps (percentiles), per
 * (operation, target), and of the queue dwell.
 */
export interface Distributions {
  readonly series: ReadonlyArray<{ readonly op: string; readonly target: Target; readonly latency: Stats | null; readonly scheduleLag: Stats | null }>;
  readonly dwell: Stats | null;
  /** The staleness probe's markers that were seen; absent when no probe ran. */
  readonly staleness?: Stats | null;
}

/**
 * What a backend measured for one run: the timeline and the whole-run distributions (the
 * workers'), and the database's own metrics over the run.
 */
export interface Measured {
  readonly timeline: Timeline;
  readonly distributions: Distributions;
  readonly database?: DatabaseSamples;
}

/** Replica staleness as clients saw it: the probe's markers. */
export interface StalenessSummary {
  /** Markers seen on the reader, and the ms from the writer's commit to the read that saw each. */
  readonly seen: number;
  readonly ms: Stats | null;
  /** Markers written but not seen on the reader in time. */
  readonly unseen: number;
  /** Markers that could not be written. */
  readonly failed: number;
}

/** One row of the summary: one operation on one target. */
export interface OpSummary {
  readonly op: string;
  readonly target: Target;
  /** Statements that succeeded. */
  readonly ok: number;
  /** Statements that failed. */
  readonly errors: number;
  /** Failed statements by error class ("08", "25", "57", ...). */
  readonly errorsByClass: Readonly<Partial<Record<ErrorClass, number>>>;
  /** Slice statements skipped: they could not start within the late limit (pgbench -L). */
  readonly skipped: number;
  /** Successful statements per second over the load. */
  readonly throughput: number;
  /** Latency of successful statements (slices: from the scheduled start). */
  readonly latency: Stats | null;
  /** Actual start minus scheduled start (slice mode). */
  readonly scheduleLag: Stats | null;
  /** Successful statements by the role of the server that answered them. */
  readonly answeredBy: Readonly<Record<ServerRole, number>>;
}

/** A drill's outcome, as the summary carries it. */
export interface DrillReport {
  readonly kind: DrillKind;
  /** When the fault began and ended; absent when it did not happen (the notes say why). */
  readonly event?: DrillEvent;
  /** What the fault cost the clients; absent without an event. */
  readonly outage?: OutageAnalysis;
  /** Fault drills: the books of the run. */
  readonly reconciliation?: Reconciliation;
}

/** The run's summary: what is printed (as text, or as this JSON with `--json`) and saved. */
export interface RunSummary {
  readonly version: 2;
  readonly runId: string;
  /** Where the numbers come from. */
  readonly source: 'local' | 'cloudwatch';
  readonly workload: string;
  readonly mode: 'statements' | 'slice';
  /** The mix as percentages, e.g. "select=80%,insert=20%". */
  readonly mix: string;
  /** ISO time the load started. */
  readonly startedAt: string;
  /** The load's length, ms: as planned, or up to the interrupt. */
  readonly durationMs: number;
  readonly interrupted: boolean;
  /** Why not every message's outcome is counted; null when the summary is complete. An incomplete summary fails every threshold. */
  readonly incomplete: string | null;
  readonly planned: {
    /** The rate asked for (`--rate`), statements per second. */
    readonly rate: number;
    /** The average planned rate (below `rate` during a ramp). */
    readonly averageRate: number;
    readonly statements: number;
  };
  readonly achieved: {
    /** Statements attempted (succeeded + failed). */
    readonly statements: number;
    /** Attempted statements per second over the load. */
    readonly rate: number;
    /** (achieved - planned average) / planned average, in percent. */
    readonly rateErrorPct: number;
  };
  readonly totals: {
    readonly ok: number;
    readonly errors: number;
    readonly skipped: number;
    /** Failed / attempted, in percent. */
    readonly errorRatePct: number;
  };
  readonly operations: readonly OpSummary[];
  readonly messages: {
    readonly sent: number;
    readonly ok: number;
    readonly failed: number;
    readonly invalid: number;
    /**
     * This run's messages that went to the dead-letter queue, as the workers counted them (failed
     * on their last receive); null when unknown (a record saved by an older version).
     */
    readonly deadLettered: number | null;
    /** Copies of messages delivered again to an environment that had run them: not run again. */
    readonly duplicate: number;
    /**
     * Messages that ran more than once (their copies reached other environments): successful runs
     * beyond one per message sent that was not dead-lettered. A lower bound while the run is incomplete.
     */
    readonly ranTwice: number;
    /** Queue dwell: worker receipt minus the trigger's sentAt. */
    readonly dwell: Stats | null;
  };
  /**
   * How far the sending machine's clock was ahead of the workers', ms, at least (messages received
   * before they were sent); absent when none was. Slices then start that much later than planned.
   */
  readonly senderClockAheadMs?: number;
  readonly send?: SendSummary;
  /** Replication lag of the standby at the end (local runs). */
  readonly replicaLag?: ReplicaLag | null;
  /** The staleness probe (`--staleness-probe`, on for runs with reads and writes). */
  readonly staleness?: StalenessSummary;
  /** The database's own metrics over the run: mean and peak per server or instance. */
  readonly database?: DatabaseSummary;
  /** Anything the reader should know about how these numbers were obtained. */
  readonly notes: readonly string[];
  /** The drill run with the load (`--failover-at`, `node trigger drill`). */
  readonly drill?: DrillReport;
}

export function histogramStats(h: Histogram): Stats | null {
  if (h.count === 0) return null;
  return { count: h.count, avg: h.mean, stddev: h.stddev, p50: h.percentile(50), p90: h.percentile(90), p99: h.percentile(99), max: h.max };
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/** Clocks further apart than this get a note: a second shifts every slice by a second. */
export const CLOCK_WARNING_MS = 1_000;

/**
 * The summary of a run from its facts and what was measured: counts from the timeline, latency
 * statistics from the whole-run distributions, the drill's cost from the timeline. Pure: the same
 * input gives the same summary, whichever backend measured it.
 */
export function summarize(facts: RunFacts, measured: Measured): RunSummary {
  const { timeline, distributions } = measured;
  const seconds = facts.durationMs / 1000;
  const operations: OpSummary[] = timeline.series.map((s) => {
    const errorsByClass = Object.fromEntries(Object.entries(s.errors).map(([cls, counts]) => [cls, sum(counts)]).filter(([, n]) => n)) as Partial<Record<ErrorClass, number>>;
    const ok = sum(s.ok);
    const d = distributions.series.find((x) => x.op === s.op && x.target === s.target);
    return {
      op: s.op,
      target: s.target,
      ok,
      errors: sum(Object.values(errorsByClass)),
      errorsByClass,
      skipped: sum(s.skipped),
      throughput: seconds > 0 ? ok / seconds : 0,
      latency: d?.latency ?? null,
      scheduleLag: d?.scheduleLag ?? null,
      answeredBy: Object.fromEntries(SERVER_ROLES.map((r) => [r, sum(s.answeredBy[r])])) as Record<ServerRole, number>,
    };
  });
  const ok = sum(operations.map((o) => o.ok));
  const errors = sum(operations.map((o) => o.errors));
  const attempted = ok + errors;
  const rate = seconds > 0 ? attempted / seconds : 0;
  const averageRate = facts.plan.averageRate;
  const drill = facts.drill;
  const messagesOk = sum(timeline.messages.ok);
  const deadLettered = deadLettersOf(timeline);
  const senderAhead = (timeline.messages.senderAheadMs ?? []).reduce((m, x) => Math.max(m, x), 0);
  const notes = senderAhead > CLOCK_WARNING_MS
    ? [...facts.notes, `the sending machine's clock is at least ${(senderAhead / 1000).toFixed(1)} s ahead of the workers' (messages arrived before they were sent): slices started that much later than planned and the timeline is shifted; sync this machine's clock (NTP)`]
    : facts.notes;
  return {
    version: 2,
    runId: facts.runId,
    source: facts.source,
    workload: facts.settings.workload,
    mode: facts.settings.mode,
    mix: describeMix(facts.settings.mix) || 'unknown',
    startedAt: new Date(facts.loadStartAt).toISOString(),
    durationMs: facts.durationMs,
    interrupted: facts.interrupted,
    incomplete: facts.incomplete,
    planned: { rate: facts.settings.rate, averageRate, statements: facts.plan.statements },
    achieved: { statements: attempted, rate, rateErrorPct: averageRate > 0 ? (100 * (rate - averageRate)) / averageRate : 0 },
    totals: { ok, errors, skipped: sum(operations.map((o) => o.skipped)), errorRatePct: attempted > 0 ? (100 * errors) / attempted : 0 },
    operations,
    messages: {
      sent: facts.messagesSent,
      ok: messagesOk,
      failed: sum(timeline.messages.failed),
      invalid: sum(timeline.messages.invalid),
      deadLettered,
      duplicate: sum(timeline.messages.duplicate ?? []),
      ranTwice: Math.max(0, messagesOk + (deadLettered ?? 0) - facts.messagesSent),
      dwell: distributions.dwell,
    },
    ...(senderAhead > 0 ? { senderClockAheadMs: senderAhead } : {}),
    ...(facts.send ? { send: facts.send } : {}),
    ...(facts.replicaLag !== undefined ? { replicaLag: facts.replicaLag } : {}),
    ...(timeline.staleness ? {
      staleness: {
        seen: sum(timeline.staleness.ms.map((x) => x?.[0] ?? 0)),
        ms: distributions.staleness ?? null,
        unseen: sum(timeline.staleness.unseen),
        failed: sum(timeline.staleness.failed),
      },
    } : {}),
    ...(measured.database ? {
      database: summarizeDatabase(measured.database, drill?.kind === 'failover' && drill.event?.from && drill.event.to ? { before: drill.event.from, after: drill.event.to } : undefined),
    } : {}),
    notes,
    ...(drill ? {
      drill: {
        kind: drill.kind,
        ...(drill.event ? {
          event: drill.event,
          ...(facts.settings.rate > 0 ? {
            outage: analyseOutage(timeline, drill.event.startedAt, facts.settings.rate, { loadStartAt: facts.loadStartAt, loadEndAt: facts.loadStartAt + facts.durationMs }),
          } : {}),
        } : {}),
        ...(drill.reconciliation ? { reconciliation: drill.reconciliation } : {}),
      },
    } : {}),
  };
}
