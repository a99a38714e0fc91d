import type { Histogram } from './histogram';
import type { Target, WorkloadName } from '../workloads/catalog';

/** Which kind of server answered, as that server reported it (pg_is_in_recovery()). */
export type ServerRole = 'primary' | 'standby';

/** Everything measured for one (run, workload, operation, target) in one invocation. */
export interface OpSeries {
  readonly runId: string;
  readonly workload: WorkloadName;
  readonly op: string;
  readonly target: Target;
  /** Latency of successful statements, ms (slices: from the scheduled start). */
  readonly latency: Histogram;
  /** Schedule lag of slice statements: actual start minus scheduled start, ms. */
  readonly lag: Histogram;
  /** Failed statements by SQLSTATE class (first two characters, e.g. "08", "25", "57"). */
  readonly errors: Map<string, number>;
  /** Successful statements by the role of the server that answered them. */
  readonly answeredBy: Map<ServerRole, number>;
  /** Slice statements skipped because they could not start within lateLimitMs or before the deadline. */
  skipped: number;
  /**
   * Statements finished per wall-clock second (epoch s): successes and failures. What a report
   * needs to show when the rate dipped and when it came back (failover drills).
   */
  readonly perSecond: Map<number, { ok: number; errors: number }>;
  /**
   * Client-visible outages, epoch ms: from the first failure to the first success after it
   * (`to` is null when no success followed within this invocation).
   */
  readonly outages: Array<{ from: number; to: number | null }>;
  /**
   * The same measurements by the wall-clock second (epoch s) in which each statement finished
   * (skips: when they were skipped), so CloudWatch datums carry their own second rather than the
   * invocation's end. Filled by recordSuccess/recordError/recordSkip; absent on series built by
   * hand, which the CloudWatch sink then publishes whole at the invocation's end. Bounded by the
   * invocation's length in seconds (at most 900).
   */
  readonly bySecond?: Map<number, SecondMetrics>;
}

/** What one (run, operation, target) measured in one wall-clock second of an invocation. */
export interface SecondMetrics {
  /**
   * The object `perSecond` holds for this second (ok / errors), shared, not a copy; undefined
   * until a statement finishes in it (a second with only skips has no `perSecond` entry).
   */
  counts: { ok: number; errors: number } | undefined;
  /** Latency of the successes that finished in this second, ms. */
  readonly latency: Histogram;
  /** Schedule lag of the slice statements that finished (succeeded or failed) in this second, ms. */
  readonly lag: Histogram;
  /** Failures in this second by SQLSTATE class. */
  readonly errors: Map<string, number>;
  /** Successes in this second by the role of the server that answered. */
  readonly answeredBy: Record<ServerRole, number>;
  /** Slice statements skipped in this second. */
  skipped: number;
}

/** Per-message facts of one invocation. */
export interface MessageFacts {
  readonly runId: string;
  /** Queue dwell, ms: receipt by the worker minus the trigger's sentAt. */
  readonly dwell: Histogram;
  /** Messages handled successfully / reported as batch item failures / rejected as invalid. */
  ok: number;
  failed: number;
  invalid: number;
}

/** What one handler invocation measured; handed to a {@link MetricsSink} once per invocation. */
export interface InvocationMetrics {
  /** Epoch ms when the invocation finished. */
  readonly at: number;
  readonly series: OpSeries[];
  readonly messages: MessageFacts[];
}

/** Where the handler sends its per-invocation metrics: CloudWatch, or an in-process sink. */
export interface MetricsSink {
  publish(metrics: InvocationMetrics): Promise<void>;
}
