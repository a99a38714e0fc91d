/**
 * Fault drills on the local engine, each ending in a reconciliation (reconcile.ts): load runs, a
 * fault is injected, the fault is healed, the queue drains, and the books must balance.
 *
 * - reader-down: the hot standby stops and comes back; reads fail (class 08) and their messages
 *   are redelivered.
 * - writer-down: the writer stops (fast shutdown: 57P01 to its sessions) and comes back.
 * - both-down: both servers stop and come back, the writer first.
 * - redelivery-storm: slices that run longer than the queue's visibility timeout, so the queue
 *   hands each one out again while it still runs (as SQS does when a Lambda outlives the
 *   visibility timeout): every extra run is a duplicate, and must be counted as one.
 *
 * The server faults send statements messages (a failed statement fails its message, which comes
 * back after the visibility timeout and, after maxReceiveCount receives, goes to the dead-letter
 * queue); the storm sends slices. Drills assume nothing else writes to the workload's tables
 * meanwhile: the rows are reconciled by count.
 */
import type pg from 'pg';
import { tpcbBalances } from '../../handlers/workloads/tpcb';
import type { WorkloadName } from '../../handlers/workloads/catalog';
import type { LocalEngine } from '../local/engine';
import { projectCatalog } from '../../handlers/workloads/project';
import { DrillError, drillRunId, planLoad, sendLoad, sleep } from './load';
import { reconcile, type Reconciliation } from './reconcile';

