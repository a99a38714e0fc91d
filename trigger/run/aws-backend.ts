import type { SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULTS } from '../../handlers/config';
import { STACK_OUTPUT } from '../../handlers/contract';
import { queryTimeoutMs } from '../../handlers/deadline';
import { EVENT_SOURCE_DEFAULTS } from '../../handlers/event-source';
import { RETRY_DELAYS_S } from '../../handlers/redelivery';
import { cloudWatch, rds, sqs } from '../aws/clients';
import { readDatabaseSection } from '../aws/database-metrics';
import { describeAwsFailure } from '../aws/discovery';
import type { AwsResources } from '../aws/resources';
import { readMeasured, readMessageOutcomes, type MetricsWindow } from '../aws/run-metrics';
import { aborted, type CliIo } from '../commands/io';
import { CliError, EXIT } from '../errors';
import { formatDuration } from '../options/duration';
import { checkFleet, fitLine, fleetOf, type Fleet } from '../plan/fleet';
import type { SendPlan } from '../plan/send-plan';
import { SqsTransport } from '../send/sqs-transport';
import type { QueueDepth } from '../send/transport';
import { deadLetterCrossCheck, deadLettersOf } from '../report/dead-letters';
import type { DatabaseSource } from '../report/run-record';
import type { Measured } from '../report/summary';
import type { Backend, Collected, RunWindow } from './backend';

/** How often the queue depth is read for the progress line. */
const DEPTH_POLL_MS = 5_000;
/**
 * How long to wait, after the load, for every message's outcome to reach CloudWatch: as long as a
 * message that fails every receive can take to be dead-lettered. It comes back after each of
 * RETRY_DELAYS_S (230 s), and each of its maxReceiveCount attempts may take a paused cluster's
 * resume wait, a connect timeout and a query timeout (67 s with the defaults); a minute more for
 * the event source to pick it up and for the last publish: 11m32s. The wait ends as soon as the
 * outcomes add up, so a healthy run waits seconds.
 */
export const METRICS_WAIT_MS = RETRY_DELAYS_S.reduce((sum, s) => sum + s * 1000, 0)
  + EVENT_SOURCE_DEFAULTS.maxReceiveCount * (DEFAULTS.resumeWaitMs + DEFAULTS.connectTimeoutMs + queryTimeoutMs(DEFAULTS.statementTimeoutMs))
  + 60_000;
/** How often to look meanwhile (one GetMetricData call), and between the reads of the summary. */
const METRICS_POLL_MS = 10_000;
/**
 * Most reads of the run's metrics once its outcomes are in, until two in a row count the same
 * statements (about a minute at most).
 */
export const STABLE_MAX_READS = 6;

export interface AwsBackendOptions {
  /** `--concurrency`: SendMessageBatch calls in flight. */
  readonly concurrency: number;
  /** `--max-connections`; without it the connection budget cannot be checked. */
  readonly maxConnections?: number;
  /** Pools per worker: one per kind of traffic in the mix. */
  readonly endpoints: number;
  /** `--max-concurrency`. @default the stack's output WorkerMaxConcurrency */
  readonly maxConcurrency?: number;
  /** Model the event source's scale-up (`--no-scale-up`: false). */
  readonly scaleUp: boolean;
  /**
   * The cluster's instances and their roles before the load (a failover drill reads them first),
   * for the database section. @default read with DescribeDBClusters after the load
   */
  readonly instances?: DatabaseSource['instances'];
}

/** The deployed fleet: the flags, else the stack's outputs, else the stack's defaults (unknown concurrency stays unknown). */
export function awsFleet(aws: Pick<AwsResources, 'deployment'>, o: Pick<AwsBackendOptions, 'maxConnections' | 'endpoints' | 'maxConcurrency' | 'scaleUp'>): Fleet {
  const d = aws.deployment;
  return fleetOf({
    maxConcurrency: o.maxConcurrency ?? d?.workerMaxConcurrency,
    poolMax: d?.workerPoolMax ?? DEFAULTS.poolMax,
    endpoints: o.endpoints,
    maxConnections: o.maxConnections,
    scaleUp: o.scaleUp,
  });
}

/**
 * SQS and CloudWatch as a backend: messages go to the deployed queue, the workers' metrics are
 * read back with GetMetricData. A run counts as complete once the worker's message outcomes add
 * up to what was sent: each message done (`Messages`, Outcome ok) or in the dead-letter queue.
 */
