/**
 * The whole cloud side on one machine: an embedded PostgreSQL writer + hot standby (or servers the
 * user names), an in-process queue + DLQ with SQS semantics, a poller acting as the event source
 * mapping, and the very same worker the Lambda runs, publishing into an in-memory sink.
 */
import { mkdirSync, createWriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Endpoint, WorkerConfig } from '../../handlers/config';
import { DEFAULTS } from '../../handlers/config';
import { EVENT_SOURCE_DEFAULTS, SCALE_UP_DEFAULTS, type ScaleUpSettings } from '../../handlers/event-source';
import { createLogger } from '../../handlers/log';
import { MemorySink } from '../../handlers/metrics/memory-sink';
import { createWorker, type InitResult, type LiveCounters, type Worker } from '../../handlers/worker';
import type { Redelivery } from '../../handlers/redelivery';
import type { Catalog, WorkloadName } from '../../handlers/workloads/catalog';
import { projectCatalog } from '../../handlers/workloads/project';
import type { ServerUrls } from '../options/postgres-url';
import { LocalCluster } from './cluster';
import { localWorkerConfig } from './worker-config';
import { EndpointProxy } from './endpoint-proxy';
import { ExecutionEnvironments } from './environments';
import { LocalPoller, type LocalPollerStats } from './poller';
import { LocalQueue } from './queue';
import type { SampledServer } from './server-sampler';

export interface LocalEngineOptions {
  /** Existing servers to use (checked by parseServerUrls). @default an embedded writer + hot standby */
  readonly servers?: ServerUrls;
  /** Connections per endpoint per worker (each concurrent invocation has its own worker, as in Lambda). @default 4 */
  readonly poolMax?: number;
  /** Messages per invocation, as the event source mapping's batch size. @default the stack's (EVENT_SOURCE_DEFAULTS.batchSize, 1) */
  readonly batchSize?: number;
  /** Concurrent worker invocations, as the event source mapping's maximum concurrency. @default the stack's (EVENT_SOURCE_DEFAULTS.maxConcurrency, 10) */
  readonly maxConcurrency?: number;
  /**
   * How the event source scales up to `maxConcurrency`; null: at once. Set it for tests that need
   * a faster (or no) ramp. @default as in AWS (SCALE_UP_DEFAULTS: 5 at first, 300 more a minute)
   */
  readonly scaleUp?: ScaleUpSettings | null;
  /** How long an invocation may run before it times out. @default the stack's (15 minutes) */
  readonly functionTimeoutMs?: number;
  /** The worker's statement_timeout (its client-side query timeout follows it). @default DEFAULTS.statementTimeoutMs */
  readonly statementTimeoutMs?: number;
  /**
   * How long a received message stays invisible. A slice message is in flight for its whole
   * duration, so this must exceed the longest slice sent (plus its start lead), or the slice is
   * delivered again while it runs; shorter values make failed `statements` messages return sooner.
   * @default 120000
   */
  readonly visibilityTimeoutMs?: number;
  /** Receives before a message moves to the DLQ; the workers are told it too. @default the stack's (EVENT_SOURCE_DEFAULTS.maxReceiveCount) */
  readonly maxReceiveCount?: number;
  /** Where the worker's JSON log goes. @default `<tmp>/aurora-load-test/worker-<pid>.log` */
  readonly logFile?: string;
  /**
   * Put a forwarding endpoint in front of the embedded writer and reader, as Aurora's cluster
   * endpoints are, so {@link LocalEngine.failover} can move them and {@link LocalEngine.silence}
   * can swallow their traffic. Costs a hop per packet; drills only.
   * @default false
   */
  readonly failoverEndpoints?: boolean;
  /** Progress lines while starting. */
  readonly log?: (line: string) => void;
  /**
   * The workloads the worker runs. @default this checkout's `workloads/` as it is on disk
   * (uncommitted scripts included), the same catalog the trigger plans with
   */
  readonly catalog?: Catalog;
}

/** A user mistake in the engine's options; one line. */
export class LocalEngineError extends Error {
  override readonly name = 'LocalEngineError';
}

export class LocalEngine {
  private stopped = false;

  private constructor(
    readonly queue: LocalQueue,
    readonly dlq: LocalQueue,
    readonly sink: MemorySink,
    readonly endpoints: { readonly writer: Endpoint; readonly reader: Endpoint },
    readonly poolMax: number,
    readonly maxConcurrency: number,
    readonly logFile: string,
    private readonly worker: Worker,
    private readonly poller: LocalPoller,
    private readonly config: WorkerConfig,
    /** Resolves once every line the worker logged is in the log file. */
    private readonly closeLog: () => Promise<void>,
    /** Statements finished so far, bumped as each ends (the sink only hears of finished invocations). */
    readonly live: Readonly<LiveCounters>,
    readonly cluster?: LocalCluster,
    private readonly proxies?: { readonly writer: EndpointProxy; readonly reader: EndpointProxy },
  ) {}

