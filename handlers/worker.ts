import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Endpoint, WorkerConfig } from './config';
import { credentialProvider, type CredentialProvider } from './db/credentials';
import { allowlistOf, endpointKey, resolveEndpoint } from './db/allowlist';
import { describeError, errorClassOf } from './db/errors';
import { Pools, type Lease } from './db/pools';
import { Collector, recordError, recordSkip, recordSuccess } from './metrics/collector';
import type { MetricsSink, OpSeries } from './metrics/types';
import { DEFAULT_LATE_LIMIT_MS, InvalidMessageError, parseMessage, type InitMessage, type Message, type SliceMessage, type StatementsMessage } from './protocol/message';
import { LIMITS } from './protocol/limits';
import { runSchedule } from './schedule';
import { systemClock, type Clock } from './clock';
import { opInfo, targetOf, type Target, type WorkloadName } from './workloads/catalog';
import { WORKLOADS } from './workloads';
import type { OpContext } from './workloads/types';
import { createLogger, type Logger } from './log';
import { retryDelaySeconds, type Redelivery, type RetryRequest } from './redelivery';
import { runStalenessProbe } from './staleness-probe';

export interface WorkerDeps {
  readonly config: WorkerConfig;
  readonly sink: MetricsSink;
  readonly logger?: Logger;
  readonly credentials?: CredentialProvider;
  readonly clock?: Clock;
  /** Brings failed messages back sooner than the queue's visibility timeout. @default none */
  readonly redelivery?: Redelivery;
  /**
   * Counters bumped as each statement ends, for a live progress line while invocations run
   * (metrics reach the sink only when an invocation ends). @default none
   */
  readonly live?: LiveCounters;
}

export interface LiveCounters {
  ok: number;
  errors: number;
}

/** What an init run reports back (custom resource data, CLI output). */
export interface InitResult {
  readonly workload: WorkloadName;
  readonly summary: string;
}

