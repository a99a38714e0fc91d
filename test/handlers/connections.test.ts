import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import type { WorkerConfig } from '../../handlers/config';
import { StaticCredentials, type CredentialProvider, type Credentials } from '../../handlers/db/credentials';
import { ConnectionWaitError, errorClassOf, PoolBusyError, StandbyConnectionError } from '../../handlers/db/errors';
import pg from 'pg';
import { Pools, READY_MS, type Lease } from '../../handlers/db/pools';
import { KEEPALIVE_INITIAL_DELAY_MS } from '../../handlers/deadline';
import { EndpointProxy } from '../../trigger/local/endpoint-proxy';
import { LocalCluster } from '../../trigger/local/cluster';
import { LateListener } from '../helpers/late-listener';
import { configFor } from '../helpers/worker-fixture';

const quiet = { warn: () => undefined };

/** The error a promise rejects with; fails the test when it resolves. */
async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(() => expect.fail('expected a rejection'), (e: unknown) => e as Error);
}

/**
 * The keepalive timer of our side of a TCP connection, in seconds, from /proc/net/tcp (its
 * `tr:tm->when` column: timer 2 is keepalive, the time left in clock ticks of 1/100 s).
 */
function keepaliveSeconds(localPort: number): number | undefined {
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || parseInt(f[1]!.split(':')[1]!, 16) !== localPort) continue;
    const [timer, when] = f[5]!.split(':') as [string, string];
    return timer === '02' ? parseInt(when, 16) / 100 : undefined;
  }
  return undefined;
}

