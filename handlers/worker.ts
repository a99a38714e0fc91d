import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type pg from 'pg';
import type { Endpoint, WorkerConfig } from './config';
import { credentialProvider, type CredentialProvider } from './db/credentials';
import { allowlistOf, endpointKey, resolveEndpoint } from './db/allowlist';
import { ConnectionWaitError, describeError, errorClassOf, PoolBusyError } from './db/errors';
import { Pools, type Lease } from './db/pools';
import { WireConnection } from './db/wire';
import { invocationTimes, queryTimeoutMs } from './deadline';
import { SeenMessages } from './seen-messages';
import { Collector, recordError, recordSkip, recordSuccess } from './metrics/collector';
import { PeriodicPublish, PUBLISH_EVERY_MS } from './metrics/periodic-publish';
import type { MetricsSink, OpSeries } from './metrics/types';
import { DEFAULT_LATE_LIMIT_MS, InvalidMessageError, parseMessage, type InitMessage, type Message, type SliceMessage, type StatementsMessage } from './protocol/message';
import { LIMITS } from './protocol/limits';
import { runSchedule } from './schedule';
import { systemClock, type Clock } from './clock';
import type { Catalog, Script, Target, WorkloadName } from './workloads/catalog';
import { initWorkload } from './workloads/init';
import { checkInit, messageContext, scriptFor } from './workloads/resolve';
import type { PgPrng } from './workloads/script/prng';
import { runTransaction, type RunnableScript } from './workloads/script/run';
import { int, ScriptRuntimeError } from './workloads/script/value';
import type { Variables } from './workloads/script/variables';
import { currentScale } from './workloads/tpcb';
import { createLogger, type Logger } from './log';
import { isLastReceive, retryDelaySeconds, type Redelivery, type RetryRequest } from './redelivery';
import { runStalenessProbe } from './staleness-probe';

export interface WorkerDeps {
  readonly config: WorkerConfig;
  /**
   * The workloads this worker runs: in Lambda the scripts bundled with it, locally the
   * `workloads/` folder as it is on disk.
   */
  readonly catalog: Catalog;
  readonly sink: MetricsSink;
  readonly logger?: Logger;
  readonly credentials?: CredentialProvider;
  readonly clock?: Clock;
  /** Brings failed messages back sooner than the queue's visibility timeout. @default none */
  readonly redelivery?: Redelivery;
  /** Uniform in [0, 1): where in each minute a long invocation publishes. @default Math.random */
  readonly random?: () => number;
  /**
   * Counters bumped as each statement ends, for a live progress line while invocations run
   * (metrics reach the sink only when an invocation ends). @default none
   */
  readonly live?: LiveCounters;
  /**
   * Set the clock to the wall clock as an invocation starts with no other running in this process
   * (`Clock.resync`, clock.ts): a resync while another invocation is timing something would step
   * its waits and latencies. For Lambda, where an execution environment runs one invocation at a
   * time (Lambda Managed Instances, which this stack does not use, run several at once in each
   * worker thread, each thread with its own module state: then a thread resyncs when none of its
   * invocations is running, which under steady load may be never). Not for the local engine, whose
   * sender reads the same clock. @default false
   */
  readonly resyncClock?: boolean;
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

/** A value computed once per endpoint and then reused (the tpcb scale), so no per-transaction catalogue queries. */
interface EndpointCache {
  /** A loader that throws is retried next time. */
  cached<T>(key: string, load: () => Promise<T>): Promise<T>;
}

/** How one script of a message runs: where, with which variables, drawing from which generator. */
interface Route {
  readonly script: Script;
  /** The script as the interpreter runs it: its commands and statement names (built once per route). */
  readonly runnable: RunnableScript;
  readonly endpoint: Endpoint;
  readonly series: OpSeries;
  /**
   * The message's variables plus `:scale` when the script reads it (looked up on `client` once per
   * endpoint): a promise only until they are known, so the transactions after the first do not wait a turn for them.
   */
  variables(client: pg.ClientBase): Variables | Promise<Variables>;
  readonly rng: PgPrng;
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
  const { config, sink, catalog } = deps;
  const logger = deps.logger ?? createLogger();
  const clock = deps.clock ?? systemClock;
  const random = deps.random ?? Math.random;
  // Each database answer lets a slice's schedule start a statement that is due (clock.ts).
  const nudge = clock.nudge ? () => clock.nudge!() : undefined;
  const live: LiveCounters = deps.live ?? { ok: 0, errors: 0 };
  const failedStatement = (series: OpSeries, err: unknown, lagMs?: number): void => {
    recordError(series, errorClassOf(err), clock.now(), lagMs);
    live.errors += 1;
  };
  /** Each pooled client's interpreter connection, made once rather than per transaction. */
  const connections = new WeakMap<pg.ClientBase, WireConnection>();
  const connectionOf = (client: pg.ClientBase): WireConnection => {
    let c = connections.get(client);
    if (!c) connections.set(client, (c = new WireConnection(client, queryTimeoutMs(config.statementTimeoutMs), nudge)));
    return c;
  };
  const pools = new Pools(config, deps.credentials ?? credentialProvider(config.credentials), logger, clock);
  const allowlist = allowlistOf(config);
  const endpointState = new Map<string, Map<string, Promise<unknown>>>();
  /** Messages this environment ran (module scope in Lambda): a copy delivered again is not run twice. */
  const seen = new SeenMessages();
  let interrupted = false;