export interface Worker {
  /** The Lambda SQS handler: runs each message, returns the ids of the failed ones. */
  handle(event: SQSEvent, context: Pick<Context, 'awsRequestId' | 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse>;
  /** Run a workload's init directly (custom resource, local engine). */
  init(workload: WorkloadName, opts?: { scale?: number; reset?: boolean }): Promise<InitResult>;
  /**
   * Stop starting slice statements (Ctrl-C of a local run): running slices end within ~100 ms and
   * their invocations publish what they measured. Statements not started are not counted.
   */
  interrupt(): void;
  /** Close the pools (local runs and tests; Lambda just freezes). */
  close(): Promise<void>;
}

/** The runId of a message that failed validation, when one can be read, for its metrics. */
function runIdOf(body: string): string {
  try {
    const runId = (JSON.parse(body) as { runId?: unknown }).runId;
    if (typeof runId === 'string' && LIMITS.runIdPattern.test(runId)) return runId;
  } catch { /* not JSON */ }
  return 'unknown';
}

/**
 * Build the worker. In Lambda it is created once at module scope, so its pools, cached secret and
 * per-endpoint workload state live across invocations.
 */
export function createWorker(deps: WorkerDeps): Worker {
  const { config, sink } = deps;
  const logger = deps.logger ?? createLogger();
  const clock = deps.clock ?? systemClock;
  const live: LiveCounters = deps.live ?? { ok: 0, errors: 0 };
  const failedStatement = (series: OpSeries, err: unknown, lagMs?: number): void => {
    recordError(series, errorClassOf(err), clock.now(), lagMs);
    live.errors += 1;
  };
  const pools = new Pools(config, deps.credentials ?? credentialProvider(config.credentials), logger);
  const allowlist = allowlistOf(config);
  const endpointState = new Map<string, Map<string, Promise<unknown>>>();
  let interrupted = false;

  function opContext(endpoint: Endpoint): OpContext {
    const key = endpointKey(endpoint);
    let state = endpointState.get(key);
    if (!state) endpointState.set(key, (state = new Map()));
    const cache = state;
    return {
      cached<T>(name: string, load: () => Promise<T>): Promise<T> {
        let p = cache.get(name) as Promise<T> | undefined;
        if (!p) {
          p = load();
          cache.set(name, p);
          p.catch(() => cache.delete(name));
        }
        return p;
      },
    };
  }

  /**
   * Run one statement of `op` on a leased connection and record it, once: its latency or its
   * error (and, for a slice statement, its schedule lag), in the wall-clock second it finished.
   */
  async function runOne(lease: Lease, workload: WorkloadName, op: string, ctx: OpContext, series: OpSeries, since?: number, lagMs?: number): Promise<unknown> {
    const impl = WORKLOADS[workload].ops[op]!;
    const t0 = since ?? clock.now();
    try {
      await impl(lease.client, ctx);
    } catch (err) {
      failedStatement(series, err, lagMs);
      return err;
    }
    const end = clock.now();
    recordSuccess(series, end - t0, lease.role, end, lagMs);
    live.ok += 1;
    return undefined;
  }

  async function runStatements(msg: StatementsMessage, collector: Collector): Promise<void> {
    const info = opInfo(msg.workload, msg.op)!;
    const target: Target = msg.target ?? targetOf(info.kind);
    const endpoint = resolveEndpoint(config, allowlist, target, msg.hosts);
    const series = collector.op(msg.runId, msg.workload, msg.op, target);
    let lease: Lease;
    try {
      lease = await pools.acquire(endpoint);
    } catch (err) {
      failedStatement(series, err);
      throw err;
    }
    const ctx = opContext(endpoint);
    let failure: unknown;
    try {
      for (let i = 0; i < msg.count && failure === undefined; i++) {
        failure = await runOne(lease, msg.workload, msg.op, ctx, series);
      }
    } finally {
      lease.release(failure);
    }
    // The rest of the message is not run: it comes back as an item failure and SQS redelivers it.
    if (failure !== undefined) throw failure;
  }

  async function runSlice(msg: SliceMessage, collector: Collector, deadline: number): Promise<void> {
    const routes = new Map<string, { endpoint: Endpoint; series: OpSeries; ctx: OpContext }>();
    for (const { op } of msg.mix) {
      const target = targetOf(opInfo(msg.workload, op)!.kind);
      const endpoint = resolveEndpoint(config, allowlist, target, msg.hosts);
      routes.set(op, { endpoint, series: collector.op(msg.runId, msg.workload, op, target), ctx: opContext(endpoint) });
    }
    const lateLimitMs = msg.lateLimitMs ?? DEFAULT_LATE_LIMIT_MS;
    if (msg.startAt > clock.now()) {
      // Connect while waiting for the start, about one connection per 50 statements/s an endpoint gets.
      const total = msg.mix.reduce((a, m) => a + m.weight, 0);
      const rateOf = new Map<string, { endpoint: Endpoint; rate: number }>();
      for (const m of msg.mix) {
        const { endpoint } = routes.get(m.op)!;
        const key = endpointKey(endpoint);
        const r = rateOf.get(key) ?? { endpoint, rate: 0 };
        r.rate += (msg.rate * m.weight) / total;
        rateOf.set(key, r);
      }
      for (const { endpoint, rate } of rateOf.values()) void pools.warm(endpoint, Math.max(1, Math.ceil(rate / 50)));
    }
    await runSchedule(
      { startAt: msg.startAt, rate: msg.rate, durationMs: msg.durationMs, mix: msg.mix, lateLimitMs, deadline },
      {
        skip: (op) => { recordSkip(routes.get(op)!.series, clock.now()); },
        stopped: () => interrupted,
        start: async (op, due) => {
          const { endpoint, series, ctx } = routes.get(op)!;
          let lease: Lease;
          try {
            lease = await pools.acquire(endpoint);
          } catch (err) {
            failedStatement(series, err);
            return;
          }
          const lag = clock.now() - due;
          if (lag > lateLimitMs) {
            // Waited too long for a connection: skipped, as pgbench -L does.
            lease.release();
            recordSkip(series, clock.now());
            return;
          }
          const err = await runOne(lease, msg.workload, op, ctx, series, due, lag);
          lease.release(err);
        },
      },
      clock,
    );
  }

  async function runInit(msg: Pick<InitMessage, 'workload' | 'scale' | 'reset'>): Promise<InitResult> {
    const lease = await pools.acquire(config.writer);
    let failure: unknown;
    try {
      const summary = await WORKLOADS[msg.workload].init(lease.client, { scale: msg.scale ?? 1, reset: msg.reset ?? false });
      // Cached per-endpoint state (the tpcb scale) may be stale after a reload.
      endpointState.clear();
      return { workload: msg.workload, summary };
    } catch (err) {
      failure = err;
      throw err;
    } finally {
      lease.release(failure);
    }
  }

  async function runMessage(msg: Message, collector: Collector, deadline: number): Promise<void> {
    switch (msg.kind) {
      case 'statements': return runStatements(msg, collector);
      case 'slice': return runSlice(msg, collector, deadline);
      case 'probe': {
        const writer = resolveEndpoint(config, allowlist, 'writer', msg.hosts);
        const cache = opContext(writer);
        return runStalenessProbe(msg, collector.staleness(msg.runId), {
          acquire: (e) => pools.acquire(e), writer, reader: resolveEndpoint(config, allowlist, 'reader', msg.hosts),
          once: (name, load) => cache.cached(name, load), clock, deadline, stopped: () => interrupted, log: logger,
        });
      }
      case 'init': {
        const { summary } = await runInit(msg);
        logger.info({ runId: msg.runId, workload: msg.workload }, summary);
        return;
      }
    }
  }

  return {
    async handle(event, context) {
      const log = logger.child({ requestId: context.awsRequestId });
      const receivedAt = clock.now();
      const deadline = clock.now() + context.getRemainingTimeInMillis() - config.deadlineMarginMs;
      const collector = new Collector();
      const failed: string[] = [];
      const retries: RetryRequest[] = [];

      await Promise.all(event.Records.map(async (record: SQSRecord) => {
        let msg: Message;
        try {
          msg = parseMessage(record.body, receivedAt);
          // Refuse a host before anything connects anywhere.
          if (msg.kind !== 'init' && msg.hosts) {
            for (const t of ['reader', 'writer'] as const) resolveEndpoint(config, allowlist, t, msg.hosts);
          }
        } catch (err) {
          const reason = err instanceof InvalidMessageError ? err.message : describeError(err);
          collector.run(runIdOf(record.body)).invalid += 1;
          log.warn({ messageId: record.messageId, reason }, 'invalid message');
          failed.push(record.messageId);
          retries.push({ record, delaySeconds: retryDelaySeconds(record, true) });
          return;
        }
        const facts = collector.run(msg.runId);
        facts.dwell.record(receivedAt - msg.sentAt);
        try {
          await runMessage(msg, collector, deadline);
          facts.ok += 1;
        } catch (err) {
          facts.failed += 1;
          failed.push(record.messageId);
          retries.push({ record, delaySeconds: retryDelaySeconds(record, false) });
          log.warn({ messageId: record.messageId, runId: msg.runId, kind: msg.kind, error: describeError(err), errorClass: errorClassOf(err) }, 'message failed');
        }
      }));

      if (retries.length && deps.redelivery) await deps.redelivery.retry(retries);
      try {
        await sink.publish(collector.finish(clock.now()));
      } catch (err) {
        // Losing one invocation's metrics is bad; redoing its database work would be worse.
        log.error({ error: describeError(err) }, 'publishing metrics failed');
      }
      return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
    },
    init: (workload, opts = {}) => runInit({ workload, ...opts }),
    interrupt: () => { interrupted = true; },
    close: () => pools.close(),
  };
}