describe('connections: dead servers, roles, a busy pool (real PostgreSQL)', function () {
  this.timeout(120_000);
  let cluster: LocalCluster;
  const leases: Lease[] = [];
  const pools: Pools[] = [];
  const proxies: EndpointProxy[] = [];
  const poolsFor = (over: Partial<WorkerConfig> = {}): Pools => {
    const config = configFor(cluster, over);
    const p = new Pools(config, new StaticCredentials(cluster.user, cluster.password), quiet);
    pools.push(p);
    return p;
  };
  const hold = (l: Lease): Lease => { leases.push(l); return l; };

  before(async () => { cluster = await LocalCluster.start(); });
  afterEach(async () => {
    for (const l of leases.splice(0)) l.release(new Error('Connection terminated'));
    // A silenced proxy must never outlive its test, whatever failed.
    await Promise.all(proxies.splice(0).map((p) => p.close()));
    await Promise.all(pools.splice(0).map((p) => p.close()));
  });
  after(async () => { await cluster?.stop(); });

  it('starts TCP keepalive probes on an idle connection within seconds, not the OS default of two hours', async () => {
    const lease = await poolsFor().acquire(cluster.writer);
    const port = (lease.client as unknown as { connection: { stream: { localPort: number } } }).connection.stream.localPort;
    const left = keepaliveSeconds(port);
    lease.release();
    expect(left, 'a keepalive timer runs on the socket').to.be.a('number');
    expect(left!).to.be.at.most(KEEPALIVE_INITIAL_DELAY_MS / 1000);
  });

  it('gives up on a server that stops answering after the statement timeout plus a margin: class 08, the connection discarded', async () => {
    const proxy = await EndpointProxy.start(cluster.writer);
    proxies.push(proxy);
    const p = poolsFor({ statementTimeoutMs: 300 });
    const lease = await p.acquire({ host: proxy.host, port: proxy.port });
    proxy.silence();
    // Without the client-side timeout this would wait for ever: the socket stays open.
    const err = await rejection(lease.client.query('SELECT 1'));
    lease.release(err);
    expect(err.message).to.match(/Query read timeout/);
    expect(errorClassOf(err)).to.equal('08');
    proxy.unsilence();
    const next = hold(await p.acquire({ host: proxy.host, port: proxy.port }));
    expect(next.client).not.to.equal(lease.client);
    expect((await next.client.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).to.equal(1);
  });

  it('discards a connection whose server refused a write as read-only (25006): the next one is new', async () => {
    const p = poolsFor({ poolMax: 1 });
    const first = await p.acquire(cluster.reader);
    const err = await rejection(first.client.query('CREATE TEMP TABLE t (x int)'));
    expect(errorClassOf(err)).to.equal('25');
    first.release(err);
    const second = hold(await p.acquire(cluster.reader));
    expect(second.client).not.to.equal(first.client);
  });

  it('keeps a connection after a statement error that leaves it usable (a division by zero, 22012): the next lease reuses it', async () => {
    const p = poolsFor({ poolMax: 1 });
    /** The server process behind a lease's connection. */
    const backend = async (l: Lease): Promise<number> => (await l.client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const first = await p.acquire(cluster.writer);
    const pid = await backend(first);
    const err = await rejection(first.client.query('SELECT 1 / 0'));
    expect(errorClassOf(err)).to.equal('22');
    first.release(err);
    // A second release of the same lease is ignored: it must not hand the connection back twice.
    first.release();
    const second = hold(await p.acquire(cluster.writer));
    expect(await backend(second)).to.equal(pid);
    expect(second.role).to.equal('primary');
  });

  it('never hands out a writer-endpoint connection that reached a standby: nothing can be written on it', async () => {
    const p = poolsFor();
    const err = await rejection(p.acquire(cluster.reader, { primary: true }));
    expect(err).to.be.instanceOf(StandbyConnectionError);
    expect(err.message).to.match(new RegExp(`^the writer endpoint ${cluster.reader.host}:${cluster.reader.port} led to a `));
    expect(errorClassOf(err)).to.equal('25');
    const lease = hold(await p.acquire(cluster.reader));
    expect(lease.role).to.equal('standby');
  });

  it('tells a busy pool from a failed connection: waiting past the late limit, or for a full pool, is not class 08', async () => {
    const p = poolsFor({ poolMax: 1, connectTimeoutMs: 300 });
    hold(await p.acquire(cluster.writer));
    const late = await rejection(p.acquire(cluster.writer, { waitMs: 100 }));
    expect(late).to.be.instanceOf(ConnectionWaitError);
    expect(late.message).to.equal(`no connection to ${cluster.writer.host}:${cluster.writer.port} within 100 ms`);
    const busy = await rejection(p.acquire(cluster.writer));
    expect(busy).to.be.instanceOf(PoolBusyError);
    expect(busy.message).to.equal('all 1 pooled connections stayed busy for 300 ms');
    expect(errorClassOf(busy)).to.equal('client');
    const refused = await rejection(poolsFor().acquire({ host: '127.0.0.1', port: 1 }));
    expect(errorClassOf(refused)).to.equal('08');
  });

  it('counts a connection a silent server never completes as a failed connection (08), not a busy pool', async () => {
    const proxy = await EndpointProxy.start(cluster.writer);
    proxies.push(proxy);
    proxy.silence();
    const err = await rejection(poolsFor({ poolMax: 1, connectTimeoutMs: 300 }).acquire({ host: proxy.host, port: proxy.port }));
    expect(err).not.to.be.instanceOf(PoolBusyError);
    expect(errorClassOf(err)).to.equal('08');
  });

  /** Connections named aurora-load-test other than `lease`'s own. */
  const ours = async (lease: Lease): Promise<number> => {
    const { rows } = await lease.client.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'aurora-load-test' AND pid <> pg_backend_pid()");
    return rows[0]!.n;
  };
  /**
   * Resolves once the server counts `n` of our connections besides `watcher`'s: a closed
   * connection's server process leaves pg_stat_activity a moment after the client closed it.
   */
  const oursReach = async (watcher: Lease, n: number): Promise<void> => {
    for (let seen = await ours(watcher); seen !== n; seen = await ours(watcher)) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  /** Ends the server process behind `lease`'s connection, as a server restart or an admin would. */
  const terminate = async (watcher: Lease, lease: Lease): Promise<void> => {
    const pid = (lease.client as unknown as { processID: number }).processID;
    await watcher.client.query('SELECT pg_terminate_backend($1)', [pid]);
  };

  it('names its connections aurora-load-test in pg_stat_activity, so a DBA can tell the load from the application', async () => {
    const p = poolsFor({ poolMax: 2 });
    const lease = hold(await p.acquire(cluster.writer));
    hold(await p.acquire(cluster.writer));
    await oursReach(lease, 1);
  });

  it('closes every connection it opened when the worker closes', async () => {
    const p = new Pools(configFor(cluster, { poolMax: 2 }), new StaticCredentials(cluster.user, cluster.password), quiet);
    const a = await p.acquire(cluster.writer);
    const b = await p.acquire(cluster.writer);
    a.release();
    b.release();
    const watcher = hold(await poolsFor().acquire(cluster.writer));
    await oursReach(watcher, 2);
    await p.close();
    // Waits until the server has seen both go (the test times out if one stays).
    await oursReach(watcher, 0);
  });

  it('closes its idle connections at once when an invocation ends (drop), the one still in use when it is released', async () => {
    const p = poolsFor({ poolMax: 2 });
    const idle = await p.acquire(cluster.writer);
    const busy = await p.acquire(cluster.writer);
    idle.release();
    const watcher = hold(await poolsFor().acquire(cluster.writer));
    p.drop();
    await oursReach(watcher, 1);
    expect((await busy.client.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one, 'the connection in use still works').to.equal(1);
    busy.release();
    await oursReach(watcher, 0);
    // The next invocation connects again.
    const next = hold(await p.acquire(cluster.writer));
    expect(next.client).not.to.equal(busy.client);
    await oursReach(watcher, 1);
  });

  it('opens connections ahead of a slice (warm), as many as asked up to the pool size, and its statements use them', async () => {
    const p = poolsFor({ poolMax: 3 });
    await p.warm(cluster.writer, 5);
    const watcher = hold(await poolsFor().acquire(cluster.writer));
    await oursReach(watcher, 3);
    hold(await p.acquire(cluster.writer));
    // A fourth connection would keep the count from settling at 3.
    await oursReach(watcher, 3);
  });

  it('ignores a warm-up that cannot connect: the statements meet the error and count it themselves', async () => {
    await poolsFor().warm({ host: '127.0.0.1', port: 1 }, 2);
  });

  it('hands a connection that opens after its caller gave up to the next caller: none is left checked out', async () => {
    const late = await LateListener.start(cluster.writer);
    try {
      const p = poolsFor({ poolMax: 1, connectTimeoutMs: 30_000 });
      const gaveUp = await rejection(p.acquire(late.endpoint, { waitMs: 50 }));
      expect(gaveUp).to.be.instanceOf(ConnectionWaitError);
      late.open();
      // The pool's only connection: this caller gets it once the one that was too late returns it.
      const next = hold(await p.acquire(late.endpoint));
      expect((await next.client.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).to.equal(1);
    } finally {
      await late.close();
    }
  });

  it('takes in its stride a connection attempt that fails after its caller gave up: no unhandled rejection', async () => {
    const late = await LateListener.start(cluster.writer);
    try {
      const p = poolsFor({ poolMax: 1, connectTimeoutMs: 300 });
      expect(await rejection(p.acquire(late.endpoint, { waitMs: 50 }))).to.be.instanceOf(ConnectionWaitError);
      // The attempt times out and is closed; an unhandled rejection would fail this test.
      await late.abandonedAtLeast(1);
      expect(await rejection(p.acquire(late.endpoint, { waitMs: 50 }))).to.be.instanceOf(ConnectionWaitError);
    } finally {
      await late.close();
    }
  });

  it('survives a server that ends a connection in use between statements: no crash, the next statement fails as class 08, the next lease is a new connection', async () => {
    const p = poolsFor({ poolMax: 1 });
    const lease = hold(await p.acquire(cluster.writer));
    const watcher = hold(await poolsFor().acquire(cluster.writer));
    // The connection emits 'error' while checked out; without a listener it would crash the worker.
    const ended = new Promise((resolve) => lease.client.once('end', resolve));
    await terminate(watcher, lease);
    await ended;
    const err = await rejection(lease.client.query('SELECT 1'));
    expect(errorClassOf(err)).to.equal('08');
    lease.release(err);
    const next = hold(await p.acquire(cluster.writer));
    expect(next.client).not.to.equal(lease.client);
    expect((await next.client.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).to.equal(1);
  });

  it('logs an idle connection its server ended as one warning naming the endpoint, and carries on', async () => {
    let warned: (line: { obj: object; msg: string }) => void = () => undefined;
    const warning = new Promise<{ obj: object; msg: string }>((resolve) => { warned = resolve; });
    const p = new Pools(configFor(cluster, { poolMax: 1 }), new StaticCredentials(cluster.user, cluster.password), { warn: (obj, msg) => warned({ obj, msg }) });
    pools.push(p);
    const lease = await p.acquire(cluster.writer);
    lease.release();
    const watcher = hold(await poolsFor().acquire(cluster.writer));
    await terminate(watcher, lease);
    const { obj, msg } = await warning;
    expect(msg).to.equal('idle connection lost');
    expect(obj).to.deep.include({ endpoint: `${cluster.writer.host}:${cluster.writer.port}` });
    const next = hold(await p.acquire(cluster.writer));
    expect(next.client).not.to.equal(lease.client);
  });

  it('reuses a connection for many statements without a listener per use (no MaxListenersExceededWarning in the log)', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => { warnings.push(w); };
    process.on('warning', onWarning);
    try {
      const p = poolsFor({ poolMax: 1 });
      for (let i = 0; i < 15; i++) (await p.acquire(cluster.writer)).release();
      // A round trip to the server: every warning emitted so far has been delivered.
      const last = hold(await p.acquire(cluster.writer));
      await last.client.query('SELECT 1');
      expect(warnings.map((w) => w.name)).not.to.include('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
  it('leases a connection released moments ago again at once, without a pg-pool checkout', async () => {
    const p = poolsFor({ poolMax: 2 });
    const first = await p.acquire(cluster.writer, { waitMs: 1_000 });
    first.release();
    let checkouts = 0;
    const connect = pg.Pool.prototype.connect;
    pg.Pool.prototype.connect = function (this: pg.Pool, ...args: unknown[]) {
      checkouts++;
      return (connect as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof connect;
    try {
      const again = hold(await p.acquire(cluster.writer, { waitMs: 1_000 }));
      expect(again.client).to.equal(first.client);
      expect(again.role).to.equal('primary');
    } finally {
      pg.Pool.prototype.connect = connect;
    }
    expect(checkouts).to.equal(0);
  });

  it(`gives a connection unused for ${READY_MS} ms back to pg-pool, whose idle timeout then applies`, async () => {
    const p = poolsFor({ poolMax: 1 });
    const lease = await p.acquire(cluster.writer);
    const client = lease.client;
    const handedBack = new Promise<unknown[]>((resolve) => {
      const release = client.release.bind(client);
      client.release = ((...args: Parameters<typeof release>) => {
        release(...args);
        resolve(args);
      }) as typeof client.release;
    });
    const at = performance.now();
    lease.release();
    // Handed back as a healthy connection (not destroyed), once it has been unused long enough.
    expect(await handedBack).to.deep.equal([]);
    expect(performance.now() - at).to.be.at.least(READY_MS);
    // pg-pool's own checkout hands it out from now on.
    const next = hold(await p.acquire(cluster.writer));
    expect(next.client).to.equal(client);
  });

  it('gives a released connection at once to a caller already waiting in pg-pool for one, not after it was kept ready', async () => {
    // The caller gives up (a busy pool) before a connection kept ready would go back to pg-pool.
    const p = poolsFor({ poolMax: 1, connectTimeoutMs: READY_MS / 2 });
    const first = await p.acquire(cluster.writer);
    // The second caller asks pg-pool, and waits there: its only connection is checked out.
    const connect = pg.Pool.prototype.connect;
    const asked = new Promise<void>((resolve) => {
      pg.Pool.prototype.connect = function (this: pg.Pool, ...args: unknown[]) {
        pg.Pool.prototype.connect = connect;
        const out = (connect as (...a: unknown[]) => unknown).apply(this, args);
        resolve();
        return out;
      } as typeof connect;
    });
    let waiting: Promise<Lease>;
    try {
      waiting = p.acquire(cluster.writer);
      await asked;
    } finally {
      pg.Pool.prototype.connect = connect;
    }
    first.release();
    const second = hold(await waiting);
    expect(second.client).to.equal(first.client);
  });

  it('gives a caller the connection released while it read the credentials, not a new one nor a wait in pg-pool', async () => {
    const s = new StaticCredentials(cluster.user, cluster.password);
    let gate: Promise<void> = Promise.resolve();
    let reading!: () => void;
    const credentials: CredentialProvider = { get: async () => { reading(); await gate; return s.get(); }, invalidate: () => undefined, peek: () => s.peek() };
    // One connection, and a caller that would give up (a busy pool) before a kept connection went back to pg-pool.
    const p = new Pools(configFor(cluster, { poolMax: 1, connectTimeoutMs: READY_MS / 2 }), credentials, quiet);
    pools.push(p);
    reading = () => undefined;
    const first = await p.acquire(cluster.writer);
    let open!: () => void;
    gate = new Promise<void>((resolve) => { open = resolve; });
    const inCredentials = new Promise<void>((resolve) => { reading = resolve; });
    // Nothing is ready (the one connection is in use): this caller takes the slow path and reads the credentials.
    const second = p.acquire(cluster.writer);
    await inCredentials;
    first.release();
    open();
    expect((await second).client).to.equal(first.client);
    hold(await second);
  });

  it('leases through pg-pool alone, each connection at once, when the credentials cannot be peeked at', async () => {
    const s = new StaticCredentials(cluster.user, cluster.password);
    const p = new Pools(configFor(cluster, { poolMax: 1, connectTimeoutMs: READY_MS / 2 }), { get: () => s.get(), invalidate: () => undefined }, quiet);
    pools.push(p);
    const first = await p.acquire(cluster.writer);
    first.release();
    // Not kept where no lease could take it: the pool's one connection is pg-pool's to give again.
    const second = hold(await p.acquire(cluster.writer));
    expect(second.client).to.equal(first.client);
  });

  it('never hands a ready connection on a standby to a caller that needs a primary', async () => {
    const p = poolsFor({ poolMax: 2 });
    // The reader endpoint, read from and then (a write target on it) written to.
    const read = await p.acquire(cluster.reader);
    expect(read.role).to.equal('standby');
    read.release();
    expect(await rejection(p.acquire(cluster.reader, { primary: true }))).to.be.instanceOf(StandbyConnectionError);
  });

  it('tells a caller that needs a primary at once that a full pool holds only standby connections, not after they went back to pg-pool', async () => {
    const p = poolsFor({ poolMax: 1, connectTimeoutMs: READY_MS / 2 });
    (await p.acquire(cluster.reader)).release();
    expect(await rejection(p.acquire(cluster.reader, { primary: true }))).to.be.instanceOf(StandbyConnectionError);
  });

  it('runs a statement whose connection comes within its late limit', async () => {
    const lease = hold(await poolsFor().acquire(cluster.writer, { waitMs: 30_000 }));
    expect((await lease.client.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).to.equal(1);
  });

  it('counts a wait for a busy pool as a busy pool even when an idle connection went to an earlier caller of the same moment', async () => {
    const p = poolsFor({ poolMax: 1, connectTimeoutMs: 300 });
    (await p.acquire(cluster.writer)).release();
    // Both see the idle connection; the first takes it, the second waits for it.
    const [first, second] = await Promise.allSettled([p.acquire(cluster.writer), p.acquire(cluster.writer)]);
    if (first.status === 'fulfilled') hold(first.value);
    expect(first.status).to.equal('fulfilled');
    const err = second.status === 'rejected' ? (second.reason as Error) : expect.fail('two leases from a pool of one');
    expect(err).to.be.instanceOf(PoolBusyError);
    expect(errorClassOf(err)).to.equal('client');
  });

  it('drops a writer-endpoint connection that reached a standby, so the writer is reached again once the failover is over', async () => {
    const proxy = await EndpointProxy.start(cluster.reader);
    proxies.push(proxy);
    const p = poolsFor({ poolMax: 1 });
    const writer = { host: proxy.host, port: proxy.port };
    expect(await rejection(p.acquire(writer, { primary: true }))).to.be.instanceOf(StandbyConnectionError);
    // DNS now points at the new writer.
    proxy.retarget(cluster.writer);
    const lease = hold(await p.acquire(writer, { primary: true }));
    expect(lease.role).to.equal('primary');
  });

  it('closes the connections of the old user when the secret rotated to the other one: none lingers', async () => {
    const admin = hold(await poolsFor().acquire(cluster.writer));
    await admin.client.query("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pools_other') THEN CREATE ROLE pools_other LOGIN PASSWORD 'other-password'; END IF; END $$");
    let current: Credentials = { user: cluster.user, password: cluster.password };
    const rotating: CredentialProvider = { get: async () => current, invalidate: () => undefined };
    const p = new Pools(configFor(cluster, { poolMax: 1 }), rotating, quiet);
    pools.push(p);
    (await p.acquire(cluster.writer)).release();
    await oursReach(admin, 1);
    current = { user: 'pools_other', password: 'other-password' };
    const next = hold(await p.acquire(cluster.writer));
    expect((await next.client.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u).to.equal('pools_other');
    // Only the other user's connection is left besides the admin's.
    await oursReach(admin, 1);
  });
});
