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
