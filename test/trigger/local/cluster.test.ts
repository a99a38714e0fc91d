import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inspect, promisify } from 'node:util';
import { expect } from 'chai';
import { Client } from 'pg';
import { LocalCluster, type ClusterEndpoint } from '../../../trigger/local/cluster';
import { WATCHDOG_NAME } from '../../../trigger/local/exit-guard';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function connect(cluster: LocalCluster, endpoint: ClusterEndpoint): Promise<Client> {
  const client = new Client({ ...endpoint, user: cluster.user, password: cluster.password, database: cluster.database });
  await client.connect();
  return client;
}

async function query<T>(cluster: LocalCluster, endpoint: ClusterEndpoint, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = await connect(cluster, endpoint);
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Resolve with the ms it took until `sql` on the reader returns a row, or throw after `timeoutMs`. */
async function visibleOnReader(cluster: LocalCluster, sql: string, params: unknown[], timeoutMs: number): Promise<number> {
  const client = await connect(cluster, cluster.reader);
  const t0 = Date.now();
  try {
    for (;;) {
      if ((await client.query(sql, params)).rowCount) return Date.now() - t0;
      if (Date.now() - t0 > timeoutMs) throw new Error(`not visible on the reader after ${timeoutMs} ms`);
      await sleep(5);
    }
  } finally {
    await client.end();
  }
}

/** Whether a process runs (a zombie, exited but not yet reaped, counts as gone). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

/** Resolves once `done()` holds, checking every 20 ms (a process that is not our child sends no event when it ends); throws after `timeoutMs`. */
async function until(what: string, done: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`still not true after ${timeoutMs} ms: ${what}`);
    await sleep(20);
  }
}

/** The watchdogs (trigger/local/exit-guard.ts) of process `owner` that are running. */
function watchdogsOf(owner: number): number[] {
  const mark = `\0${WATCHDOG_NAME}\0${owner}\0`;
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(mark) && running(Number(entry))) out.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return out;
}

/** Starts test/trigger/local/fixtures/kill-me.ts; resolves with its pid and its cluster's once the cluster runs. */
async function clusterInAChild(opts: { ownGroup?: boolean } = {}): Promise<{ pid: number; child: ChildProcess; pids: number[]; baseDir: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'fixtures', 'kill-me.ts')], { stdio: ['ignore', 'pipe', 'inherit'], detached: opts.ownGroup === true });
  let out = '';
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    child.once('exit', (code, sig) => reject(new Error(`the fixture ended (${sig ?? code}) before its cluster ran`)));
  });
  child.stdout.destroy();
  child.removeAllListeners('exit');
  const started = { pid: child.pid!, child, ...(JSON.parse(line) as { pids: number[]; baseDir: string }) };
  children.push(started);
  return started;
}

/** The fixtures started, so that a failed test leaves neither them nor their servers running. */
const children: Array<{ pid: number; pids: number[]; baseDir: string }> = [];

/** Whether `pid` is one of ours still: a fixture or a PostgreSQL process (its pid may have been reused). */
function ours(pid: number): boolean {
  try {
    return /kill-me\.ts|postgres/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return false;
  }
}

/** SIGKILL `pid` unless it is already gone: a postgres child ends by itself (an autovacuum worker) or as its parent dies. */
function sigkill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

function killLeftovers(): void {
  for (const c of children.splice(0)) {
    for (const p of processTree([c.pid, ...c.pids]).filter((p) => running(p) && ours(p))) sigkill(p);
    fs.rmSync(c.baseDir, { recursive: true, force: true });
  }
}

