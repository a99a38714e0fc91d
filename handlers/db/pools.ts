import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { Endpoint, WorkerConfig } from '../config';
import type { ServerRole } from '../metrics/types';
import type { CredentialProvider } from './credentials';
import { endpointKey } from './allowlist';
import { isAuthError, isConnectionError } from './errors';

/** Pauses between connection attempts while a paused instance resumes: 250 ms, doubling to 2 s. */
const RESUME_RETRY_MIN_MS = 250;
const RESUME_RETRY_MAX_MS = 2_000;

/**
 * No connection within the resume wait. Counted as a connection error (class 08, code ETIMEDOUT);
 * the message says how long was waited and why, and ends with the last attempt's error.
 */
export class ResumeWaitError extends Error {
  override readonly name = 'ResumeWaitError';
  readonly code = 'ETIMEDOUT';
  constructor(endpoint: string, waitMs: number, cause: unknown) {
    super(
      `could not connect to ${endpoint} within ${Math.round(waitMs / 1000)} s, which is longer than a paused Aurora Serverless v2 instance takes to resume: ` +
        (cause instanceof Error ? cause.message : String(cause)),
      { cause },
    );
  }
}

/** A pooled connection and the role its server reported when the connection was opened. */
export interface Lease {
  readonly client: pg.PoolClient;
  readonly role: ServerRole;
  /** Return the connection; pass the error that ended its use so a broken one is discarded. */
  release(err?: unknown): void;
}

interface Logger {
  warn(obj: object, msg: string): void;
}

/**
 * One pg.Pool per endpoint, created on first use and kept for the life of the process (module scope
 * in Lambda, so warm invocations reuse their connections). A connection that fails with a
 * connection-class error is destroyed instead of returned, so a restarted server costs the
 * statements in flight, not the pool.
 */
export class Pools {
  private readonly pools = new Map<string, pg.Pool>();
  private readonly roles = new WeakMap<pg.ClientBase, Promise<ServerRole>>();
  private readonly guarded = new WeakSet<pg.ClientBase>();
  private readonly ssl: pg.PoolConfig['ssl'];

  constructor(
    private readonly config: WorkerConfig,
    private readonly credentials: CredentialProvider,
    private readonly log: Logger,
  ) {
    this.ssl = config.tls === 'disable'
      ? false
      : { rejectUnauthorized: true, ...(config.caFile ? { ca: readFileSync(config.caFile, 'utf8') } : {}) };
  }

  /** Borrow a connection to `endpoint`; the caller must call release() exactly once. */
  async acquire(endpoint: Endpoint): Promise<Lease> {
    const pool = await this.poolFor(endpoint);
    let client: pg.PoolClient;
    try {
      client = await this.connect(pool, endpoint);
    } catch (err) {
      if (!isAuthError(err)) throw err;
      // The secret may have been rotated since we cached it: read it again, once.
      this.credentials.invalidate();
      client = await this.connect(pool, endpoint);
    }
    if (!this.guarded.has(client)) {
      // A checked-out client whose connection breaks emits 'error' besides failing its query;
      // without a listener that event would crash the process. The failed query is what we count.
      this.guarded.add(client);
      client.on('error', () => undefined);
    }
    let role: ServerRole;
    try {
      role = await this.roleOf(client);
    } catch (err) {
      client.release(true);
      throw err;
    }
    let released = false;
    return {
      client,
      role,
      release: (err?: unknown) => {
        if (released) return;
        released = true;
        client.release(err !== undefined && isConnectionError(err) ? true : undefined);
      },
    };
  }

  /**
   * Open up to `n` connections to `endpoint` ahead of need (a slice that starts later), so its
   * first statements do not pay for connecting, TLS and authentication. Failures are ignored: the
   * statements will meet them, and count them, themselves.
   */
  async warm(endpoint: Endpoint, n: number): Promise<void> {
    const leases = await Promise.all(Array.from({ length: Math.min(n, this.config.poolMax) }, () => this.acquire(endpoint).catch(() => undefined)));
    for (const lease of leases) lease?.release();
  }

  /** Close every pool (tests and local runs; Lambda just freezes the process). */
  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  }

  /**
   * A connection from `pool`. With `resumeWaitMs` set (an Aurora Serverless v2 cluster that may
   * pause at 0 ACU), a pool that holds no connection keeps trying for that long: the connection
   * request is what resumes a paused instance, and a resume takes longer than one connect timeout.
   * A pool that already holds connections fails at once, as a full pool or a failover should.
   */
  private async connect(pool: pg.Pool, endpoint: Endpoint): Promise<pg.PoolClient> {
    const waitMs = this.config.resumeWaitMs ?? 0;
    if (waitMs <= 0 || pool.totalCount > 0) return pool.connect();
    const deadline = Date.now() + waitMs;
    for (let pause = RESUME_RETRY_MIN_MS; ; pause = Math.min(pause * 2, RESUME_RETRY_MAX_MS)) {
      try {
        return await pool.connect();
      } catch (err) {
        if (!isConnectionError(err)) throw err;
        const left = deadline - Date.now();
        if (left <= 0) throw new ResumeWaitError(endpointKey(endpoint), waitMs, err);
        await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)));
      }
    }
  }

  private roleOf(client: pg.ClientBase): Promise<ServerRole> {
    let role = this.roles.get(client);
    if (!role) {
      role = client.query<{ standby: boolean }>('SELECT pg_is_in_recovery() AS standby')
        .then((r) => (r.rows[0]?.standby ? 'standby' : 'primary'));
      this.roles.set(client, role);
    }
    return role;
  }

  private async poolFor(endpoint: Endpoint): Promise<pg.Pool> {
    const key = endpointKey(endpoint);
    const existing = this.pools.get(key);
    if (existing) return existing;
    const { user } = await this.credentials.get();
    // Re-check: another message may have created it while we awaited the credentials.
    const raced = this.pools.get(key);
    if (raced) return raced;
    const credentials = this.credentials;
    const pool = new pg.Pool({
      host: endpoint.host,
      port: endpoint.port,
      database: this.config.database,
      user,
      // A function, so a rotated secret is picked up by the next new connection.
      password: async () => (await credentials.get()).password,
      ssl: this.ssl,
      max: this.config.poolMax,
      connectionTimeoutMillis: this.config.connectTimeoutMs,
      idleTimeoutMillis: 60_000,
      statement_timeout: this.config.statementTimeoutMs,
      application_name: 'aurora-load-test',
      keepAlive: true,
    });
    // An idle connection whose server went away emits 'error'; the pool drops it. Without a
    // listener the process would crash.
    pool.on('error', (err) => this.log.warn({ endpoint: key, err: err.message }, 'idle connection lost'));
    this.pools.set(key, pool);
    return pool;
  }
}
