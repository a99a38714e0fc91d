import pg from 'pg';
import type { Endpoint, WorkerConfig } from '../config';
import type { ServerRole } from '../metrics/types';
import type { CredentialProvider } from './credentials';
import { endpointKey } from './allowlist';
import { ConnectionWaitError, isAuthError, isConnectionError, mustDiscard, PoolBusyError, StandbyConnectionError } from './errors';
import { KEEPALIVE_INITIAL_DELAY_MS, queryTimeoutMs } from '../deadline';
import { DbTrust, isUntrustedChain } from './trust';
import { systemClock, type Clock } from '../clock';

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
  /** Return the connection; pass the error that ended its use so a broken one (or one on a standby that refused a write) is discarded. */
  release(err?: unknown): void;
}

export interface AcquireOptions {
  /**
   * The most to wait for a connection, ms; past it the call fails with a
   * {@link ConnectionWaitError} (a slice statement is then skipped). @default the pool's connect timeout
   */
  readonly waitMs?: number;
  /** Only a primary will do (the writer endpoint): a standby's connection is discarded with a {@link StandbyConnectionError}. */
  readonly primary?: boolean;
}

interface Logger {
  warn(obj: object, msg: string): void;
}

/**
 * How long a released connection stays ready for the next lease before it goes back to pg-pool
 * (whose idle timeout then applies), ms.
 */
export const READY_MS = 1_000;

/** A released connection kept checked out of pg-pool for the next lease: its role, and since when (performance.now()). */
interface Ready {
  readonly client: pg.PoolClient;
  readonly role: ServerRole;
  readonly since: number;
}

/** An endpoint's pool, the user it logs in with, and its connections ready for the next lease. */
interface PoolEntry {
  readonly key: string;
  readonly pool: pg.Pool;
  readonly user: string;
  /** Most recently released last: a lease takes the hottest connection. */
  readonly ready: Ready[];
  sweep: NodeJS.Timeout | undefined;
}

/**
 * One pg.Pool per endpoint, created on first use and kept for the life of the process (module scope
 * in Lambda, so warm invocations reuse their connections). A connection that fails with a
 * connection-class error is destroyed instead of returned, so a restarted server costs the
 * statements in flight, not the pool.
 */
export class Pools {
  /** Each endpoint's pool, the user name it logs in with, and its ready connections. */
  private readonly pools = new Map<string, PoolEntry>();
  private readonly roles = new WeakMap<pg.ClientBase, Promise<ServerRole>>();
  private readonly guarded = new WeakSet<pg.ClientBase>();
  /** Clients whose connection failed or ended: never handed out again. */
  private readonly dead = new WeakSet<pg.ClientBase>();
  /** Ready connections ({@link keepReady}): the entry whose ready list holds each. */
  private readonly readyIn = new WeakMap<pg.ClientBase, PoolEntry>();
  /** Each endpoint object's key, built once. */
  private readonly keys = new WeakMap<Endpoint, string>();
  private readonly ssl: pg.PoolConfig['ssl'];
  private readonly trust: DbTrust;

  constructor(
    private readonly config: WorkerConfig,
    private readonly credentials: CredentialProvider,
    private readonly log: Logger,
    /** Times the resume wait's pauses between connection attempts. */
    private readonly clock: Clock = systemClock,
  ) {
    // verify-full: the chain against the trusted CAs (loaded on the first TLS connection), and the host name.
    this.trust = new DbTrust(config.caFile, config.region);
    this.ssl = config.tls === 'disable' ? false : this.trust.options();
  }