  function endpointCache(endpoint: Endpoint): EndpointCache {
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
   * A script's route for one message. `:scale` is pgbench's: given with -D, else (tpcb) the scale
   * its tables were loaded at on that endpoint, else 1.
   */
  function routeOf(script: Script, target: Target, msg: Message & { kind: 'statements' | 'slice' }, collector: Collector, base: { variables: Variables; rng: PgPrng }): Route {
    const endpoint = resolveEndpoint(config, allowlist, target, msg.hosts);
    const cache = endpointCache(endpoint);
    const workload = catalog.get(msg.workload)!;
    let scaled: Promise<Variables> | undefined;
    let known: Variables | undefined = !script.parsed.reads.has('scale') || base.variables.has('scale') ? base.variables : undefined;
    const variables = (client: pg.ClientBase): Variables | Promise<Variables> => {
      if (known) return known;
      scaled ??= (async () => {
        const scale = !workload.builtinLoader ? 1 : await cache.cached('scale', async () => {
          const n = await currentScale(client);
          if (n === 0) throw new ScriptRuntimeError(`${workload.name}'s tables are missing or empty: run init for workload ${workload.name} first`);
          return n;
        });
        const v = base.variables.child();
        v.setValue('scale', int(BigInt(scale)));
        known = v;
        return v;
      })();
      scaled.catch(() => { scaled = undefined; });
      return scaled;
    };
    const runnable = { parsed: script.parsed, statementPrefix: `s${script.hash}_` };
    return { script, runnable, endpoint, series: collector.op(msg.runId, msg.workload, script.name, target), variables, rng: base.rng };
  }

  /**
   * \sleep inside a transaction: part of its latency, as in pgbench. It never outlasts the moment
   * the invocation must publish (`publishBy`) and ends with the transaction when the worker is
   * interrupted.
   */
  function sleeper(publishBy: number): (ms: number) => Promise<void> {
    return async (ms) => {
      const until = clock.now() + ms;
      if (until > publishBy) throw new ScriptRuntimeError(`\\sleep of ${Math.round(ms)} ms would end after the invocation's deadline`);
      for (let now = clock.now(); now < until; now = clock.now()) {
        if (interrupted) throw new ScriptRuntimeError('interrupted during \\sleep');
        await clock.sleep(Math.min(until - now, 100));
      }
    };
  }

  /**
   * Run one transaction of the route's script on a leased connection and record it, once: its
   * latency or its error (and, for a slice, its schedule lag), in the wall-clock second it
   * finished. `counted` says whether its outcome is still wanted: a slice that gave up waiting for
   * it has counted it already.
   */
  async function runOne(lease: Lease, route: Route, sleep: (ms: number) => Promise<void>, since?: number, lagMs?: number, counted: () => boolean = () => true): Promise<unknown> {
    const t0 = since ?? clock.now();
    try {
      const known = route.variables(lease.client);
      const variables = known instanceof Promise ? await known : known;
      await runTransaction(route.runnable, connectionOf(lease.client), { variables, rng: route.rng, sleep });
    } catch (err) {
      if (counted()) failedStatement(route.series, err, lagMs);
      return err;
    }
    const end = clock.now();
    if (!counted()) return undefined;
    recordSuccess(route.series, end - t0, lease.role, end, lagMs);
    live.ok += 1;
    return undefined;
  }

  async function runStatements(msg: StatementsMessage, collector: Collector, deadline: number): Promise<void> {
    const script = scriptFor(catalog, msg.workload, msg.op, msg.hash);
    const target: Target = msg.target ?? script.target;
    const route = routeOf(script, target, msg, collector, messageContext(msg));
    // Each transaction is bounded by the query timeout: none starts that could outlive publishing.
    const { lastStart, publishBy } = invocationTimes(deadline, config, 0);
    let lease: Lease;
    try {
      lease = await pools.acquire(route.endpoint, { primary: target === 'writer' });
    } catch (err) {
      failedStatement(route.series, err);
      throw err;
    }
    const sleep = sleeper(publishBy);
    let failure: unknown;
    // Its answers must be handled as they arrive: no slice's wait blocks the thread meanwhile.
    const hold = clock.hold?.();
    try {
      for (let i = 0; i < msg.count && failure === undefined; i++) {
        if (clock.now() > lastStart) {
          failure = new Error(`the invocation ends before statement ${i + 1} of ${msg.count} could finish; the message comes back`);
          break;
        }
        failure = await runOne(lease, route, sleep);
      }
    } finally {
      hold?.();
      lease.release(failure);
    }
    // The rest of the message is not run: it comes back as an item failure and SQS redelivers it.
    if (failure !== undefined) throw failure;
  }

  async function runSlice(msg: SliceMessage, collector: Collector, deadline: number): Promise<void> {
    const base = messageContext(msg);
    const routes = new Map<string, Route>();
    for (const { op, hash } of msg.mix) {
      const script = scriptFor(catalog, msg.workload, op, hash);
      routes.set(op, routeOf(script, script.target, msg, collector, base));
    }
    const lateLimitMs = msg.lateLimitMs ?? DEFAULT_LATE_LIMIT_MS;
    const { lastStart, publishBy } = invocationTimes(deadline, config, lateLimitMs);
    const sleep = sleeper(publishBy);
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
    // Statements still running when the invocation must publish are counted then, as failures
    // (their connection did not answer in time), and whatever they do later is not counted again.
    const running = new Map<symbol, { series: OpSeries; lag: number }>();
    let gaveUp = false;
    const counted = (): boolean => !gaveUp;
    const { abandoned } = await runSchedule(
      {
        startAt: msg.startAt, rate: msg.rate, durationMs: msg.durationMs,
        ...(msg.rampMs !== undefined ? { rampMs: msg.rampMs, startRate: msg.startRate! } : {}),
        mix: msg.mix, lateLimitMs, deadline: lastStart, giveUpAt: publishBy,
      },
      {
        skip: (op) => { recordSkip(routes.get(op)!.series, clock.now()); },
        stopped: () => interrupted,
        start: async (op, due) => {
          const route = routes.get(op)!;
          let lease: Lease;
          try {
            // A connection later than the late limit is a skip (pgbench -L), whether the pool was
            // busy or a new connection was slow: only a connection that failed is an error.
            lease = await pools.acquire(route.endpoint, { waitMs: due + lateLimitMs - clock.now(), primary: route.series.target === 'writer' });
          } catch (err) {
            if (!counted()) return;
            if (err instanceof ConnectionWaitError || err instanceof PoolBusyError) recordSkip(route.series, clock.now());
            else failedStatement(route.series, err);
            return;
          }
          const lag = clock.now() - due;
          if (lag > lateLimitMs) {
            lease.release();
            if (counted()) recordSkip(route.series, clock.now());
            return;
          }
          const id = Symbol(op);
          running.set(id, { series: route.series, lag });
          try {
            const err = await runOne(lease, route, sleep, due, lag, counted);
            lease.release(err);
          } finally {
            running.delete(id);
          }
        },
      },
      clock,
    );
    if (abandoned > 0) {
      gaveUp = true;
      const at = clock.now();
      for (const { series, lag } of running.values()) {
        recordError(series, '08', at, lag);
        live.errors += 1;
      }
      logger.warn({ runId: msg.runId, seq: msg.seq, statements: running.size }, 'statements still running when the invocation had to publish: counted as connection failures');
    }
  }

  async function runInit(msg: Pick<InitMessage, 'workload' | 'scale' | 'reset' | 'hash'>): Promise<InitResult> {
    const workload = checkInit(catalog, msg);
    const lease = await pools.acquire(config.writer, { primary: true });
    let failure: unknown;
    try {
      const summary = await initWorkload(lease.client, workload, { scale: msg.scale ?? 1, reset: msg.reset ?? false });
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
      case 'statements': return runStatements(msg, collector, deadline);
      case 'slice': return runSlice(msg, collector, deadline);
      case 'probe': {
        const writer = resolveEndpoint(config, allowlist, 'writer', msg.hosts);
        const cache = endpointCache(writer);
        // No marker starts that could outlive publishing (its statements are bounded by the query timeout).
        const { lastStart } = invocationTimes(deadline, config, 0);
        return runStalenessProbe(msg, collector.staleness(msg.runId), {
          acquire: (e) => pools.acquire(e, { primary: e === writer }), writer, reader: resolveEndpoint(config, allowlist, 'reader', msg.hosts),
          once: (name, load) => cache.cached(name, load), clock, deadline: lastStart, stopped: () => interrupted, log: logger,
        });
      }
      case 'init': {
        const { summary } = await runInit(msg);
        logger.info({ runId: msg.runId, workload: msg.workload }, summary);
        return;
      }
    }
  }

  /** Invocations running in this process: the clock is resynced only when none is. */
  let invocations = 0;

  return {
    async handle(event, context) {
      const log = logger.child({ requestId: context.awsRequestId });
      if (deps.resyncClock && invocations === 0) {
        const stepMs = clock.resync?.() ?? 0;
        if (stepMs !== 0) log.warn({ stepMs: Math.round(stepMs * 1000) / 1000 }, 'worker clock set to the wall clock (it had drifted while the environment was frozen, or the wall clock stepped)');
      }
      invocations += 1;
      try {
        return await handleBatch(event, context, log);
      } finally {
        invocations -= 1;
      }
    },
    init: (workload, opts = {}) => runInit({ workload, ...opts }),
    interrupt: () => { interrupted = true; },
    close: () => pools.close(),
  };

  async function handleBatch(event: SQSEvent, context: Pick<Context, 'awsRequestId' | 'getRemainingTimeInMillis'>, log: Logger): Promise<SQSBatchResponse> {
    const receivedAt = clock.now();
    // Lambda's deadline: every statement ends, and the metrics are published, before it.
    const deadline = receivedAt + context.getRemainingTimeInMillis();
    const { publishBy, sendBy } = invocationTimes(deadline, config, 0);
    const collector = new Collector();
    // A long invocation publishes its seconds as they pass (metrics/periodic-publish.ts), each
    // publish (retries included) over by `publishBy`: the margin after it is the final publish's.
    const periodic = new PeriodicPublish(collector, sink, clock, { startedAt: receivedAt, phaseMs: random() * PUBLISH_EVERY_MS, by: publishBy, log });
    const failed: string[] = [];
    const retries: RetryRequest[] = [];
    /** A slice or probe held its pools for minutes: they are dropped before the environment freezes. */
    let heldPools = false;

    try {
      await Promise.all(event.Records.map(async (record: SQSRecord) => {
        let msg: Message;
        try {
          msg = parseMessage(record.body, receivedAt);
          // Refuse a host, or a script this worker does not have as planned, before anything connects anywhere.
          if (msg.kind !== 'init' && msg.hosts) {
            for (const t of ['reader', 'writer'] as const) resolveEndpoint(config, allowlist, t, msg.hosts);
          }
          if (msg.kind === 'statements') scriptFor(catalog, msg.workload, msg.op, msg.hash);
          if (msg.kind === 'slice') for (const m of msg.mix) scriptFor(catalog, msg.workload, m.op, m.hash);
          if (msg.kind === 'init') checkInit(catalog, msg);
        } catch (err) {
          const reason = err instanceof InvalidMessageError ? err.message : describeError(err);
          const facts = collector.run(runIdOf(record.body));
          facts.invalid += 1;
          const last = isLastReceive(record, config.maxReceiveCount);
          if (last) facts.deadLettered += 1;
          log.warn({ messageId: record.messageId, reason, ...(last ? { deadLettered: true } : {}) }, 'invalid message');
          failed.push(record.messageId);
          retries.push({ record, delaySeconds: retryDelaySeconds(record, true, config.maxReceiveCount) });
          return;
        }
        const facts = collector.run(msg.runId);
        const dwell = receivedAt - msg.sentAt;
        facts.dwell.record(dwell);
        // A message cannot arrive before it was sent: the sender's clock is ahead of ours.
        if (dwell < 0) facts.senderAheadMs = Math.max(facts.senderAheadMs, -dwell);
        if (seen.has(msg.runId, msg.seq)) {
          facts.duplicate += 1;
          log.info({ messageId: record.messageId, runId: msg.runId, seq: msg.seq, kind: msg.kind }, 'duplicate: this environment already ran this message; not run again');
          return;
        }
        seen.claim(msg.runId, msg.seq);
        if (msg.kind === 'slice' || msg.kind === 'probe') heldPools = true;
        try {
          await runMessage(msg, collector, deadline);
          facts.ok += 1;
        } catch (err) {
          seen.release(msg.runId, msg.seq);
          facts.failed += 1;
          // On its last receive a failed message goes to the dead-letter queue: counted for its run.
          const last = isLastReceive(record, config.maxReceiveCount);
          if (last) facts.deadLettered += 1;
          failed.push(record.messageId);
          retries.push({ record, delaySeconds: retryDelaySeconds(record, false, config.maxReceiveCount) });
          log.warn({ messageId: record.messageId, runId: msg.runId, kind: msg.kind, error: describeError(err), errorClass: errorClassOf(err), ...(last ? { deadLettered: true } : {}) }, 'message failed');
        }
      }));
    } finally {
      await periodic.stop();
    }

    // The environment freezes when we return: leave no idle connections behind (pools.ts, drop).
    if (heldPools) pools.drop();
    // Both end by `sendBy`. The final publish is not delayed to spread it: the trigger's fleet
    // model (trigger/plan/fleet.ts, HOLD_MS) has an invocation end a moment after its slice. What
    // is left for it is at most a minute's seconds (one request); when many land together, the
    // throttled ones are retried with jittered backoff (metrics/cloudwatch-sink.ts).
    const stopSending = new AbortController();
    const timer = new AbortController();
    void clock.sleep(Math.max(0, sendBy - clock.now()), timer.signal).then(() => { if (!timer.signal.aborted) stopSending.abort(); });
    try {
      await Promise.all([
        retries.length && deps.redelivery ? deps.redelivery.retry(retries, stopSending.signal) : undefined,
        sink.publish(collector.finish(clock.now()), { by: sendBy }).catch((err: unknown) => {
          // Losing one invocation's metrics is bad; redoing its database work would be worse.
          log.error({ error: describeError(err) }, 'publishing metrics failed');
        }),
      ]);
    } finally {
      timer.abort();
    }
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  }
}
