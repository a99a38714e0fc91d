import { expect } from 'chai';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { systemClock, type Clock } from '../../../handlers/clock';
import { LocalCluster } from '../../../trigger/local/cluster';
import { parseProcStat, serverTicks } from '../../../trigger/local/proc-cpu';
import { ServerSampler, type SampledServer } from '../../../trigger/local/server-sampler';

/** The real clock, with a hook that counts the sampler's sleeps: a test waits for samples, not for time. */
function countingClock(): Clock & { sleeps: number; next(n: number): Promise<void> } {
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const c = {
    sleeps: 0,
    now: () => systemClock.now(),
    async sleep(ms: number, signal?: AbortSignal) {
      c.sleeps++;
      for (const w of waiters.filter((x) => c.sleeps >= x.n)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
      await systemClock.sleep(ms, signal);
    },
    sleepUntil: (t: number) => systemClock.sleepUntil(t),
    next(n: number) { return new Promise<void>((resolve) => waiters.push({ n: c.sleeps + n, resolve })); },
  };
  return c;
}

describe('local: the servers sampled beside the load', () => {
  it('reads a server\'s CPU ticks from /proc: its postmaster, its live children, and the children it waited for', () => {
    const stats = [
      '100 (postgres) S 1 100 100 0 -1 4194560 0 0 0 0 10 5 40 7 20 0 1 0 0 0 0',
      '101 (postgres: loadtest postgres 127.0.0.1(5) idle) S 100 100 100 0 -1 4194560 0 0 0 0 3 2 0 0 20 0 1 0 0 0 0',
      '200 (bash) S 1 200 200 0 -1 4194560 0 0 0 0 50 50 0 0 20 0 1 0 0 0 0',
    ].map((l) => parseProcStat(l)!);
    expect(stats[1]).to.deep.equal({ pid: 101, ppid: 100, own: 5, children: 0 });
    expect([...serverTicks(stats, [100])]).to.deep.equal([[100, 10 + 5 + 40 + 7 + 3 + 2]]);
  });

  describe('against a real writer + hot standby', function () {
    this.timeout(120_000);
    let cluster: LocalCluster;
    let load: pg.Client;

    before(async () => {
      cluster = await LocalCluster.start();
      load = new pg.Client({ ...cluster.writer, user: cluster.user, password: cluster.password, database: cluster.database });
      await load.connect();
    });
    after(async () => {
      await load?.end();
      await cluster?.stop();
    });

    it('samples each server every second: connections, commits per second, CPU, and the standby\'s replay lag', async () => {
      const connect = (port: number) => async () => {
        const c = new pg.Client({ host: '127.0.0.1', port, user: cluster.user, password: cluster.password, database: cluster.database });
        await c.connect();
        return c;
      };
      const servers: SampledServer[] = cluster.servers.map((s) => ({ name: `${s.role}:${s.port}`, role: s.role, connect: connect(s.port), pid: () => cluster.servers.find((x) => x.port === s.port)?.pid }));
      const clock = countingClock();
      const from = clock.now();
      const sampler = new ServerSampler(servers, clock).start();
      // Writes, so that there are commits to count and WAL to replay, while 4 samples are taken.
      let writing = true;
      const writes = (async () => {
        await load.query('CREATE TABLE IF NOT EXISTS sampled (x int)');
        while (writing) await load.query('INSERT INTO sampled SELECT g FROM generate_series(1, 50) g');
      })();
      await clock.next(4);
      writing = false;
      await writes;
      await sampler.stop();
      const d = sampler.samples(from, clock.now());
      expect(d).to.include({ source: 'servers', stepSeconds: 1 });
      const [w, r] = d.servers;
      expect(w!.name).to.equal(`writer:${cluster.writer.port}`);
      // The load's own connection is counted; the sampler's is not.
      expect(w!.metrics.connections!.filter((x) => x !== null)).to.include(1);
      expect(Math.max(...w!.metrics.commits!.map((x) => x ?? 0)), 'commits per second on the writer').to.be.greaterThan(10);
      if (existsSync('/proc/self/stat')) expect(Math.max(...w!.metrics.cpu!.map((x) => x ?? 0)), 'writer CPU %').to.be.greaterThan(0);
      expect(r!.metrics.replicaLag, 'the reader has the replay lag').to.be.an('array');
      expect(w!.metrics.replicaLag).to.equal(undefined);
    });

    it('gives no sample while a server is down, and samples it again once it is back', async () => {
      const clock = countingClock();
      const from = clock.now();
      const port = cluster.reader.port;
      const sampler = new ServerSampler([{ name: 'reader', role: 'reader', connect: async () => {
        const c = new pg.Client({ host: '127.0.0.1', port, user: cluster.user, password: cluster.password, database: cluster.database, connectionTimeoutMillis: 1_000 });
        await c.connect();
        return c;
      } }], clock).start();
      // The seconds before the current one: each has had its sample taken, or missed it.
      const conns = (): Array<number | null> => [...sampler.samples(from, Math.floor(clock.now() / 1000) * 1000).servers[0]!.metrics.connections!];
      /** Wait, a sample at a time (at most 30), until the samples so far satisfy `ok`. */
      const until = async (ok: (xs: Array<number | null>) => boolean): Promise<void> => {
        for (let i = 0; i < 30 && !ok(conns()); i++) await clock.next(1);
      };
      await until((xs) => xs.some((x) => x !== null));
      await cluster.stopReader();
      const down = conns().length;
      await until((xs) => xs.slice(down).includes(null));
      await cluster.startReader();
      const back = conns().length;
      await until((xs) => xs.slice(back).some((x) => x !== null));
      await sampler.stop();
      const xs = conns();
      expect(xs.slice(down).includes(null), `a gap while down: ${JSON.stringify(xs)}`).to.equal(true);
      expect(xs.slice(back).some((x) => x !== null), `samples again after: ${JSON.stringify(xs)}`).to.equal(true);
    });
  });
});