export class AwsBackend implements Backend {
  readonly source = 'cloudwatch';
  #sqs: SQSClient | undefined;
  #transport: SqsTransport | undefined;
  #deadLetters: SqsTransport | undefined;
  #deadLettersBefore: QueueDepth | undefined;
  #depth: QueueDepth | undefined;
  #depthTimer: NodeJS.Timeout | undefined;
  readonly #notes: string[] = [];

  constructor(private readonly aws: AwsResources, private readonly o: AwsBackendOptions) {}

  get transport(): SqsTransport {
    if (!this.#transport) throw new Error('the AWS backend is not prepared yet');
    return this.#transport;
  }

  async prepare(plan: SendPlan, io: CliIo): Promise<void> {
    const d = this.aws.deployment;
    const fleet = awsFleet(this.aws, this.o);
    const fit = checkFleet(plan, fleet);
    if (fleet.maxConcurrency === undefined) this.#notes.push(`worker concurrency not checked: the stack could not be read; pass --max-concurrency N (the stack's ${STACK_OUTPUT.workerMaxConcurrency})`);
    if (fleet.maxConnections === undefined) this.#notes.push('connection budget not checked: pass --max-connections N (SHOW max_connections on the writer) to have plans that cannot fit refused');
    io.err(fitLine(plan, fit, fleet));
    io.err(`queue ${this.aws.queueUrl}${d?.dashboardUrl ? `; dashboard ${d.dashboardUrl}` : ''}`);
    const client = await sqs(this.aws.region);
    this.#sqs = client;
    this.#transport = new SqsTransport({ client, queueUrl: this.aws.queueUrl, concurrency: this.o.concurrency, signal: io.signal, clock: io.clock });
    if (d?.deadLetterQueueUrl) {
      this.#deadLetters = new SqsTransport({ client, queueUrl: d.deadLetterQueueUrl, concurrency: 1 });
      this.#deadLettersBefore = await this.#deadLetters.depth();
    }
    this.#depthTimer = setInterval(() => void this.#transport?.depth().then((x) => { this.#depth = x; }), DEPTH_POLL_MS);
    this.#depthTimer.unref();
  }

  progress(): ReturnType<Backend['progress']> {
    return this.#depth ? { depth: this.#depth } : {};
  }

  async awaitLoad(loadEndAt: number, io: CliIo): Promise<void> {
    const wait = loadEndAt - io.clock.now();
    if (wait > 0) await Promise.race([io.clock.sleep(wait, io.signal), aborted(io.signal)]);
  }

  async interrupt(sent: number, total: number): Promise<string> {
    return `${sent} of ${total} messages sent; slices already queued or running go on: purge them with node trigger stop --yes`;
  }

  /** The dead-letter queue's growth since before sending (a cross-check); null when unknown. */
  async #deadLetterQueueGrowth(): Promise<number | null> {
    if (!this.#deadLetters || !this.#deadLettersBefore) return null;
    const now = await this.#deadLetters.depth();
    if (!now) return null;
    const total = (d: QueueDepth): number => d.visible + d.inFlight;
    return Math.max(0, total(now) - total(this.#deadLettersBefore));
  }

  async collect(run: RunWindow, io: CliIo): Promise<Collected> {
    if (this.#depthTimer) clearInterval(this.#depthTimer);
    const cw = await cloudWatch(this.aws.region);
    try {
      const window = (): MetricsWindow => ({ namespace: this.aws.namespace, runId: run.runId, startMs: run.loadStartAt, endMs: io.clock.now() });
      const waitMs = run.interrupted ? 0 : METRICS_WAIT_MS;
      const deadline = io.clock.now() + waitMs;
      let settled: Settled;
      for (;;) {
        settled = settle(await read(() => readMessageOutcomes(cw, window()), run.runId), run.messagesSent);
        if (settled.complete || io.clock.now() >= deadline || io.signal.aborted) break;
        io.err(`waiting for CloudWatch: ${settled.done} of ${run.messagesSent} messages reported done...`);
        await io.clock.sleep(Math.min(METRICS_POLL_MS, Math.max(0, deadline - io.clock.now())), io.signal);
      }
      const notes = [...this.#notes];
      const read1 = (): Promise<{ measured: Measured; window: MetricsWindow }> => {
        const w = window();
        return read(() => readMeasured(cw, w, run.operations, io.clock.now()), run.runId).then((measured) => ({ measured, window: w }));
      };
      // Complete means every invocation's last request was accepted; its datums, and other
      // invocations' earlier ones, may still be on their way into GetMetricData's answers.
      const { measured, window: w, stable } = settled.complete && !io.signal.aborted
        ? await readUntilStable(read1, io)
        : { ...(await read1()), stable: true };
      if (!stable) notes.push(`the statement counts were still growing after ${STABLE_MAX_READS} reads ${formatDuration(METRICS_POLL_MS)} apart: node trigger report --run ${run.runId} --refresh reads CloudWatch again`);
      const crossCheck = deadLetterCrossCheck(deadLettersOf(measured.timeline), await this.#deadLetterQueueGrowth());
      if (crossCheck) notes.push(crossCheck);
      const d = this.aws.deployment;
      const database = await readDatabaseSection(cw, () => rds(this.aws.region), {
        ...(d?.dbClusterIdentifier ? { clusterIdentifier: d.dbClusterIdentifier } : {}),
        ...(d?.workerFunctionName ? { functionName: d.workerFunctionName } : {}),
        ...(this.o.instances ? { instances: this.o.instances } : {}),
      }, measured.timeline, io.clock.now());
      return {
        measured: database.samples ? { ...measured, database: database.samples } : measured,
        deadLetterQueueGrowth: await this.#deadLetterQueueGrowth(),
        incomplete: settled.complete ? null
          : `${settled.done} of ${run.messagesSent} messages reported done after waiting ${formatDuration(waitMs)}; node trigger report --run ${run.runId} --refresh reads CloudWatch again`,
        notes: [...notes, ...database.notes],
        cloud: { region: this.aws.region ?? '', namespace: this.aws.namespace, startMs: w.startMs, endMs: w.endMs, database: database.source },
      };
    } finally {
      cw.destroy();
    }
  }

  async close(): Promise<void> {
    if (this.#depthTimer) clearInterval(this.#depthTimer);
    this.#sqs?.destroy();
  }
}

interface Settled {
  /** Messages done: succeeded, or dead-lettered by the workers on their last receive. */
  readonly done: number;
  readonly complete: boolean;
}

/**
 * A message is settled once the worker reported it done (Outcome ok) or dead-lettered it (failed
 * on its last receive, Outcome deadLettered); failed attempts before that come back, so they do not count.
 */
export function settle(outcomes: { ok: number; deadLettered: number }, sent: number): Settled {
  const done = outcomes.ok + outcomes.deadLettered;
  return { done, complete: done >= sent };
}

/** A statement's count in a measurement: what must stop changing before the summary is read. */
function sampleCounts(m: Measured): string {
  const total = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
  return JSON.stringify(m.timeline.series.map((s) => [
    s.op, s.target, total(s.ok), total(s.skipped), Object.values(s.errors).reduce((a, xs) => a + total(xs ?? []), 0),
  ]));
}

/**
 * Read until the per-operation sample counts (successes, errors, skips) are the same in two
 * consecutive reads, {@link METRICS_POLL_MS} apart, at most {@link STABLE_MAX_READS} reads: a
 * datum PutMetricData accepted can take a moment to show in GetMetricData, and one read alone
 * would miss it silently. `stable` false: the counts still changed at the last read.
 */
export async function readUntilStable<T extends { measured: Measured }>(readOnce: () => Promise<T>, io: Pick<CliIo, 'clock' | 'signal'>): Promise<T & { stable: boolean }> {
  let last = await readOnce();
  for (let reads = 1; reads < STABLE_MAX_READS && !io.signal.aborted; reads++) {
    await io.clock.sleep(METRICS_POLL_MS, io.signal);
    const next = await readOnce();
    const same = sampleCounts(next.measured) === sampleCounts(last.measured);
    last = next;
    if (same) return { ...last, stable: true };
  }
  return { ...last, stable: io.signal.aborted };
}

/** A CloudWatch read; an AWS failure is one line (exit 1: the load ran, the report did not). */
export async function read<T>(f: () => Promise<T>, runId: string): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw new CliError(`cannot read the run's metrics from CloudWatch: ${describeAwsFailure(e)}; try later with node trigger report --run ${runId} --refresh`, EXIT.failed);
  }
}