/** The postmasters and every process they started (backends, walsender, walreceiver, ...). */
function processTree(roots: number[]): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Exited while we looked.
    }
  }
  const tree = new Set(roots);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parentOf) {
      if (tree.has(ppid) && !tree.has(pid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  return [...tree];
}

describe('LocalCluster: embedded writer + streaming hot standby', function () {
  this.timeout(60_000);
  let cluster: LocalCluster;
  const logLines: string[] = [];

  before(async () => {
    cluster = await LocalCluster.start({ onLog: (line) => logLines.push(line) });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('starts in a few seconds with the reader streaming from the writer', async () => {
    const rows = await query<{ application_name: string; state: string }>(cluster, cluster.writer, 'SELECT application_name, state FROM pg_stat_replication');
    expect(rows).to.deep.equal([{ application_name: 'reader', state: 'streaming' }]);
    expect(cluster.startupMs).to.be.above(0);
  });

  it('shows a write on the writer on the reader within a second', async () => {
    await query(cluster, cluster.writer, 'CREATE TABLE IF NOT EXISTS replicated (id int PRIMARY KEY)');
    await query(cluster, cluster.writer, 'INSERT INTO replicated VALUES (1)');

    const ms = await visibleOnReader(cluster, 'SELECT 1 FROM replicated WHERE id = $1', [1], 1_000);
    expect(ms).to.be.below(1_000);
  });

  it('reports pg_is_in_recovery() true on the reader and false on the writer', async () => {
    const [writer] = await query<{ r: boolean }>(cluster, cluster.writer, 'SELECT pg_is_in_recovery() AS r');
    const [reader] = await query<{ r: boolean }>(cluster, cluster.reader, 'SELECT pg_is_in_recovery() AS r');
    expect({ writer: writer?.r, reader: reader?.r }).to.deep.equal({ writer: false, reader: true });
  });

  it('fails an INSERT on the reader with SQLSTATE 25006 (read-only transaction)', async () => {
    await query(cluster, cluster.writer, 'CREATE TABLE IF NOT EXISTS replicated (id int PRIMARY KEY)');
    await visibleOnReader(cluster, `SELECT 1 FROM pg_class WHERE relname = 'replicated'`, [], 5_000);

    const err = await query(cluster, cluster.reader, 'INSERT INTO replicated VALUES (2)').then(
      () => undefined,
      (e: unknown) => e as { code?: string },
    );
    expect(err?.code).to.equal('25006');
  });

  it('reports the replication lag from the writer: no bytes behind once idle', async () => {
    await query(cluster, cluster.writer, 'CREATE TABLE IF NOT EXISTS lag_probe (id int)');
    await cluster.waitForStreaming();
    let lag = await cluster.replicationLag();
    for (let i = 0; i < 100 && lag.bytes > 0; i++) {
      await sleep(10);
      lag = await cluster.replicationLag();
    }
    expect(lag.bytes).to.equal(0);
    expect(lag.ms === null || lag.ms >= 0).to.equal(true);
  });

  it('brings the writer back after stopWriter and startWriter, and the reader streams its new writes again', async () => {
    await query(cluster, cluster.writer, 'CREATE TABLE IF NOT EXISTS restarts (id int PRIMARY KEY)');
    const writerPid = cluster.pids[0];

    await cluster.stopWriter('fast');
    await cluster.startWriter();
    expect(cluster.pids[0]).to.not.equal(writerPid);
    await query(cluster, cluster.writer, 'INSERT INTO restarts VALUES (1)');
    await cluster.waitForStreaming(10_000);

    const ms = await visibleOnReader(cluster, 'SELECT 1 FROM restarts WHERE id = $1', [1], 5_000);
    expect(ms).to.be.below(5_000);
  });

  it('keeps the password out of JSON.stringify, util.inspect and the server log lines', () => {
    const { password } = cluster;
    expect(password).to.have.length.above(16);
    expect(JSON.stringify(cluster)).to.not.include(password);
    expect(inspect(cluster, { showHidden: true, depth: 10, getters: true })).to.not.include(password);
    expect(Object.keys(cluster)).to.not.include('password');
    expect(logLines.length).to.be.above(0);
    expect(logLines.join('\n')).to.not.include(password);
  });

  it('never runs the servers as root: as root they run as the postgres OS user, otherwise as us', () => {
    const uids = cluster.pids.map((pid) => /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    const expected = process.getuid?.() === 0 ? execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim() : String(process.getuid?.());
    expect(uids).to.deep.equal(cluster.pids.map(() => expected));
  });

  it('gives a second cluster in the same process its own password, refusing the first one\'s', async () => {
    const second = await LocalCluster.start();
    try {
      expect(second.password).to.not.equal(cluster.password);
      const impostor = new Client({ ...second.writer, user: second.user, password: cluster.password, database: 'postgres' });
      const err = await impostor.connect().then(
        () => undefined,
        (e: unknown) => e as { code?: string },
      );
      await impostor.end().catch(() => undefined);
      expect(err?.code).to.equal('28P01');
      expect(await query<{ one: number }>(second, second.reader, 'SELECT 1 AS one')).to.deep.equal([{ one: 1 }]);
    } finally {
      await second.stop();
    }
  });

  it('rejects invalid options before touching the disk', async () => {
    const err = await LocalCluster.start({ user: 'Robert"); DROP' }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(TypeError);
  });
});

describe('LocalCluster: failover and shutdown', function () {
  this.timeout(60_000);
  let cluster: LocalCluster | undefined;

  afterEach(async function () {
    await cluster?.stop();
    cluster = undefined;
    // A test that passed saw its fixture's processes end; their pids may belong to others by now.
    if (this.currentTest?.state === 'failed') killLeftovers();
    children.length = 0;
  });

  it('promoteReader makes the old reader accept writes, and points writer and reader at it', async () => {
    cluster = await LocalCluster.start();
    const readerPort = cluster.reader.port;
    await query(cluster, cluster.writer, 'CREATE TABLE failover (id int)');
    await cluster.waitForStreaming();
    await visibleOnReader(cluster, `SELECT 1 FROM pg_class WHERE relname = 'failover'`, [], 5_000);

    await cluster.promoteReader();

    expect({ writer: cluster.writer, reader: cluster.reader }).to.deep.equal({ writer: { host: '127.0.0.1', port: readerPort }, reader: { host: '127.0.0.1', port: readerPort } });
    await query(cluster, cluster.writer, 'INSERT INTO failover VALUES (1)');
    const [row] = await query<{ r: boolean; n: string }>(cluster, cluster.writer, 'SELECT pg_is_in_recovery() AS r, count(*) AS n FROM failover');
    expect(row).to.deep.equal({ r: false, n: '1' });
    expect(cluster.pids).to.have.length(1);
  });

  it('stop() leaves no postgres process behind, removes the temporary directory, and can be called again', async () => {
    cluster = await LocalCluster.start();
    await query(cluster, cluster.reader, 'SELECT 1');
    const tree = processTree(cluster.pids);
    expect(tree.length).to.be.above(4);

    await Promise.all([cluster.stop(), cluster.stop()]);
    await cluster.stop();

    expect(tree.filter(running)).to.deep.equal([]);
    expect(fs.existsSync(cluster.baseDir)).to.equal(false);
    expect(cluster.pids).to.deep.equal([]);
  });

  it('shuts the servers down and removes the directory when the process exits without stop()', async () => {
    const fixture = path.join(__dirname, 'fixtures', 'exit-without-stop.ts');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fixture], { timeout: 60_000 });
    const { pids, baseDir } = JSON.parse(stdout) as { pids: number[]; baseDir: string };

    expect(pids).to.have.length(2);
    expect(pids.filter(running)).to.deep.equal([]);
    expect(fs.existsSync(baseDir)).to.equal(false);
  });

  it('shuts the servers down and removes the directory when the process is killed (SIGKILL runs no exit hook)', async () => {
    const { pid, pids, baseDir } = await clusterInAChild();
    const tree = processTree(pids);

    process.kill(pid, 'SIGKILL');

    await until('every server process ended', () => tree.filter(running).length === 0);
    await until('the directory is removed', () => !fs.existsSync(baseDir));
  });

  it('removes the directory when the whole process tree is killed, as a test runner kills a test that timed out', async () => {
    const { pid, baseDir } = await clusterInAChild();
    const tree = processTree([pid]);
    expect(tree.length).to.be.above(4);

    for (const p of tree) sigkill(p);

    await until('the directory is removed', () => !fs.existsSync(baseDir));
  });

  it('removes the directory when the whole process group is killed, as `timeout -s KILL` does', async () => {
    const { pid, baseDir } = await clusterInAChild({ ownGroup: true });

    process.kill(-pid, 'SIGKILL');

    await until('the directory is removed', () => !fs.existsSync(baseDir));
  });

  it('leaves alone a process and a directory that were released before the process was killed', async () => {
    const fixture = path.join(__dirname, 'fixtures', 'guard-release.ts');
    const ran = await promisify(execFile)(process.execPath, ['--import', 'tsx', fixture], { timeout: 60_000 }).catch((err: { stdout: string; signal: string }) => err);
    const { sleeper, released, guarded, base } = JSON.parse(ran.stdout) as { sleeper: number; released: string; guarded: string; base: string };
    try {
      await until('the guarded directory is removed', () => !fs.existsSync(guarded));

      expect(running(sleeper)).to.equal(true);
      expect(fs.existsSync(released)).to.equal(true);
    } finally {
      if (running(sleeper)) process.kill(sleeper, 'SIGKILL');
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  it('leaves no watchdog running once the process has stopped its cluster and exited', async () => {
    const { pid, child, baseDir } = await clusterInAChild();
    expect(watchdogsOf(pid)).to.have.length(1);
    const exited = new Promise((resolve) => child.once('exit', resolve));

    process.kill(pid, 'SIGTERM');
    await exited;

    expect(fs.existsSync(baseDir)).to.equal(false);
    await until('the watchdog has exited', () => watchdogsOf(pid).length === 0);
  });
});

