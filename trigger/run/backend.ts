/**
 * Where a run's load goes and where its measurements come from: the local engine, or SQS and
 * CloudWatch. The run pipeline (pipeline.ts) drives either through this interface; a new backend
 * is a class of this shape.
 */
import type { CliIo } from '../commands/io';
import type { SendPlan } from '../plan/send-plan';
import type { ProgressSnapshot } from '../progress';
import type { CloudLocation, ReplicaLag } from '../report/run-record';
import type { Measured } from '../report/summary';
import type { Transport } from '../send/transport';

/** The run, as a backend needs it to read back what was measured. */
export interface RunWindow {
  readonly runId: string;
  /** The run's operations on their targets. */
  readonly operations: ReadonlyArray<{ readonly op: string; readonly target: 'reader' | 'writer' }>;
  /** Epoch ms the load started and (as planned, or at the interrupt) ended. */
  readonly loadStartAt: number;
  readonly loadEndAt: number;
  /** Messages the queue accepted. */
  readonly messagesSent: number;
  readonly interrupted: boolean;
}

/** What a backend collected for a run. */
export interface Collected {
  readonly measured: Measured;
  /**
   * How much the dead-letter queue grew over the run (a cross-check of the workers' own count of
   * this run's dead letters, which is in `measured`); null when unknown.
   */
  readonly deadLetterQueueGrowth: number | null;
  /** Local runs: the standby's lag at the end (null: could not be read). */
  readonly replicaLag?: ReplicaLag | null;
  /** Why not every message's outcome is in `measured`; null when all are. */
  readonly incomplete: string | null;
  readonly notes: readonly string[];
  /** AWS runs: where the metrics are, to read them again later. */
  readonly cloud?: CloudLocation;
}

export interface Backend {
  readonly source: 'local' | 'cloudwatch';
  /**
   * Get ready to send `plan`: start what must run, check that the plan fits (connection budget,
   * worker concurrency: a UsageError when not), initialise the workload, and read what the run is
   * measured against (the dead-letter queue's depth).
   */
  prepare(plan: SendPlan, io: CliIo): Promise<void>;
  /** Where messages go; ready after {@link prepare}. */
  readonly transport: Transport;
  /** What the progress line shows besides elapsed time and messages sent. */
  progress(): Pick<ProgressSnapshot, 'statements' | 'errors' | 'depth'>;
  /** Once everything is sent: wait until the load has run (local: the workers drained). Returns early on Ctrl-C. */
  awaitLoad(loadEndAt: number, io: CliIo): Promise<void>;
  /** After Ctrl-C: stop what can be stopped; one note for the summary. */
  interrupt(sent: number, total: number, io: CliIo): Promise<string>;
  /** Read what the workers measured for the run. */
  collect(run: RunWindow, io: CliIo): Promise<Collected>;
  /** Release everything (processes, clients); always called, also after a failure. */
  close(io: CliIo): Promise<void>;
}
