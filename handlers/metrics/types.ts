import type { ErrorClass, ServerRole } from '../contract';
import type { Histogram } from './histogram';
import type { Target, WorkloadName } from '../workloads/catalog';

/**
 * What one (run, operation, target) measured in one wall-clock second of an invocation: the
 * statements that finished in it (skips: were skipped in it). The only record of a statement;
 * totals, outages and CloudWatch datums are all derived from these.
 */
export interface SecondMetrics {
  /** Latency of the successes, ms (slices: from the scheduled start). */
  readonly latency: Histogram;
  /** Schedule lag of the slice statements that finished (succeeded or failed), ms. */
  readonly lag: Histogram;
  /** Failures by error class. */
  readonly errors: Map<ErrorClass, number>;
  /** Successes by the role of the server that answered. */
  readonly answeredBy: Record<ServerRole, number>;
  /** Slice statements skipped: they could not start within the late limit or before the deadline. */
  skipped: number;
}

/** Everything one invocation measured for one (run, workload, operation, target). */
export interface OpSeries {
  readonly runId: string;
  readonly workload: WorkloadName;
  readonly op: string;
  readonly target: Target;
  /** Epoch second -> what finished in it; at most the invocation's length in seconds (900). */
  readonly seconds: Map<number, SecondMetrics>;
}

/** What one invocation's messages of one run came to; known when the invocation ends. */
export interface MessageFacts {
  readonly runId: string;
  /** Queue dwell, ms: receipt by the worker minus the trigger's sentAt. */
  readonly dwell: Histogram;
  /** Messages handled successfully / reported as batch item failures / rejected as invalid. */
  ok: number;
  failed: number;
  invalid: number;
  /** Copies of messages this execution environment had already run: not run again. */
  duplicate: number;
  /** Of the failed and invalid ones, those on their last receive: SQS moves them to the dead-letter queue. */
  deadLettered: number;
  /**
   * How far ahead of this worker's clock the sender's clock is at least, ms: the most any message
   * arrived before it was sent (queue dwell below zero); 0 when none did.
   */
  senderAheadMs: number;
}

/** What a staleness probe measured in one wall-clock second: the markers that ended in it. */
export interface StalenessSecond {
  /** ms from the writer's commit acknowledgement to the first read on the reader that saw the marker. */
  readonly staleness: Histogram;
  /** Markers written but not seen on the reader within the probe's limit. */
  unseen: number;
  /** Markers that could not be written. */
  failed: number;
}

/** Everything one invocation's staleness probes measured for one run. */
export interface StalenessSeries {
  readonly runId: string;
  /** Epoch second -> the markers that ended in it. */
  readonly seconds: Map<number, StalenessSecond>;
}

/**
 * What one handler invocation measured, handed to a {@link MetricsSink} when it ends; a long
 * invocation hands over the seconds that are over on the way, without message facts.
 */
export interface InvocationMetrics {
  /** Epoch ms when the invocation finished (the time of its messages' facts), or of a handover on the way. */
  readonly at: number;
  readonly series: OpSeries[];
  readonly messages: MessageFacts[];
  /** The staleness probes' markers; absent when the invocation ran no probe. */
  readonly staleness?: StalenessSeries[];
}

/** How one publish must go: by when. */
export interface PublishOptions {
  /** Epoch ms by which publishing is over, retries included (before Lambda's deadline). @default no bound */
  readonly by?: number;
}

/** Where the handler sends its per-invocation metrics: CloudWatch, or an in-process sink. */
export interface MetricsSink {
  /** Publish; rejects when it could not (the caller logs it: a lost publish must not fail the messages). */
  publish(metrics: InvocationMetrics, options?: PublishOptions): Promise<void>;
}

/** Kept here too for the modules that read a server's role from the metrics' types. */
export type { ServerRole } from '../contract';