export const FAULT_KINDS = ['reader-down', 'writer-down', 'both-down', 'redelivery-storm'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultDrillOptions {
  /** The local engine with its embedded cluster, not failed over. */
  readonly engine: LocalEngine;
  readonly fault: FaultKind;
  /** Initialised by the caller. @default 'seed' */
  readonly workload?: WorkloadName;
  /** Statements per second. @default 100 (storm: 200) */
  readonly rate?: number;
  /** How long load is sent. @default 5000 (storm: the slice length) */
  readonly durationMs?: number;
  /** Server faults: when the fault starts, ms after the load starts. @default 1000 */
  readonly faultAtMs?: number;
  /** Server faults: how long the server(s) stay down. @default 1500 */
  readonly downMs?: number;
  /** Server faults: statements per message. @default 5 */
  readonly count?: number;
  /** Storm: concurrent slices. @default 4 */
  readonly slices?: number;
  /** Storm: each slice's length. @default 2.5 x the visibility timeout */
  readonly sliceMs?: number;
  readonly runId?: string;
  /** How long to wait for the queue to drain after the load. @default 60000 */
  readonly drainTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface StatementCounts {
  readonly ok: number;
  readonly errorsByClass: Readonly<Record<string, number>>;
  readonly skipped: number;
}

export interface FaultDrillResult {
  readonly runId: string;
  readonly fault: FaultKind;
  /** Epoch ms. faultAt/restoredAt are absent for the storm (its fault is the schedule itself). */
  readonly timings: { readonly loadStartAt: number; readonly loadEndAt: number; readonly faultAt?: number; readonly restoredAt?: number; readonly drainedAt: number };
  readonly statements: { readonly reads: StatementCounts; readonly writes: StatementCounts };
  readonly reconciliation: Reconciliation;
}

/** Run one fault drill and reconcile. Throws a {@link DrillError} for an engine it cannot run on. */
export async function runFaultDrill(o: FaultDrillOptions): Promise<FaultDrillResult> {
  const { engine } = o;
  const cluster = engine.cluster;
  if (!cluster) throw new DrillError('fault drills stop and start servers: they need the embedded cluster, not --writer-url/--reader-url');
  if (cluster.promoted) throw new DrillError('the local cluster has failed over (one server left); start a new engine for fault drills');
  const workload = o.workload ?? 'seed';
  const runId = o.runId ?? drillRunId(o.fault);
  const log = o.log ?? (() => undefined);
  const storm = o.fault === 'redelivery-storm';
  const visibility = engine.queue.visibilityTimeoutMs;

  let plan;
  if (storm) {
    const sliceMs = o.sliceMs ?? Math.round(2.5 * visibility);
    if (sliceMs <= visibility) {
      throw new DrillError(`a redelivery storm needs slices longer than the visibility timeout (${visibility} ms); got ${sliceMs} ms`);
    }
    const slices = o.slices ?? 4;
    plan = planLoad({ runId, workload, rate: o.rate ?? 200, durationMs: o.durationMs ?? sliceMs, mode: 'slice', workers: slices, leadMs: 300 });
  } else {
    plan = planLoad({ runId, workload, rate: o.rate ?? 100, durationMs: o.durationMs ?? 5_000, mode: 'statements', count: o.count ?? 5 });
  }

  const before = { ...engine.queue.stats };
  const rowsBefore = await countRows(engine, workload);
  let faultAt: number | undefined;
  let restoredAt: number | undefined;
  let fault: Promise<void> = Promise.resolve();
  const sent = await sendLoad(engine, plan, {
    onLoadStart: (at) => {
      if (storm) return;
      fault = (async () => {
        await sleep(Math.max(0, at + (o.faultAtMs ?? 1_000) - Date.now()));
        faultAt = Date.now();
        await inject(engine, o.fault, o.downMs ?? 1_500, log);
        restoredAt = Date.now();
      })();
      fault.catch(() => undefined);
    },
  });
  await fault;
  await engine.idle(Math.max(0, sent.loadEndAt - Date.now()) + (o.drainTimeoutMs ?? 60_000));
  const drainedAt = Date.now();

  const stats = engine.queue.stats;
  const deadLetterSeqs = takeDeadLetters(engine, runId);
  const statements = countStatements(engine, runId, workload);
  const rowsAfter = await countRows(engine, workload);
  const depth = engine.queue.depth;
  const reconciliation = reconcile({
    sent: sent.transport.stats.accepted,
    succeeded: stats.deleted - before.deleted,
    deadLettered: stats.deadLettered - before.deadLettered,
    stillQueued: depth.visible + depth.inFlight,
    redelivered: stats.redelivered - before.redelivered,
    deadLetterSeqs,
    writes: { ok: statements.writes.ok, errorsByClass: statements.writes.errorsByClass },
    rows: { before: rowsBefore.rows, after: rowsAfter.rows },
    ...(rowsAfter.balances ? { balances: rowsAfter.balances } : {}),
  });
  return {
    runId,
    fault: o.fault,
    timings: { loadStartAt: sent.loadStartAt, loadEndAt: sent.loadEndAt, ...(faultAt !== undefined ? { faultAt } : {}), ...(restoredAt !== undefined ? { restoredAt } : {}), drainedAt },
    statements,
    reconciliation,
  };
}

async function inject(engine: LocalEngine, fault: FaultKind, downMs: number, log: (line: string) => void): Promise<void> {
  const cluster = engine.cluster!;
  switch (fault) {
    case 'reader-down':
      await cluster.stopReader('fast');
      log(`reader stopped; starting it again in ${downMs} ms`);
      await sleep(downMs);
      await cluster.startReader();
      return;
    case 'writer-down':
      await cluster.stopWriter('fast');
      log(`writer stopped; starting it again in ${downMs} ms`);
      await sleep(downMs);
      await cluster.startWriter();
      await cluster.waitForStreaming();
      return;
    case 'both-down':
      await Promise.all([cluster.stopReader('fast'), cluster.stopWriter('fast')]);
      log(`reader and writer stopped; starting them again in ${downMs} ms`);
      await sleep(downMs);
      await cluster.startWriter();
      await cluster.startReader();
      return;
    case 'redelivery-storm':
      return;
  }
}

/**
 * Read the run's messages out of the dead-letter queue (deleting them: the drill has looked at
 * them) and put everything else back. Returns their `seq`s.
 */
function takeDeadLetters(engine: LocalEngine, runId: string): number[] {
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

function countStatements(engine: LocalEngine, runId: string, workload: WorkloadName): { reads: StatementCounts; writes: StatementCounts } {
  const writeOps = new Set(projectCatalog().operationsOf(workload).filter((o) => o.target === 'writer').map((o) => o.op));
  const acc = { reads: { ok: 0, errorsByClass: {} as Record<string, number>, skipped: 0 }, writes: { ok: 0, errorsByClass: {} as Record<string, number>, skipped: 0 } };
  for (const inv of engine.sink.invocations) {
    for (const s of inv.series) {
      if (s.runId !== runId) continue;
      const a = writeOps.has(s.op) ? acc.writes : acc.reads;
      a.ok += s.latency.count;
      a.skipped += s.skipped;
      for (const [cls, n] of s.errors) a.errorsByClass[cls] = (a.errorsByClass[cls] ?? 0) + n;
    }
  }
  return acc;
}

/** Rows the workload's write adds: seed's transactions, tpcb's history (with its balances). */
async function countRows(engine: LocalEngine, workload: WorkloadName): Promise<{ rows: number; balances?: Awaited<ReturnType<typeof tpcbBalances>> }> {
  const client: pg.Client = await engine.connect('writer');
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
