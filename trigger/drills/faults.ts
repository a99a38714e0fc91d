/**
 * Fault drills on the local engine (`node trigger drill KIND --local`), each ending in a
 * reconciliation (reconcile.ts): load runs through the run pipeline, a fault is caused and healed,
 * the queue drains, and the books must balance.
 *
 * - reader-down: the hot standby stops and comes back; reads fail (class 08) and their messages
 *   are redelivered.
 * - writer-down: the writer stops (fast shutdown: 57P01 to its sessions) and comes back.
 * - both-down: both servers stop and come back, the writer first.
 * - redelivery-storm: slices that run longer than the queue's visibility timeout, so the queue
 *   hands each one out again while it still runs (as SQS does when a Lambda outlives the
 *   visibility timeout): every extra run is a duplicate, and must be counted as one.
 * - writer-silent: the writer stops answering without closing anything (its endpoint holds every
 *   byte; a hung host, SIGSTOP, a network that drops packets). Nothing tells the clients: their
 *   query timeout must find it, and every invocation must still end and publish before its
 *   deadline. The drill times the first failed statement, and any invocation that ran past the
 *   function timeout unbalances the books.
 *
 * The server faults run in statements mode (a failed statement fails its message, which comes
 * back and, after maxReceiveCount receives, goes to the dead-letter queue); the storm and the
 * silent writer run slices. Drills assume nothing else writes to the workload's tables meanwhile: rows are
 * reconciled by count.
 */
import type pg from 'pg';
import type { Clock } from '../../handlers/clock';
import { tpcbBalances } from '../../handlers/workloads/tpcb';
import type { LocalCluster } from '../local/cluster';
import type { LocalQueue, LocalQueueStats } from '../local/queue';
import type { Measured } from '../report/summary';
import { DrillError, type Drill } from './drill';
import { reconcile } from './reconcile';

