/**
 * A run's record made without a database: the worker's own collector fed a seeded stream of
 * statements (two operations, a failover with connection errors in the middle), staleness
 * markers and per-second server samples, then measured and summarised by the trigger's own code.
 * For what depends only on a record's shape and size: the HTML report's browser test, and the
 * size of a long run's report (bench/report-figures.ts).
 */
import { Collector, recordError, recordMarkerLost, recordStaleness, recordSuccess } from '../../handlers/metrics/collector';
import type { InvocationMetrics } from '../../handlers/metrics/types';
import type { DatabaseSamples } from '../../trigger/report/database';
import { RUN_RECORD_VERSION, type RunFacts, type RunRecord } from '../../trigger/report/run-record';
import { summarize } from '../../trigger/report/summary';
import { measureInvocations } from '../../trigger/report/timeline';

export interface SyntheticRunOptions {
  readonly runId?: string;
  /** Seconds of load. @default 20 */
  readonly seconds?: number;
  /** Statements per second. @default 200 */
  readonly rate?: number;
  /** Epoch ms the load starts. @default 1_800_000_000_500 */
  readonly loadStartAt?: number;
  /** Seconds into the load a failover begins; none when absent. */
  readonly failoverAt?: number;
  /** Multiplies every latency (a slower run B). @default 1 */
  readonly slower?: number;
}

/** A deterministic pseudo-random stream (mulberry32), so a record is the same every time. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function syntheticRun(o: SyntheticRunOptions = {}): RunRecord {
  const runId = o.runId ?? 'synthetic';
  const seconds = o.seconds ?? 20;
  const rate = o.rate ?? 200;
  const start = o.loadStartAt ?? 1_800_000_000_500;
  const slower = o.slower ?? 1;
  const rnd = random(42);
  const c = new Collector();
  const reads = c.op(runId, 'seed', 'select', 'reader');
  const writes = c.op(runId, 'seed', 'insert', 'writer');
  const markers = c.staleness(runId);
  const downFrom = o.failoverAt;
  const down = (t: number): boolean => downFrom !== undefined && t >= downFrom && t < downFrom + 0.6;
  for (let i = 0; i < seconds * rate; i++) {
    const t = i / rate;
    const at = start + t * 1000;
    const series = i % 5 === 4 ? writes : reads;
    const lag = 0.3 + rnd() * 0.8;
    if (down(t)) {
      recordError(series, '08', at + 1, lag);
      continue;
    }
    const latency = (series === reads ? 1.1 : 2.2) * slower * (0.7 + rnd() * 0.9 + (rnd() < 0.01 ? 15 * rnd() : 0));
    const role = series === reads && !(downFrom !== undefined && t >= downFrom) ? 'standby' : 'primary';
    recordSuccess(series, latency, role, at + latency, lag);
  }
  for (let k = 0; k < seconds * 5; k++) {
    const t = k / 5;
    const at = start + t * 1000;
    if (down(t)) recordMarkerLost(markers, 'failed', at);
    else recordStaleness(markers, 0.4 + rnd() * 2.5, at + 3);
  }
  const facts0 = c.run(runId);
  facts0.dwell.record(12);
  facts0.ok += 1;
  const invocations: InvocationMetrics[] = [c.finish(start + seconds * 1000 + 50)];
  const measured = measureInvocations(invocations, runId, start, start + seconds * 1000);
  const t = measured.timeline;
  const wave = (base: number, amp: number) => Array.from({ length: t.steps }, (_, i) => Math.round((base + amp * Math.sin(i / 7) + amp * rnd()) * 10) / 10);
  const database: DatabaseSamples = {
    source: 'servers', startMs: t.startMs, stepSeconds: 1, steps: t.steps,
    servers: [
      { name: 'writer:5432', role: 'writer', metrics: { connections: wave(3, 0.5), commits: wave(45, 5), cpu: wave(4, 2) } },
      { name: 'reader:5433', role: 'reader', metrics: { connections: wave(5, 0.5), commits: wave(170, 10), cpu: wave(6, 2), replicaLag: wave(0.6, 0.3) } },
    ],
  };
  const facts: RunFacts = {
    runId,
    source: 'local',
    settings: { workload: 'seed', mode: 'slice', mix: [{ op: 'select', weight: 80 }, { op: 'insert', weight: 20 }], rate, durationMs: seconds * 1000, rampMs: 0, thresholds: ['p99<50ms'] },
    plan: { description: 'slice mode (synthetic)', messages: 2, statements: seconds * rate, averageRate: rate, perSecond: Array.from({ length: seconds }, () => rate) },
    loadStartAt: start,
    durationMs: seconds * 1000,
    interrupted: false,
    messagesSent: 1,
    deadLetterQueueGrowth: 0,
    replicaLag: { bytes: 0, ms: 0.4 },
    notes: [],
    incomplete: null,
    ...(downFrom !== undefined ? { drill: { kind: 'failover' as const, event: { startedAt: start + downFrom * 1000, completedAt: start + downFrom * 1000 + 250, from: '5432', to: '5433' } } } : {}),
  };
  const all = { ...measured, database };
  return { version: RUN_RECORD_VERSION, runId, facts, summary: summarize(facts, all), timeline: t, database };
}
