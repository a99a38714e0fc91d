/**
 * The saved run, in one place: what `node trigger report --run ID` prints again and what an HTML
 * report draws. Both backends (the local engine, CloudWatch) produce this same shape; it is saved
 * as `.runs/<runId>.json`. Times are epoch ms unless a name says otherwise; latencies are ms.
 *
 * Size: the timeline holds one number per step and (operation, target) for each count, and five
 * for each latency-like statistic, so a 1-hour run of two operations is about 1 MB of JSON.
 */
import type { ErrorClass, ServerRole } from '../../handlers/contract';
import type { MixEntry } from '../../handlers/protocol/message';
import type { DatabaseSamples } from './database';
import type { Target } from '../../handlers/workloads/catalog';
import type { DrillEvent, DrillKind } from '../drills/drill';
import type { Reconciliation } from '../drills/reconcile';
import type { RunSummary } from './summary';

export const RUN_RECORD_VERSION = 2;

export interface RunRecord {
  /** The format of this file; bumped when a field changes meaning. */
  readonly version: typeof RUN_RECORD_VERSION;
  readonly runId: string;
  /** What was asked for and what happened besides the workers' metrics. */
  readonly facts: RunFacts;
  /** The summary exactly as the run printed it (text or `--json`); `report --run ID` prints it again. */
  readonly summary: RunSummary;
  /** What the workers measured, step by step (one second unless `stepSeconds` says otherwise). */
  readonly timeline: Timeline;
  /** The database's own view over the run (servers sampled locally; CloudWatch in AWS); absent when none was read. */
  readonly database?: DatabaseSamples;
  /** AWS runs: where the metrics live, so `report --run ID --refresh` can read them again. */
  readonly cloud?: CloudLocation;
}

/** Everything a summary needs that the workers' metrics cannot tell. */
export interface RunFacts {
  readonly runId: string;
  /** Where the measurements come from: the local engine's sink, or CloudWatch. */
  readonly source: 'local' | 'cloudwatch';
  /** The run as asked for (the validated flags). */
  readonly settings: {
    /** Workload name; `unknown` for an AWS run read back without its record. */
    readonly workload: string;
    readonly mode: 'slice' | 'statements';
    /** Operations and their relative weights. */
    readonly mix: readonly MixEntry[];
    /** `--rate`: statements per second at full rate. */
    readonly rate: number;
    /** `--duration` and `--ramp`, ms. */
    readonly durationMs: number;
    readonly rampMs: number;
    /** `--threshold` expressions as given; `report` checks them again unless given its own. */
    readonly thresholds: readonly string[];
  };
  /** The plan the sender followed. */
  readonly plan: {
    /** One line, as printed at the start of the run. */
    readonly description: string;
    /** Messages the plan sends. */
    readonly messages: number;
    /** Statements the plan puts on the database. */
    readonly statements: number;
    /** Planned statements per second over the load (below `rate` during a ramp). */
    readonly averageRate: number;
    /** Statements planned to start in each second of the load, counted from `loadStartAt`. */
    readonly perSecond: readonly number[];
  };
  /** When the load on the database started (after the start lead). */
  readonly loadStartAt: number;
  /** The load's length: as planned, or up to the interrupt. */
  readonly durationMs: number;
  /** Ctrl-C stopped the run; the numbers are partial. */
  readonly interrupted: boolean;
  /** Messages the queue accepted. */
  readonly messagesSent: number;
  /**
   * How much the dead-letter queue grew over the run; null when unknown. A cross-check only: it
   * also counts other runs' messages that reached the queue meanwhile (a message of an invocation
   * that died returns after the queue's 90-minute visibility timeout, whatever runs then). This
   * run's own dead letters are the workers' count (`timeline.messages.deadLettered`).
   */
  readonly deadLetterQueueGrowth: number | null;
  /** How sending went; absent when nothing was sent from here. */
  readonly send?: SendSummary;
  /** The standby's replication lag at the end (local runs); null when it could not be read. */
  readonly replicaLag?: ReplicaLag | null;
  /** Anything the reader should know about how the numbers were obtained. */
  readonly notes: readonly string[];
  /** Why not every message's outcome is in the numbers; null when they all are. */
  readonly incomplete: string | null;
  /** The drill run with the load, if any. */
  readonly drill?: DrillFacts;
}

export interface SendSummary {
  /** SendMessageBatch calls (local: batches handed to the queue). */
  readonly calls: number;
  readonly retries: number;
  readonly throttled: number;
  /** Entries that failed inside an accepted batch and were sent again. */
  readonly failedEntries: number;
  /** Messages given up on. */
  readonly lost: number;
  /** The most a message left after its scheduled time. */
  readonly maxLateMs: number;
  /**
   * Messages sent again after a call whose outcome could not be known (a timeout, a reset
   * connection, a server error): SQS may have accepted the first copy too (absent in older records).
   */
  readonly possibleDuplicates?: number;
}