  static async start(opts: LocalEngineOptions = {}): Promise<LocalEngine> {
    const say = opts.log ?? (() => undefined);
    const poolMax = opts.poolMax ?? DEFAULTS.poolMax;
    const maxConcurrency = opts.maxConcurrency ?? EVENT_SOURCE_DEFAULTS.maxConcurrency;

    let cluster: LocalCluster | undefined;
    let proxies: { writer: EndpointProxy; reader: EndpointProxy } | undefined;
    let writer: Endpoint;
    let reader: Endpoint;
    let credentials: { user: string; password: string; database: string };
    if (opts.servers) {
      const w = opts.servers.writer;
      writer = w.endpoint;
      reader = opts.servers.reader.endpoint;
      credentials = { user: w.user, password: w.password, database: w.database };
    } else {
      say('starting embedded PostgreSQL: a writer and a streaming hot-standby reader...');
      cluster = await LocalCluster.start();
      say(`cluster up in ${(cluster.startupMs / 1000).toFixed(1)} s: writer 127.0.0.1:${cluster.writer.port}, reader 127.0.0.1:${cluster.reader.port}`);
      if (opts.failoverEndpoints) {
        proxies = { writer: await EndpointProxy.start(cluster.writer), reader: await EndpointProxy.start(cluster.reader) };
        writer = { host: proxies.writer.host, port: proxies.writer.port };
        reader = { host: proxies.reader.host, port: proxies.reader.port };
      } else {
        writer = { ...cluster.writer };
        reader = { ...cluster.reader };
      }
      credentials = { user: cluster.user, password: cluster.password, database: cluster.database };
    }

    const maxReceiveCount = opts.maxReceiveCount ?? EVENT_SOURCE_DEFAULTS.maxReceiveCount;
    const config = localWorkerConfig({
      writer, reader, ...credentials, poolMax, maxReceiveCount, ...(opts.statementTimeoutMs !== undefined ? { statementTimeoutMs: opts.statementTimeoutMs } : {}),
    });
    const logFile = opts.logFile ?? path.join(os.tmpdir(), 'aurora-load-test', `worker-${process.pid}.log`);
    mkdirSync(path.dirname(logFile), { recursive: true });
    const stream = createWriteStream(logFile, { flags: 'a' });
    const sink = new MemorySink();
    const dlq = new LocalQueue({ name: 'dlq' });
    const queue: LocalQueue = new LocalQueue({
      name: 'queue',
      visibilityTimeoutMs: opts.visibilityTimeoutMs ?? 120_000,
      maxReceiveCount,
      deadLetterQueue: dlq,
    });
    // Failed messages come back after the worker's backoff, as SqsRedelivery arranges in AWS.
    const redelivery: Redelivery = {
      async retry(requests) {
        for (const { record, delaySeconds } of requests) {
          try {
            queue.changeVisibility(record.receiptHandle, delaySeconds * 1000);
          } catch { /* a stale receipt: the message is already back */ }
        }
      },
    };
    const live: LiveCounters = { ok: 0, errors: 0 };
    const logger = createLogger(stream);
    // One worker per concurrent invocation, as Lambda has one execution environment per invocation.
    const catalog = opts.catalog ?? projectCatalog();
    const worker = new ExecutionEnvironments(() => createWorker({ config, catalog, sink, logger, redelivery, live }));
    const poller = new LocalPoller(queue, (event, context) => worker.handle(event, context), {
      batchSize: opts.batchSize ?? EVENT_SOURCE_DEFAULTS.batchSize,
      maxConcurrency,
      scaleUp: opts.scaleUp === undefined ? SCALE_UP_DEFAULTS : opts.scaleUp,
      functionTimeoutMs: opts.functionTimeoutMs ?? EVENT_SOURCE_DEFAULTS.functionTimeoutMs,
      onError: (err) => logger.warn({ error: (err as Error)?.message ?? String(err) }, 'invocation failed as a whole'),
    });
    poller.start();
    return new LocalEngine(queue, dlq, sink, { writer, reader }, poolMax, maxConcurrency, logFile, worker, poller, config,
      () => new Promise<void>((resolve) => { stream.end(resolve); }), live, cluster, proxies);
  }