export const FAULT_KINDS = ['reader-down', 'writer-down', 'both-down', 'redelivery-storm', 'writer-silent'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What a fault drill needs of the local engine (trigger/local/engine.ts). */
export interface FaultEngine {
  readonly cluster?: Pick<LocalCluster, 'promoted' | 'stopReader' | 'startReader' | 'stopWriter' | 'startWriter' | 'waitForStreaming'> | undefined;
  readonly queue: Pick<LocalQueue, 'stats' | 'depth'>;
  readonly dlq: Pick<LocalQueue, 'receive' | 'delete' | 'changeVisibility'>;
  /** Statements failed so far, bumped as each ends. */
  readonly live: { readonly errors: number };
  /** Invocations that ran past the function timeout. */
  readonly invocations: { readonly timeouts: number };
  connect(which: 'writer'): Promise<pg.Client>;
  /** writer-silent: hold the endpoint's traffic, and let it through again. */
  silence(which: 'writer'): void;
  unsilence(which: 'writer'): void;
}

/** How often the silent-writer drill looks for the first failed statement, ms. */
const DETECT_POLL_MS = 50;

export interface FaultDrillOptions {
  readonly engine: FaultEngine;
  readonly kind: FaultKind;
  readonly runId: string;
  readonly workload: string;
  /** Server faults: when the servers stop, ms after the load starts. */
  readonly atMs: number;
  /** Server faults: how long they stay down. */
  readonly downMs: number;
  readonly clock: Clock;
  readonly log: (line: string) => void;
}

/** A fault drill for the run pipeline. Throws a {@link DrillError} for an engine it cannot run on. */
export function faultDrill(o: FaultDrillOptions): Drill {
  const { engine } = o;
  const cluster = engine.cluster;
  if (!cluster) throw new DrillError('fault drills stop and start servers: they need the embedded cluster, not --writer-url/--reader-url');
  if (cluster.promoted) throw new DrillError('the local cluster has failed over (one server left); start a new engine for fault drills');
  let before: LocalQueueStats;
  let timeoutsBefore = 0;
  let rowsBefore: Rows | undefined;
  return {
    kind: o.kind,
    ...(o.kind === 'redelivery-storm' ? {} : {
      atMs: o.atMs,
      async cause() {
        const startedAt = o.clock.now();
        const down = `${o.downMs / 1000} s`;
        if (o.kind === 'writer-silent') {
          const errorsBefore = engine.live.errors;
          engine.silence('writer');
          o.log(`writer silent: its endpoint holds every byte, no socket closes; answering again in ${down}`);
          let firstErrorAt: number | undefined;
          for (let now = o.clock.now(); now < startedAt + o.downMs; now = o.clock.now()) {
            if (firstErrorAt === undefined && engine.live.errors > errorsBefore) firstErrorAt = now;
            await o.clock.sleep(Math.min(DETECT_POLL_MS, startedAt + o.downMs - now));
          }
          engine.unsilence('writer');
          return { startedAt, completedAt: o.clock.now(), ...(firstErrorAt !== undefined ? { firstErrorAt } : {}) };
        }
        switch (o.kind) {
          case 'reader-down':
            await cluster.stopReader('fast');
            o.log(`reader stopped; starting it again in ${down}`);
            await o.clock.sleep(o.downMs);
            await cluster.startReader();
            break;
          case 'writer-down':
            await cluster.stopWriter('fast');
            o.log(`writer stopped; starting it again in ${down}`);
            await o.clock.sleep(o.downMs);
            await cluster.startWriter();
            await cluster.waitForStreaming();
            break;
          default:
            await Promise.all([cluster.stopReader('fast'), cluster.stopWriter('fast')]);
            o.log(`reader and writer stopped; starting them again in ${down}`);
            await o.clock.sleep(o.downMs);
            await cluster.startWriter();
            await cluster.startReader();
        }
        return { startedAt, completedAt: o.clock.now() };
      },
    }),
    async prepare() {
      before = { ...engine.queue.stats };
      timeoutsBefore = engine.invocations.timeouts;
      rowsBefore = await countRows(engine, o.workload);
    },
    async finish(measured: Measured) {
      const stats = engine.queue.stats;
      const rowsAfter = await countRows(engine, o.workload);
      const depth = engine.queue.depth;
      // Statements mode sends each operation to its own target: the writer's series are the writes.
      const writes = { ok: 0, errorsByClass: {} as Record<string, number> };
      for (const s of measured.timeline.series) {
        if (s.target !== 'writer') continue;
        writes.ok += s.ok.reduce((a, b) => a + b, 0);
        for (const [cls, counts] of Object.entries(s.errors)) writes.errorsByClass[cls] = (writes.errorsByClass[cls] ?? 0) + counts.reduce((a, b) => a + b, 0);
      }
      return reconcile({
        sent: stats.sent - before.sent,
        succeeded: stats.deleted - before.deleted,
        deadLettered: stats.deadLettered - before.deadLettered,
        stillQueued: depth.visible + depth.inFlight,
        redelivered: stats.redelivered - before.redelivered,
        deadLetterSeqs: takeDeadLetters(engine, o.runId),
        writes,
        ...(rowsBefore && rowsAfter ? { rows: { before: rowsBefore.rows, after: rowsAfter.rows } } : {}),
        ...(rowsAfter?.balances ? { balances: rowsAfter.balances } : {}),
        timedOut: engine.invocations.timeouts - timeoutsBefore,
      });
    },
  };
}

/**
 * Read the run's messages out of the dead-letter queue (deleting them: the drill has looked at
 * them) and put everything else back. Returns their `seq`s.
 */
function takeDeadLetters(engine: FaultEngine, runId: string): number[] {
  const seqs: number[] = [];
  const others: string[] = [];
  for (let batch = engine.dlq.receive(10); batch.length > 0; batch = engine.dlq.receive(10)) {
    for (const m of batch) {
      let parsed: { runId?: unknown; seq?: unknown } = {};
      try {
        parsed = JSON.parse(m.body) as typeof parsed;
      } catch { /* not ours */ }
      if (parsed.runId === runId) {
        seqs.push(Number(parsed.seq));
        engine.dlq.delete(m.receiptHandle);
      } else {
        others.push(m.receiptHandle);
      }
    }
  }
  for (const receipt of others) engine.dlq.changeVisibility(receipt, 0);
  return seqs;
}

interface Rows {
  readonly rows: number;
  readonly balances?: Awaited<ReturnType<typeof tpcbBalances>>;
}

/** Rows the workload's writes add (seed's transactions, tpcb's history, with its balances); undefined for other workloads. */
async function countRows(engine: FaultEngine, workload: string): Promise<Rows | undefined> {
  if (workload !== 'seed' && workload !== 'tpcb') return undefined;
  const client = await engine.connect('writer');
  try {
    if (workload === 'tpcb') {
      const balances = await tpcbBalances(client);
      return { rows: balances.historyRows, balances };
    }
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM transactions');
    return { rows: Number(rows[0]!.n) };
  } finally {
    await client.end();
  }
}