export interface ReplicaLag {
  readonly bytes: number;
  readonly ms: number | null;
}

/** A drill as the run saw it. */
export interface DrillFacts {
  readonly kind: DrillKind;
  /** When the fault began and ended; absent when it did not happen (see the notes). */
  readonly event?: DrillEvent;
  /** Fault drills: the books of the run (messages and rows). */
  readonly reconciliation?: Reconciliation;
}

/** Where an AWS run's metrics are. */
export interface CloudLocation {
  readonly region: string;
  readonly namespace: string;
  /** The window read, epoch ms. */
  readonly startMs: number;
  readonly endMs: number;
  /** The database and worker whose own metrics were read (AWS/RDS, AWS/Lambda), to read them again. */
  readonly database?: DatabaseSource;
}

/** Whose AWS metrics the database section reads. */
export interface DatabaseSource {
  /** The Aurora cluster (stack output DbClusterIdentifier). */
  readonly clusterIdentifier?: string;
  /**
   * Its instances and their roles (DescribeDBClusters): before the load when a failover drill ran
   * (after it the writer is another instance), else when the run was read; absent: per role.
   */
  readonly instances?: ReadonlyArray<{ readonly id: string; readonly role: 'writer' | 'reader' }>;
  /** The worker function (stack output WorkerFunctionName). */
  readonly functionName?: string;
}

/**
 * Latency-like statistics of one step, ms: [count, p50, p90, p99, max]. A tuple, not an object:
 * there are thousands of them in a long run's record.
 */
export type StepStats = readonly [count: number, p50: number, p90: number, p99: number, max: number];

/** The timeline of one (operation, target); every array has one entry per step. */
export interface TimelineSeries {
  readonly op: string;
  readonly target: Target;
  /** Statements that succeeded (finished in the step). */
  readonly ok: readonly number[];
  /** Statements that failed, by error class; only the classes that occurred. */
  readonly errors: Readonly<Partial<Record<ErrorClass, readonly number[]>>>;
  /** Slice statements skipped in the step (too late to start). */
  readonly skipped: readonly number[];
  /** Latency of the successes; null in a step without any. */
  readonly latency: readonly (StepStats | null)[];
  /** Schedule lag of the slice statements that finished; null in a step without any. */
  readonly scheduleLag: readonly (StepStats | null)[];
  /** Successes by the role of the server that answered. */
  readonly answeredBy: Readonly<Record<ServerRole, readonly number[]>>;
}

/**
 * What the workers measured, by wall-clock step: each statement counts in the step in which it
 * finished (skips: were skipped), each message outcome in the step in which its invocation ended.
 */
export interface Timeline {
  /** Epoch ms of the first step's start: a whole second. */
  readonly startMs: number;
  /**
   * Seconds per step: 1. Read back from CloudWatch after its 1-second data has expired (3 hours),
   * 60; after 15 days 300; after 63 days 3600 (CloudWatch's retention of aggregated data).
   */
  readonly stepSeconds: number;
  /** Steps, the length of every array below. */
  readonly steps: number;
  /** One per (operation, target) that ran, ordered by target then operation. */
  readonly series: readonly TimelineSeries[];
  /** The staleness probe's markers, by the step in which each ended; absent when no probe ran. */
  readonly staleness?: StalenessTimeline;
  readonly messages: {
    /** Message outcomes reported by the invocations that ended in the step. */
    readonly ok: readonly number[];
    readonly failed: readonly number[];
    readonly invalid: readonly number[];
    /** Copies of messages not run again, by the environment that had run them (absent in records of older versions). */
    readonly duplicate?: readonly number[];
    /**
     * This run's messages that failed on their last receive and so went to the dead-letter queue,
     * as the workers counted them (absent in records of older versions).
     */
    readonly deadLettered?: readonly number[];
    /** Queue dwell of the messages those invocations received. */
    readonly dwell: readonly (StepStats | null)[];
    /** The most the sender's clock was ahead of a worker's, ms (a message received before it was sent); 0: not seen. */
    readonly senderAheadMs?: readonly number[];
  };
}

/** The staleness probe, step by step: every array has one entry per step. */
export interface StalenessTimeline {
  /** ms from the writer's commit to the reader returning the marker, of the markers seen in the step. */
  readonly ms: readonly (StepStats | null)[];
  /** Markers written but not seen on the reader in time. */
  readonly unseen: readonly number[];
  /** Markers that could not be written. */
  readonly failed: readonly number[];
}