  /**
   * Failover drill: promote the standby, stop the old writer, and move both endpoints to the
   * promoted server (Aurora's reader endpoint serves from the writer when no replica is left).
   * Needs `failoverEndpoints`.
   */
  async failover(): Promise<void> {
    if (!this.cluster || !this.proxies) {
      throw new LocalEngineError('a local failover needs the embedded cluster started with failover endpoints');
    }
    await this.cluster.promoteReader();
    this.proxies.writer.retarget(this.cluster.writer);
    this.proxies.reader.retarget(this.cluster.reader);
  }

  /**
   * Dead-server drill: the endpoint stops answering without closing its sockets (a server that
   * hangs, a network that drops packets): connections stay open, nothing comes back. Needs
   * `failoverEndpoints`. {@link LocalEngine.unsilence} lets traffic through again.
   */
  silence(which: 'writer' | 'reader'): void {
    if (!this.proxies) throw new LocalEngineError('silencing an endpoint needs the embedded cluster started with failover endpoints');
    this.proxies[which].silence();
  }

  /** Let the endpoint's traffic through again: connections made meanwhile start working. */
  unsilence(which: 'writer' | 'reader'): void {
    this.proxies?.[which].unsilence();
  }

  /** Poller statistics: invocations, timeouts, the most that ran at once. */
  get invocations(): Readonly<LocalPollerStats> {
    return this.poller.stats;
  }

  /** Run a workload's idempotent init on the writer, through the worker. */
  init(workload: WorkloadName, opts: { scale?: number; reset?: boolean } = {}): Promise<InitResult> {
    return this.worker.init(workload, opts);
  }

  /** A plain connection to the writer or reader (reports, reconciliation, tests). Caller ends it. */
  connect(which: 'writer' | 'reader'): Promise<pg.Client> {
    return this.#connect(this.cluster ? this.cluster[which] : this.endpoints[which]);
  }

  async #connect(e: Endpoint, options: pg.ClientConfig = {}): Promise<pg.Client> {
    const c = this.config.credentials;
    if (c.kind !== 'static') throw new Error('local engine has static credentials');
    const client = new pg.Client({ host: e.host, port: e.port, user: c.user, password: c.password, database: this.config.database, ...options });
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    return client;
  }

  /**
   * The database servers to sample during a run: the embedded writer and standby by the role they
   * started with and their own ports (not the failover endpoints), with their postmasters' pids;
   * or the servers given with --writer-url / --reader-url.
   */
  sampledServers(): SampledServer[] {
    // A sample must not hang on a server that is going away.
    const quick = { connectionTimeoutMillis: 2_000, statement_timeout: 2_000 };
    if (this.cluster) {
      const cluster = this.cluster;
      return cluster.servers.map((s) => ({
        name: `${s.role}:${s.port}`,
        role: s.role,
        connect: () => this.#connect({ host: cluster.writer.host, port: s.port }, quick),
        pid: () => cluster.servers.find((x) => x.port === s.port)?.pid,
      }));
    }
    return (['writer', 'reader'] as const).map((role) => {
      const e = this.endpoints[role];
      return { name: `${role} ${e.host}:${e.port}`, role, connect: () => this.#connect(e, quick) };
    });
  }

  /** The writer's max_connections, for the trigger's connection budget. */
  async maxConnections(): Promise<number> {
    const client = await this.connect('writer');
    try {
      const { rows } = await client.query<{ max_connections: string }>('SHOW max_connections');
      return Number(rows[0]!.max_connections);
    } finally {
      await client.end();
    }
  }

  /** Replica lag as the writer sees it, or null when there is no embedded cluster to ask. */
  async replicationLag(): Promise<{ bytes: number; ms: number | null } | null> {
    return this.cluster ? this.cluster.replicationLag() : null;
  }

  /**
   * Ctrl-C: running slices stop starting statements within ~100 ms, so their invocations end and
   * publish what they measured. Purge the queue as well to drop what was not received yet.
   */
  interrupt(): void {
    this.worker.interrupt();
  }

  /** Resolves once nothing is queued or in flight. */
  async idle(timeoutMs = 120_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`queue not drained after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.poller.idle(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stop polling, close the pools and stop every process started. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.poller.stop().catch(() => undefined);
    await this.worker.close().catch(() => undefined);
    // The CLI exits as soon as a run returns: the worker's last lines must be on disk by then.
    await this.closeLog();
    if (this.proxies) await Promise.all([this.proxies.writer.close(), this.proxies.reader.close()]);
    if (this.cluster) await this.cluster.stop();
  }
}
