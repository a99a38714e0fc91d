import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { systemClock, type Clock } from '../../handlers/clock';
import type { WorkerConfig } from '../../handlers/config';
import { SERVER_ROLES, type ServerRole } from '../../handlers/contract';
import type { OpSeries } from '../../handlers/metrics/types';
import { createLogger, type Logger } from '../../handlers/log';
import { MemorySink } from '../../handlers/metrics/memory-sink';
import { projectCatalog } from '../../handlers/workloads/project';
import type { LocalCluster } from '../../trigger/local/cluster';
import { localWorkerConfig } from '../../trigger/local/worker-config';

/** Log lines captured from the worker's logger (handlers/log.ts). */
export class CapturedLog {
  readonly lines: string[] = [];
  readonly logger: Logger = createLogger({ write: (s: string) => { this.lines.push(s); } });
  get text(): string { return this.lines.join(''); }
  entries(): Array<Record<string, unknown>> { return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>); }
}

export function configFor(cluster: LocalCluster, overrides: Partial<WorkerConfig> = {}): WorkerConfig {
  return { ...localWorkerConfig({ writer: cluster.writer, reader: cluster.reader, user: cluster.user, password: cluster.password, database: cluster.database }), metricNamespace: 'Test', deadlineMarginMs: 1000, ...overrides };
}

/**
 * Resolves once the reader has replayed everything the writer wrote (its replication lag is 0
 * bytes): a standby applies the writer's WAL a little later, and later still on a busy machine, so
 * a test that reads on the reader what it just created on the writer waits for this first.
 */
export async function readerCaughtUp(cluster: LocalCluster, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { bytes } = await cluster.replicationLag();
    if (bytes === 0) return;
    if (Date.now() > deadline) throw new Error(`the reader is still ${bytes} bytes of WAL behind the writer after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

let seq = 0;

/** The content hash of a script of this checkout (undefined when there is no such script). */
export function hashOf(workload: string, op: string): string | undefined {
  return projectCatalog().get(workload)?.scripts.get(op)?.hash;
}

/**
 * A message body with the fields every message carries; scripts named without a hash get the
 * hash of this checkout's script, as the trigger would send it.
 */
export function body(fields: Record<string, unknown>, runId = 'test-run'): string {
  const workload = (fields.workload as string | undefined) ?? 'seed';
  const withHashes: Record<string, unknown> = { ...fields };
  if (typeof fields.op === 'string' && !('hash' in fields)) {
    const hash = hashOf(workload, fields.op);
    if (hash) withHashes.hash = hash;
  }
  if (Array.isArray(fields.mix)) {
    withHashes.mix = (fields.mix as Array<Record<string, unknown>>).map((m) => {
      const hash = typeof m.op === 'string' && !('hash' in m) ? hashOf(workload, m.op) : undefined;
      return hash ? { ...m, hash } : m;
    });
  }
  // Stamped with the clock the worker reads (systemClock, whole ms and never after now), as a sender whose clock agrees with it: Date.now() can step away
  // from it on a VM (a CI run saw 14 s), which the worker would rightly report as the sender's clock being ahead.
  return JSON.stringify({ v: 1, runId, seq: seq++, sentAt: Math.floor(systemClock.now()), workload: 'seed', ...withHashes });
}

export function sqsEvent(bodies: string[]): SQSEvent {
  const now = String(Date.now());
  return {
    Records: bodies.map((b): SQSRecord => ({
      messageId: randomUUID(),
      receiptHandle: randomUUID(),
      body: b,
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: now, SenderId: 'test', ApproximateFirstReceiveTimestamp: now },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:test',
      awsRegion: 'us-east-1',
    })),
  };
}

export const context = { awsRequestId: 'test-request', getRemainingTimeInMillis: () => 60_000 };

export { MemorySink };

/** A series' statements over all its seconds: what a test asserts on. */
export function totalsOf(s: OpSeries): { ok: number; lag: number; skipped: number; errors: Record<string, number>; answeredBy: Partial<Record<ServerRole, number>> } {
  const t = { ok: 0, lag: 0, skipped: 0, errors: {} as Record<string, number>, answeredBy: {} as Partial<Record<ServerRole, number>> };
  for (const b of s.seconds.values()) {
    t.ok += b.latency.count;
    t.lag += b.lag.count;
    t.skipped += b.skipped;
    for (const [cls, n] of b.errors) t.errors[cls] = (t.errors[cls] ?? 0) + n;
    for (const r of SERVER_ROLES) if (b.answeredBy[r]) t.answeredBy[r] = (t.answeredBy[r] ?? 0) + b.answeredBy[r];
  }
  return t;
}

/**
 * The real clock, counting its holds (Clock.hold): `held` is how many are taken and not yet
 * released, `holds` how many were ever taken, `waitsWhileHeld` how many sleepUntil calls began
 * while one was.
 */
export function holdCountingClock(): { clock: Clock; held: number; holds: number; waitsWhileHeld: number } {
  const counts = {
    held: 0,
    holds: 0,
    waitsWhileHeld: 0,
    clock: {
      ...systemClock,
      hold: () => {
        counts.held++;
        counts.holds++;
        let done = false;
        return () => {
          if (done) return;
          done = true;
          counts.held--;
        };
      },
      sleepUntil: (t: number) => {
        if (counts.held > 0) counts.waitsWhileHeld++;
        return systemClock.sleepUntil(t);
      },
    } as Clock,
  };
  return counts;
}

/**
 * Run `body` counting the queries any node-postgres client sends while `free()` is true (a spy
 * on pg.Client.prototype.query that calls through; restored after).
 */
export async function queriesSentWhile(free: () => boolean, body: () => Promise<void>): Promise<number> {
  let n = 0;
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    if (free()) n++;
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  try {
    await body();
  } finally {
    pg.Client.prototype.query = query;
  }
  return n;
}
