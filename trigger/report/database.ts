/**
 * The database's own view of a run, beside the load it caused: what each server (local) or Aurora
 * instance (AWS) reported over the run, step by step, and the worker function's concurrency and
 * throttles (AWS). One shape for both sources, so the summary and the HTML report draw either.
 */
import { round } from '../round';

/** Every metric the database section can hold, with how it is labelled and summarised. */
export const DATABASE_METRICS = {
  /** Aurora Serverless v2 capacity (ServerlessDatabaseCapacity). */
  capacity: { label: 'capacity', unit: 'ACU' },
  /** CPU: AWS CPUUtilization; locally the server's processes, in % of one core. */
  cpu: { label: 'CPU', unit: '%' },
  /** Client connections (DatabaseConnections; pg_stat_activity client backends). */
  connections: { label: 'connections', unit: '' },
  /** Transactions committed per second (CommitThroughput; pg_stat_database.xact_commit). */
  commits: { label: 'commits', unit: '/s' },
  /** Average commit latency (CommitLatency; AWS only). */
  commitLatency: { label: 'commit latency', unit: 'ms' },
  /** How far a replica is behind (AuroraReplicaLag; the standby's replay_lag). */
  replicaLag: { label: 'replica lag', unit: 'ms' },
} as const;
export type DatabaseMetric = keyof typeof DATABASE_METRICS;
export const DATABASE_METRIC_NAMES = Object.keys(DATABASE_METRICS) as DatabaseMetric[];

/** Samples per step; null where the source had no value (a server down, a metric not published). */
export type Samples = readonly (number | null)[];

/** One server or instance. */
export interface DatabaseServer {
  /** The server (`writer:PORT`, `reader:PORT` locally) or the DB instance identifier. */
  readonly name: string;
  /** Its role at the start of the run (local; AWS with a failover drill) or when the run was read (AWS). */
  readonly role: 'writer' | 'reader';
  /** Only the metrics the source has for it. */
  readonly metrics: Readonly<Partial<Record<DatabaseMetric, Samples>>>;
}

/** The database section of a run's record. */
export interface DatabaseSamples {
  /** `servers`: sampled from the servers themselves; `cloudwatch`: AWS/RDS and AWS/Lambda. */
  readonly source: 'servers' | 'cloudwatch';
  /** Epoch ms of the first step's start. */
  readonly startMs: number;
  /** Seconds per step: 1 locally; 60 or more from CloudWatch (RDS and Lambda publish per minute). */
  readonly stepSeconds: number;
  /** Steps: the length of every array. */
  readonly steps: number;
  readonly servers: readonly DatabaseServer[];
  /** AWS: the worker function's concurrent executions (maximum) and throttles (sum) per step. */
  readonly worker?: { readonly concurrency: Samples; readonly throttles: Samples };
}

/** Mean and peak of one metric over the run. */
export interface MeanPeak {
  readonly mean: number;
  readonly peak: number;
}

/** The database section of a summary: mean and peak of each metric of each server. */
export interface DatabaseSummary {
  readonly source: DatabaseSamples['source'];
  readonly stepSeconds: number;
  readonly servers: ReadonlyArray<{ readonly name: string; readonly role: 'writer' | 'reader'; readonly metrics: Readonly<Partial<Record<DatabaseMetric, MeanPeak>>> }>;
  readonly worker?: { readonly concurrency: MeanPeak | null; readonly throttles: { readonly total: number; readonly peak: number } | null };
  /** After a failover drill: the writer before it and after it (instance identifiers; local: ports). */
  readonly writer?: { readonly before: string; readonly after: string };
}

function values(xs: Samples): number[] {
  return xs.filter((x): x is number => x !== null && Number.isFinite(x));
}

/** Mean and peak of the samples that have a value; null when none has. */
function meanPeak(xs: Samples): MeanPeak | null {
  const v = values(xs);
  if (!v.length) return null;
  return { mean: round(v.reduce((a, b) => a + b, 0) / v.length, 3), peak: round(Math.max(...v), 3) };
}

/**
 * Mean and peak of every metric of every server: what the text summary prints; `writer` when a
 * failover drill moved the writer during the run (the servers' roles are those before it).
 */
export function summarizeDatabase(d: DatabaseSamples, writer?: DatabaseSummary['writer']): DatabaseSummary {
  const servers = d.servers.map((s) => {
    const metrics: Partial<Record<DatabaseMetric, MeanPeak>> = {};
    for (const m of DATABASE_METRIC_NAMES) {
      const mp = s.metrics[m] ? meanPeak(s.metrics[m]) : null;
      if (mp) metrics[m] = mp;
    }
    return { name: s.name, role: s.role, metrics };
  });
  const throttles = d.worker ? values(d.worker.throttles) : [];
  return {
    source: d.source,
    stepSeconds: d.stepSeconds,
    servers,
    ...(d.worker ? {
      worker: {
        concurrency: meanPeak(d.worker.concurrency),
        throttles: throttles.length ? { total: throttles.reduce((a, b) => a + b, 0), peak: Math.max(...throttles) } : null,
      },
    } : {}),
    ...(writer ? { writer } : {}),
  };
}