  /**
   * Borrow a connection to `endpoint`; the caller must call release() exactly once. Fails with a
   * {@link PoolBusyError} when every pooled connection stayed busy, a {@link ConnectionWaitError}
   * after `waitMs`, a {@link StandbyConnectionError} when a primary was asked for; any other error
   * is the server's or the network's.
   */
  async acquire(endpoint: Endpoint, opts: AcquireOptions = {}): Promise<Lease> {
    const ready = this.takeReady(endpoint, opts.primary === true);
    if (ready) return ready;
    const opening = this.open(endpoint, opts.primary === true);
    if (opts.waitMs === undefined) return opening;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConnectionWaitError(`no connection to ${endpointKey(endpoint)} within ${Math.round(opts.waitMs!)} ms`)), Math.max(0, opts.waitMs!));
    });
    try {
      return await Promise.race([opening, late]);
    } catch (err) {
      // Too late for this caller: a connection that still arrives goes back to the pool for the next one.
      if (err instanceof ConnectionWaitError) opening.then((lease) => lease.release(), () => undefined);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A connection released within the last {@link READY_MS}, handed out at once: no pg-pool
   * checkout (a nextTick, a connection-timeout timer, an idle timer), no wait timer, no awaits.
   * That checkout cost 0.1-0.2 ms of every slice statement's lag on a CPU that had just woken
   * from a sleep (handlers/README.md).
   */
  private takeReady(endpoint: Endpoint, primary: boolean): Lease | undefined {
    let key = this.keys.get(endpoint);
    if (key === undefined) this.keys.set(endpoint, (key = endpointKey(endpoint)));
    const entry = this.pools.get(key);
    // The secret's user, unless it has to be read (again): a rotation to the other user replaces the pool.
    if (!entry || entry.user !== this.credentials.peek?.()?.user) return undefined;
    // Callers already wait in pg-pool (they came while nothing was ready): they go first.
    if (entry.pool.waitingCount > 0) {
      this.handBack(entry);
      return undefined;
    }
    let skipped = false;
    for (let i = entry.ready.length - 1; i >= 0; i--) {
      const r = entry.ready[i]!;
      // A standby's connection (an endpoint used both ways) stays for a caller that reads; the
      // slow path says why a caller that writes cannot have one.
      if (primary && r.role === 'standby' && !this.dead.has(r.client)) {
        skipped = true;
        continue;
      }
      entry.ready.splice(i, 1);
      this.readyIn.delete(r.client);
      // Its connection went while it waited.
      if (this.dead.has(r.client)) {
        r.client.release(true);
        continue;
      }
      return this.leaseOf(entry, r.client, r.role);
    }
    // A full pool of standby connections kept ready: pg-pool can give this caller none of them
    // (and say why) only once it has them back.
    if (skipped && entry.pool.totalCount >= this.config.poolMax) this.handBack(entry);
    return undefined;
  }

  /** `client` as a lease; released, it is kept ready for the next one (or discarded after `err`). */
  private leaseOf(entry: PoolEntry, client: pg.PoolClient, role: ServerRole): Lease {
    let released = false;
    return {
      client,
      role,
      release: (err?: unknown) => {
        if (released) return;
        released = true;
        if (err !== undefined && mustDiscard(err)) client.release(true);
        else this.keepReady(entry, client, role);
      },
    };
  }

  /**
   * Keep a released connection ready for the next lease, unless its pool was closed or replaced
   * (it goes back, and pg-pool closes it), its connection went, a caller waits in pg-pool for a
   * connection of this endpoint (it goes to that caller), or the credentials cannot be peeked at
   * (being read again, or a provider without peek(): every lease goes through pg-pool).
   */
  private keepReady(entry: PoolEntry, client: pg.PoolClient, role: ServerRole): void {
    if (this.dead.has(client)) return client.release(true);
    // Kept only where takeReady() could hand it out: otherwise pg-pool's next checkout needs it.
    if (this.pools.get(entry.key) !== entry || entry.pool.waitingCount > 0 || entry.user !== this.credentials.peek?.()?.user) return client.release();
    entry.ready.push({ client, role, since: performance.now() });
    this.readyIn.set(client, entry);
    entry.sweep ??= setTimeout(() => this.sweep(entry), READY_MS).unref();
  }

  /** Hand the connections unused for {@link READY_MS} back to pg-pool; its idle timeout closes them in time. */
  private sweep(entry: PoolEntry): void {
    entry.sweep = undefined;
    const cutoff = performance.now() - READY_MS;
    let stale = 0;
    while (stale < entry.ready.length && entry.ready[stale]!.since <= cutoff) stale++;
    this.toPgPool(entry.ready.splice(0, stale));
    // Again when the oldest left is due (a timer may fire up to a millisecond early by this clock).
    if (entry.ready.length > 0) entry.sweep = setTimeout(() => this.sweep(entry), Math.max(1, entry.ready[0]!.since + READY_MS - performance.now() + 1)).unref();
  }

  /** Give every ready connection of `entry` back to pg-pool (before its pool is ended or replaced). */
  private handBack(entry: PoolEntry): void {
    clearTimeout(entry.sweep);
    entry.sweep = undefined;
    this.toPgPool(entry.ready.splice(0));
  }

  /** Release connections taken off a ready list to pg-pool, as idle ones. */
  private toPgPool(ready: readonly Ready[]): void {
    for (const r of ready) {
      this.readyIn.delete(r.client);
      r.client.release();
    }
  }

  /**
   * A ready connection's server or network ended it: out of the ready list and closed, logged as
   * pg-pool logs its own idle connections that break (the pool's 'error' listener in poolFor).
   */
  private lostWhileReady(client: pg.PoolClient, err?: Error): void {
    const entry = this.readyIn.get(client);
    if (!entry) return;
    this.readyIn.delete(client);
    const i = entry.ready.findIndex((r) => r.client === client);
    if (i >= 0) entry.ready.splice(i, 1);
    client.release(true);
    this.log.warn({ endpoint: entry.key, err: err?.message ?? 'connection ended' }, 'idle connection lost');
  }

  private async open(endpoint: Endpoint, primary: boolean): Promise<Lease> {
    let entry = await this.poolFor(endpoint);
    // A connection released while this call awaited the credentials was kept ready, out of
    // pg-pool's sight (no caller waited in pg-pool yet): take it, rather than have pg-pool open
    // another or queue this caller behind it. No await from here to pool.connect().
    const ready = this.takeReady(endpoint, primary);
    if (ready) return ready;
    let pool = entry.pool;
    let client: pg.PoolClient;
    try {
      client = await this.connect(pool, endpoint);
    } catch (err) {
      if (!isAuthError(err)) throw err;
      // The secret may have been rotated since we cached it, user name included: read it again, once.
      this.credentials.invalidate();
      entry = await this.poolFor(endpoint);
      const readyNow = this.takeReady(endpoint, primary);
      if (readyNow) return readyNow;
      pool = entry.pool;
      client = await this.connect(pool, endpoint);
    }
    if (!this.guarded.has(client)) {
      // A checked-out client whose connection breaks emits 'error' besides failing its query;
      // without a listener that event would crash the process. The failed query is what we count.
      // A ready connection that breaks is not handed out again.
      this.guarded.add(client);
      client.on('error', (err: Error) => {
        this.dead.add(client);
        this.lostWhileReady(client, err);
      });
      client.on('end', () => {
        this.dead.add(client);
        this.lostWhileReady(client);
      });
    }
    let role: ServerRole;
    try {
      role = await this.roleOf(client);
    } catch (err) {
      client.release(true);
      throw err;
    }
    if (primary && role === 'standby') {
      client.release(true);
      throw new StandbyConnectionError(`the writer endpoint ${endpointKey(endpoint)} led to a server in recovery (a failover in progress?): connection discarded, nothing written`);
    }
    return this.leaseOf(entry, client, role);
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
    const entries = [...this.pools.values()];
    this.pools.clear();
    for (const entry of entries) this.handBack(entry);
    await Promise.all(entries.map(({ pool }) => pool.end().catch(() => undefined)));
  }

  /**
   * Close every pool without waiting: idle connections say goodbye to their server at once, one
   * still in use closes when it is released. The next acquire opens new pools. Called when an
   * invocation that ran slices ends: a frozen Lambda environment runs no timers, so an idle
   * timeout would never close its connections, and the fleet's connections would then count every
   * environment ever started instead of the invocations running.
   */
  drop(): void {
    const entries = [...this.pools.values()];
    this.pools.clear();
    for (const entry of entries) {
      this.handBack(entry);
      entry.pool.end().catch(() => undefined);
    }
  }

  /**
   * A connection from `pool`. With `resumeWaitMs` set (an Aurora Serverless v2 cluster that may
   * pause at 0 ACU), a pool that holds no connection keeps trying for that long: the connection
   * request is what resumes a paused instance, and a resume takes longer than one connect timeout.
   * A pool that already holds connections fails at once, as a full pool or a failover should.
   */
  private async connect(pool: pg.Pool, endpoint: Endpoint): Promise<pg.PoolClient> {
    const waitMs = this.config.resumeWaitMs ?? 0;
    if (waitMs <= 0 || pool.totalCount > 0) return this.connectOnce(pool);
    const deadline = this.clock.now() + waitMs;
    for (let pause = RESUME_RETRY_MIN_MS; ; pause = Math.min(pause * 2, RESUME_RETRY_MAX_MS)) {
      try {
        return await this.connectOnce(pool);
      } catch (err) {
        if (!isConnectionError(err)) throw err;
        const left = deadline - this.clock.now();
        if (left <= 0) throw new ResumeWaitError(endpointKey(endpoint), waitMs, err);
        await this.clock.sleep(Math.min(pause, left));
      }
    }
  }

  /**
   * pool.connect(), telling a wait for a busy pool apart from a connection that could not be opened.
   * pg-pool says "timeout exceeded when trying to connect" only for a caller it queued behind the
   * connections in use (a new connection that times out says "Connection terminated due to
   * connection timeout"), so that message is a busy pool, whatever the pool held when the caller
   * came: an idle connection then may have gone to an earlier caller of the same moment.
   */
  private async connectOnce(pool: pg.Pool): Promise<pg.PoolClient> {
    const trust = this.trust.generation;
    try {
      return await pool.connect();
    } catch (err) {
      // Another region's RDS CA (an allowlisted endpoint elsewhere): the whole CA file, once.
      if (isUntrustedChain(err) && this.trust.widen(trust)) return this.connectOnce(pool);
      if (err instanceof Error && /timeout exceeded when trying to connect/i.test(err.message)) {
        throw new PoolBusyError(`all ${this.config.poolMax} pooled connections stayed busy for ${this.config.connectTimeoutMs} ms`);
      }
      throw err;
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

  /** The endpoint's pool, for the secret's current user name: a rotation that changed it replaces the pool. */
  private async poolFor(endpoint: Endpoint): Promise<PoolEntry> {
    const key = endpointKey(endpoint);
    const { user } = await this.credentials.get();
    // Looked up after the await: another message may have created it meanwhile.
    const existing = this.pools.get(key);
    if (existing?.user === user) return existing;
    if (existing) {
      this.pools.delete(key);
      this.handBack(existing);
      existing.pool.end().catch(() => undefined);
    }
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
      // The server's statement_timeout needs a server: this bounds every query when it is gone.
      query_timeout: queryTimeoutMs(this.config.statementTimeoutMs),
      application_name: 'aurora-load-test',
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
    });
    // An idle connection whose server went away emits 'error'; the pool drops it. Without a
    // listener the process would crash.
    pool.on('error', (err) => this.log.warn({ endpoint: key, err: err.message }, 'idle connection lost'));
    const entry: PoolEntry = { key, pool, user, ready: [], sweep: undefined };
    this.pools.set(key, entry);
    return entry;
  }
}
