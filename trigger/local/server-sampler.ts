/**
 * The local answer to "what did the database see?": each server sampled once a second, from the
 * servers themselves. Per server: client connections (pg_stat_activity), transactions committed
 * per second (pg_stat_database.xact_commit; a standby counts its read-only ones), and the CPU of
 * its processes (/proc, embedded servers only); for the reader, the standby's replay lag as the
 * writer reports it (pg_stat_replication.replay_lag), 0 when the standby has replayed everything it
 * was sent. PostgreSQL clears replay_lag to NULL once two replies in a row say so ("If the standby
 * server has entirely caught up with the sending server and there is no more WAL activity, the most
 * recently measured lag times will continue to be displayed for a short time and then show NULL":
 * PostgreSQL 16 documentation, pg_stat_replication, https://www.postgresql.org/docs/16/monitoring-stats.html),
 * which under a light write load is most of the time: read as "no sample", a short run could have
 * no lag at all to show. NULL while WAL is still on its way stays no sample.
 *
 * Each sample costs one small query per server on a connection of its own (excluded from the
 * count), so the sampler adds one connection and one transaction a second to each server.
 * A server that is down (a drill) gives no sample for those seconds; the sampler reconnects.
 */
import type pg from 'pg';
import type { Clock } from '../../handlers/clock';
import type { DatabaseMetric, DatabaseSamples, DatabaseServer, Samples } from '../report/database';
import { clockTicksPerSecond, readProcStats, serverTicks } from './proc-cpu';

/** A server to sample. */
export interface SampledServer {
  /** How the report names it (`writer:PORT`). */
  readonly name: string;
  /** Its role when sampling started; a failover does not rename it. */
  readonly role: 'writer' | 'reader';
  /** A new connection to this server (not through a failover endpoint). */
  connect(): Promise<pg.Client>;
  /** Its postmaster's pid while it runs, when it is one of ours (CPU is read from /proc). */
  pid?(): number | undefined;
}

interface Reading {
  /** Epoch ms the reading was taken. */
  readonly at: number;
  readonly connections: number | null;
  readonly commits: number | null;
  readonly replicaLag: number | null;
  readonly cpuTicks: number | null;
}

const QUERY = `SELECT
  (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid())::float8 AS connections,
  (SELECT sum(xact_commit) FROM pg_stat_database)::float8 AS commits,
  (SELECT max(COALESCE(EXTRACT(EPOCH FROM replay_lag) * 1000, CASE WHEN replay_lsn = sent_lsn THEN 0 END)) FROM pg_stat_replication)::float8 AS lag`;

/** Samples the servers every `intervalMs` from {@link start} to {@link stop}. */
export class ServerSampler {
  readonly #readings: Reading[][];
  readonly #clients: Array<pg.Client | undefined>;
  #stopped = false;
  #loop: Promise<void> = Promise.resolve();

  constructor(private readonly servers: readonly SampledServer[], private readonly clock: Clock, private readonly intervalMs = 1_000) {
    this.#readings = servers.map(() => []);
    this.#clients = servers.map(() => undefined);
  }

  start(): this {
    this.#loop = this.#run();
    return this;
  }

  /** Stop sampling and close the connections. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
    await Promise.all(this.#clients.map((c) => c?.end().catch(() => undefined)));
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      await this.#sample();
      // Just after each whole interval; a slow round skips ahead rather than bunching samples.
      const next = (Math.floor(this.clock.now() / this.intervalMs) + 1) * this.intervalMs;
      await this.clock.sleep(next - this.clock.now());
    }
  }

  async #sample(): Promise<void> {
    const needCpu = this.servers.some((s) => s.pid?.() !== undefined);
    const [stats, rows] = await Promise.all([
      needCpu ? readProcStats() : Promise.resolve([]),
      Promise.all(this.servers.map((_, i) => this.#query(i))),
    ]);
    const at = this.clock.now();
    const pids = this.servers.map((s) => s.pid?.());
    const ticks = serverTicks(stats, pids.filter((p): p is number => p !== undefined));
    this.servers.forEach((_, i) => {
      const row = rows[i];
      const pid = pids[i];
      this.#readings[i]!.push({
        at,
        connections: row?.connections ?? null,
        commits: row?.commits ?? null,
        replicaLag: row?.lag ?? null,
        cpuTicks: pid !== undefined && stats.length ? ticks.get(pid) ?? null : null,
      });
    });
  }

  async #query(i: number): Promise<{ connections: number | null; commits: number | null; lag: number | null } | undefined> {
    try {
      let client = this.#clients[i];
      if (!client) {
        client = await this.servers[i]!.connect();
        client.on('error', () => undefined);
        this.#clients[i] = client;
      }
      return (await client.query<{ connections: number | null; commits: number | null; lag: number | null }>(QUERY)).rows[0];
    } catch {
      // Down or restarting: no sample this time; connect again next time.
      const c = this.#clients[i];
      this.#clients[i] = undefined;
      await c?.end().catch(() => undefined);
      return undefined;
    }
  }

  /**
   * The samples over [fromMs, toMs) in one-second steps from the whole second at or before
   * `fromMs`: each step holds the last reading taken in it, rates (commits, CPU) over the time
   * since the reading before. The reader's replica lag is the writer's report of it.
   */
  samples(fromMs: number, toMs: number): DatabaseSamples {
    const stepMs = 1_000;
    const startMs = Math.floor(fromMs / stepMs) * stepMs;
    const steps = Math.max(1, Math.ceil((toMs - startMs) / stepMs));
    const hz = clockTicksPerSecond();
    const writerIndex = this.servers.findIndex((s) => s.role === 'writer');
    const servers: DatabaseServer[] = this.servers.map((s, i) => {
      const connections: Array<number | null> = new Array<number | null>(steps).fill(null);
      const commits = [...connections];
      const cpu = [...connections];
      const readings = this.#readings[i]!;
      readings.forEach((r, j) => {
        const step = Math.floor((r.at - startMs) / stepMs);
        if (step < 0 || step >= steps) return;
        connections[step] = r.connections;
        const prev = readings[j - 1];
        const dt = prev ? (r.at - prev.at) / 1000 : 0;
        if (prev && dt > 0) {
          if (r.commits !== null && prev.commits !== null && r.commits >= prev.commits) commits[step] = round1((r.commits - prev.commits) / dt);
          if (r.cpuTicks !== null && prev.cpuTicks !== null && r.cpuTicks >= prev.cpuTicks) cpu[step] = round1((100 * (r.cpuTicks - prev.cpuTicks)) / hz / dt);
        }
      });
      const metrics: Partial<Record<DatabaseMetric, Samples>> = { connections, commits };
      if (s.pid) metrics.cpu = cpu;
      if (s.role === 'reader' && writerIndex >= 0) {
        const lag: Array<number | null> = new Array<number | null>(steps).fill(null);
        for (const r of this.#readings[writerIndex]!) {
          const step = Math.floor((r.at - startMs) / stepMs);
          if (step >= 0 && step < steps && r.replicaLag !== null) lag[step] = Math.round(r.replicaLag * 1000) / 1000;
        }
        metrics.replicaLag = lag;
      }
      return { name: s.name, role: s.role, metrics };
    });
    return { source: 'servers', startMs, stepSeconds: 1, steps, servers };
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
