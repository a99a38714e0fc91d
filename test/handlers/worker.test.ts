import { expect } from 'chai';
import pg from 'pg';
import { LocalCluster } from '../../trigger/local/cluster';
import { projectCatalog } from '../../handlers/workloads/project';
import { createWorker, type Worker } from '../../handlers/worker';
import { Histogram } from '../../handlers/metrics/histogram';
import { systemClock, type Clock } from '../../handlers/clock';
import { buildCatalog } from '../../handlers/workloads/catalog';
import { tpcbBalances } from '../../handlers/workloads/tpcb';
import { freePort } from '../../trigger/local/free-port';
import { CapturedLog, MemorySink, body, configFor, context, holdCountingClock, queriesSentWhile, readerCaughtUp, sqsEvent, totalsOf } from '../helpers/worker-fixture';

describe('worker (against a real writer + hot standby)', function () {
  this.timeout(120_000);
  let cluster: LocalCluster;
  let worker: Worker;
  let sink: MemorySink;
  let log: CapturedLog;
  let writer: pg.Client;

  before(async () => {
    cluster = await LocalCluster.start();
    sink = new MemorySink();
    log = new CapturedLog();
    worker = createWorker({ catalog: projectCatalog(), config: configFor(cluster, { allowedHosts: [`localhost:${cluster.writer.port}`] }), sink, logger: log.logger });
    await worker.init('seed');
    await worker.init('tpcb', { scale: 1 });
    // Tests read on the reader what init just created on the writer.
    await readerCaughtUp(cluster);
    writer = new pg.Client({ ...cluster.writer, user: cluster.user, password: cluster.password, database: cluster.database });
    await writer.connect();
  });

  after(async () => {
    await writer?.end();
    await worker?.close();
    await cluster?.stop();
  });

  const rows = async (): Promise<number> => Number((await writer.query<{ n: string }>('SELECT count(*) AS n FROM transactions')).rows[0]!.n);
  const lastSeries = (op: string, target: string) =>
    sink.invocations[sink.invocations.length - 1]!.series.find((s) => s.op === op && s.target === target)!;
  const last = (op: string, target: string) => totalsOf(lastSeries(op, target));

  it('runs reads on the standby and writes on the primary, as the answering server reports', async () => {
    const res = await worker.handle(sqsEvent([
      body({ kind: 'statements', op: 'select', count: 5 }),
      body({ kind: 'statements', op: 'insert', count: 5 }),
    ]), context);
    expect(res.batchItemFailures).to.deep.equal([]);
    expect(last('select', 'reader').answeredBy).to.deep.equal({ standby: 5 });
    expect(last('insert', 'writer').answeredBy).to.deep.equal({ primary: 5 });
  });

  it('nudges its clock on every database answer, so a due slice statement can start on it instead of a timer', async () => {
    let nudges = 0;
    const nudged = createWorker({ catalog: projectCatalog(), config: configFor(cluster), sink: new MemorySink(), logger: log.logger, clock: { ...systemClock, nudge: () => { nudges++; } } });
    try {
      const res = await nudged.handle(sqsEvent([body({ kind: 'statements', op: 'select', count: 3 })]), context);
      expect(res.batchItemFailures).to.deep.equal([]);
    } finally {
      await nudged.close();
    }
    // select.sql's one SQL command, three times.
    expect(nudges).to.equal(3);
  });

  it('holds its clock while a slice statement is in flight, so the schedule\'s next wait never blocks the thread on it, and lets go of every hold', async () => {
    const counts = holdCountingClock();
    const holding = createWorker({ catalog: projectCatalog(), config: configFor(cluster), sink: new MemorySink(), logger: log.logger, clock: counts.clock });
    try {
      // One statement every 20 ms: each start is followed at once by the wait for the next one.
      const res = await holding.handle(sqsEvent([body({ kind: 'slice', mix: [{ op: 'select', weight: 1 }], rate: 50, durationMs: 200, startAt: Date.now() + 100 })]), context);
      expect(res.batchItemFailures).to.deep.equal([]);
    } finally {
      await holding.close();
    }
    expect(counts.waitsWhileHeld).to.be.at.least(9);
    expect(counts.held).to.equal(0);
  });

  it('holds its clock through a statements message: every statement goes out while held, and the hold is let go', async () => {
    const counts = holdCountingClock();
    const holding = createWorker({ catalog: projectCatalog(), config: configFor(cluster), sink: new MemorySink(), logger: log.logger, clock: counts.clock });
    const whileFree = await queriesSentWhile(() => counts.held === 0, async () => {
      try {
        const res = await holding.handle(sqsEvent([body({ kind: 'statements', op: 'select', count: 5 })]), context);
        expect(res.batchItemFailures).to.deep.equal([]);
      } finally {
        await holding.close();
      }
    });
    // The pool's role query on a new connection goes out before the message's hold; the 5 statements after it.
    expect(whileFree).to.equal(1);
    expect(counts.holds).to.equal(1);
    expect(counts.held).to.equal(0);
  });

  it('fails a write sent to the reader with SQLSTATE 25006 and returns it as an item failure', async () => {
    const event = sqsEvent([body({ kind: 'statements', op: 'insert', count: 1, target: 'reader' })]);
    const res = await worker.handle(event, context);
    expect(res.batchItemFailures).to.deep.equal([{ itemIdentifier: event.Records[0]!.messageId }]);
    expect(last('insert', 'reader').errors).to.deep.equal({ 25: 1 });
    const logged = log.entries().find((e) => e.messageId === event.Records[0]!.messageId)!;
    expect(logged.error).to.match(/^25006: /);
  });

  it('returns each bad message as an item failure with its reason logged, and runs the good ones in the same batch', async () => {
    /** 16 -D variables of `n` characters of "€" (3 bytes each in UTF-8). */
    const vars = (n: number): Record<string, string> => Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`v${i}`, '€'.repeat(n)]));
    const oversize = body({ kind: 'statements', op: 'insert', count: 1, vars: vars(256) });
    const bad = [
      '{"v":1,"kind":',
      body({ v: 2, kind: 'statements', op: 'insert', count: 1 }),
      body({ kind: 'explode' }),
      body({ kind: 'statements', workload: 'tpcc', op: 'insert', count: 1 }),
      body({ kind: 'statements', op: 'truncate', count: 1 }),
      body({ kind: 'statements', op: 'insert', count: 0 }),
      body({ kind: 'statements', op: 'insert', count: 1_000_000 }),
      body({ kind: 'slice', mix: [{ op: 'insert', weight: 1 }], rate: 1e9, durationMs: 1000, startAt: Date.now() }),
      // Valid but for its size: the good insert below with longer -D values (16 x 256 x 3 bytes of "€").
      oversize,
      body({ kind: 'statements', op: 'insert', count: 1, hosts: { writer: 'attacker.example.com' } }),
      body({ kind: 'statements', op: 'insert', count: 1, sql: 'DROP TABLE type' }),
      body({ kind: 'slice', mix: [{ op: 'select', weight: 1 }], rate: 10, durationMs: 1000, startAt: Date.now() + 86_400_000 }),
    ];
    const good = [body({ kind: 'statements', op: 'insert', count: 3, vars: vars(100) }), body({ kind: 'statements', op: 'select', count: 2 })];
    const before = await rows();
    const event = sqsEvent([...bad.slice(0, 6), ...good, ...bad.slice(6)]);
    const badIds = event.Records.filter((r) => !good.includes(r.body)).map((r) => r.messageId);
    const res = await worker.handle(event, context);
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).to.deep.equal([...badIds].sort());
    const reasons = new Map(log.entries().filter((e) => e.msg === 'invalid message').map((e) => [e.messageId, e.reason]));
    for (const id of badIds) expect(reasons.get(id), `reason for ${id}`).to.be.a('string').and.not.empty;
    expect(reasons.get(event.Records.find((r) => r.body === oversize)!.messageId)).to.match(/^body is 1\d{4} bytes, over the 8192-byte limit$/);
    expect(await rows()).to.equal(before + 3);
  });

  it('refuses an explicit host that is not on the allowlist without connecting to it', async () => {
    const event = sqsEvent([body({ kind: 'statements', op: 'select', count: 1, hosts: { reader: '127.0.0.2:5432' } })]);
    const res = await worker.handle(event, context);
    expect(res.batchItemFailures).to.have.length(1);
    expect(log.text).to.include("is not on the worker's allowlist");
  });

  it('sends statements to an explicit host that is on the allowlist', async () => {
    const res = await worker.handle(sqsEvent([
      body({ kind: 'statements', op: 'select', count: 2, hosts: { reader: `localhost:${cluster.writer.port}` } }),
    ]), context);
    expect(res.batchItemFailures).to.deep.equal([]);
    expect(last('select', 'reader').answeredBy).to.deep.equal({ primary: 2 });
  });

  it('runs a slice at its rate for its duration, reads on the standby, each statement with its schedule lag', async () => {
    const res = await worker.handle(sqsEvent([body({
      kind: 'slice', rate: 200, durationMs: 2000, startAt: Date.now() + 200,
      mix: [{ op: 'select', weight: 3 }, { op: 'insert', weight: 1 }],
    })]), context);
    expect(res.batchItemFailures).to.deep.equal([]);
    const reads = last('select', 'reader');
    const writes = last('insert', 'writer');
    expect(reads.ok + reads.skipped).to.equal(300);
    expect(writes.ok + writes.skipped).to.equal(100);
    expect(reads.lag).to.equal(reads.ok);
    expect(Object.keys(reads.answeredBy)).to.deep.equal(['standby']);
  });

  it('counts each slice statement whose connection is refused as a connection error (08), the process unharmed', async () => {
    const refused = { host: '127.0.0.1', port: await freePort() };
    const sink2 = new MemorySink();
    // Waits on timers, which never block the thread: each refusal is handled as it arrives, while
    // the schedule waits for the next statement.
    const clock: Clock = { ...systemClock, sleepUntil: (t) => new Promise((resolve) => setTimeout(resolve, t - systemClock.now())) };
    const w = createWorker({ catalog: projectCatalog(), config: configFor(cluster, { writer: refused, reader: refused }), sink: sink2, logger: log.logger, clock });
    try {
      const res = await w.handle(sqsEvent([body({ kind: 'slice', mix: [{ op: 'select', weight: 1 }], rate: 50, durationMs: 200, startAt: Date.now() + 100 })]), context);
      expect(res.batchItemFailures).to.deep.equal([]);
    } finally {
      await w.close();
    }
    const reads = totalsOf(sink2.invocations.at(-1)!.series.find((x) => x.op === 'select')!);
    expect(reads).to.deep.include({ ok: 0, errors: { '08': 10 } });
  });

  describe('latency measured from each scheduled start (no coordinated omission)', () => {
    /** Each transaction holds its connection for at least this long. */
    const NAP_MS = 50;
    const SLOW = buildCatalog({ 'slow/nap.sql': `SELECT pg_sleep(${NAP_MS / 1000});` });
    let slow: Worker;

    before(() => {
      // One pooled connection: statements due every 25 ms queue for it behind 50 ms ones.
      slow = createWorker({ catalog: SLOW, config: configFor(cluster, { poolMax: 1 }), sink, logger: log.logger });
    });
    after(async () => {
      await slow?.close();
    });

    it('with one pooled connection and a slow statement, every latency is at least its schedule lag plus the statement', async () => {
      // 40 statements due in 1 s need 2 s of the connection; a late limit of 5 s skips none of them.
      const res = await slow.handle(sqsEvent([body({
        kind: 'slice', workload: 'slow', rate: 40, durationMs: 1000, startAt: Date.now() + 200, lateLimitMs: 5000,
        mix: [{ op: 'nap', weight: 1, hash: SLOW.get('slow')!.scripts.get('nap')!.hash }],
      })]), context);
      expect(res.batchItemFailures).to.deep.equal([]);
      const series = lastSeries('nap', 'reader');
      const latency = new Histogram();
      const lag = new Histogram();
      for (const b of series.seconds.values()) {
        latency.merge(b.latency);
        lag.merge(b.lag);
      }
      // Every statement ran and succeeded, so both histograms hold the same 40 statements.
      expect(totalsOf(series)).to.deep.include({ ok: 40, lag: 40, skipped: 0, errors: {} });
      // Statement k (due at k x 25 ms) cannot start before the k ahead of it each held the
      // connection for 50 ms: the last one started at least 39 x 25 ms late.
      expect(lag.max, 'statements queued for the connection').to.be.at.least(39 * (NAP_MS / 2));
      // latency_i >= lag_i + NAP_MS for each i: so for their sums, minimums and every percentile.
      expect(latency.sum).to.be.at.least(lag.sum + latency.count * NAP_MS);
      expect(latency.min).to.be.at.least(lag.min + NAP_MS);
      for (let p = 1; p <= 100; p++) expect(latency.percentile(p), `p${p}`).to.be.at.least(lag.percentile(p));
    });
  });

  it('files a slice\'s statements, lag and skips under the wall-clock seconds they finished in', async () => {
    const startAt = Date.now() + 200;
    await worker.handle(sqsEvent([body({ kind: 'slice', rate: 100, durationMs: 2000, startAt, mix: [{ op: 'select', weight: 1 }] })]), context);
    const end = Date.now();
    const reads = lastSeries('select', 'reader');
    const seconds = [...reads.seconds.keys()];
    expect(seconds.length).to.be.at.least(2);
    expect(seconds.every((sec) => sec >= Math.floor(startAt / 1000) && sec <= Math.floor(end / 1000))).to.equal(true);
    const t = totalsOf(reads);
    expect(t.ok + t.skipped).to.equal(200);
  });

  it('publishes once per invocation with the counts of what ran', async () => {
    const before = sink.invocations.length;
    await worker.handle(sqsEvent([body({ kind: 'statements', op: 'select', count: 4 }), body({ kind: 'statements', op: 'select', count: 6 })]), context);
    expect(sink.invocations.length).to.equal(before + 1);
    expect(last('select', 'reader').ok).to.equal(10);
    expect(sink.invocations[sink.invocations.length - 1]!.messages[0]).to.include({ ok: 2, failed: 0, invalid: 0 });
  });

  it('keeps TPC-B consistency after a tpcb run: history deltas equal every balance total', async () => {
    const res = await worker.handle(sqsEvent([1, 2, 3].map(() => body({
      kind: 'slice', workload: 'tpcb', rate: 150, durationMs: 2000, startAt: Date.now() + 100,
      mix: [{ op: 'tpcb', weight: 1 }, { op: 'select-only', weight: 1 }],
    }))), context);
    expect(res.batchItemFailures).to.deep.equal([]);
    const b = await tpcbBalances(writer);
    expect(b.historyRows).to.equal(last('tpcb', 'writer').ok);
    expect(b.historyRows).to.be.greaterThan(0);
    expect([b.accounts, b.tellers, b.branches]).to.deep.equal([b.history, b.history, b.history]);
  });

  it('runs init idempotently through the handler: a second init changes nothing', async () => {
    const before = await rows();
    const res = await worker.handle(sqsEvent([body({ kind: 'init' }), body({ kind: 'init', workload: 'tpcb', scale: 1 })]), context);
    expect(res.batchItemFailures).to.deep.equal([]);
    expect(await rows()).to.equal(before);
    expect(log.text).to.include('tpcb ready: already loaded at scale 1');
  });

  describe('a workload of the user\'s (a folder of scripts)', () => {
    const SHOP = buildCatalog({
      'shop/init.sql': `CREATE TABLE IF NOT EXISTS item (id int PRIMARY KEY, stock int NOT NULL);
INSERT INTO item SELECT i, 1000000 FROM generate_series(1, 10000) AS i ON CONFLICT DO NOTHING;`,
      'shop/lookup.sql': '\\set id random_zipfian(1, 10000, 1.1)\nSELECT stock FROM item WHERE id = :id;',
      'shop/buy.sql': '\\set id random(1, 10000)\nUPDATE item SET stock = stock - 1 WHERE id = :id;',
      'shop/nap.sql': '\\sleep 60 s\nSELECT 1;',
      'broken/init.sql': 'CREATE TABLE IF NOT EXISTS b (a int);\nCREATE TABLE nope (a int,, b int);',
      'broken/x.sql': 'SELECT 1;',
    });
    let shop: Worker;
    const hash = (op: string): string => SHOP.get('shop')!.scripts.get(op)!.hash;

    before(async () => {
      shop = createWorker({ catalog: SHOP, config: configFor(cluster), sink, logger: log.logger });
      await shop.init('shop');
    });
    after(async () => {
      await shop?.close();
    });

    it('runs its init.sql, and again without adding a row', async () => {
      await shop.init('shop');
      expect(Number((await writer.query<{ n: string }>('SELECT count(*) AS n FROM item')).rows[0]!.n)).to.equal(10_000);
    });

    it('runs its scripts with their weights: lookups on the standby, buys on the primary, no error', async () => {
      const res = await shop.handle(sqsEvent([body({
        kind: 'slice', workload: 'shop', rate: 100, durationMs: 1000, startAt: Date.now() + 100, randomSeed: '7',
        mix: [{ op: 'lookup', weight: 80, hash: hash('lookup') }, { op: 'buy', weight: 20, hash: hash('buy') }],
      })]), context);
      expect(res.batchItemFailures).to.deep.equal([]);
      expect(last('lookup', 'reader').answeredBy).to.deep.equal({ standby: 80 });
      expect(last('buy', 'writer').answeredBy).to.deep.equal({ primary: 20 });
      expect({ ...last('lookup', 'reader').errors, ...last('buy', 'writer').errors }).to.deep.equal({});
      const sold = Number((await writer.query<{ n: string }>('SELECT sum(1000000 - stock) AS n FROM item')).rows[0]!.n);
      expect(sold).to.equal(20);
    });

    it('refuses, as a bad input, a message planned for another version of a script', async () => {
      const event = sqsEvent([body({ kind: 'statements', workload: 'shop', op: 'buy', hash: 'ffffffffffffffff', count: 1 })]);
      const res = await shop.handle(event, context);
      expect(res.batchItemFailures).to.have.length(1);
      expect(sink.invocations.at(-1)!.messages[0]!.invalid).to.equal(1);
      const logged = log.entries().find((e) => e.messageId === event.Records[0]!.messageId)!;
      expect(logged.reason).to.equal(`workloads/shop/buy.sql on this worker has content hash ${hash('buy')}, the message was planned for ffffffffffffffff: deploy the scripts you planned with (git push), or plan from the commit this worker was built from`);
    });

    it('refuses init --reset of a script workload, dropping nothing', async () => {
      const res = await shop.handle(sqsEvent([body({ kind: 'init', workload: 'shop', reset: true })]), context);
      expect(res.batchItemFailures).to.have.length(1);
      expect(sink.invocations.at(-1)!.messages[0]!.invalid).to.equal(1);
      expect(Number((await writer.query<{ n: string }>('SELECT count(*) AS n FROM item')).rows[0]!.n)).to.equal(10_000);
    });

    it('reports an error in init.sql at its file and line, and leaves nothing of it behind', async () => {
      let err: unknown;
      await shop.init('broken').catch((e: unknown) => { err = e; });
      expect((err as Error).message).to.match(/^workloads\/broken\/init\.sql:2: syntax error at or near ","$/);
      expect((await writer.query("SELECT to_regclass('b') AS t")).rows[0]!.t).to.equal(null);
    });

    it('fails a transaction whose \\sleep would outlast the invocation, instead of overrunning it', async () => {
      // 40 s left: time to start a transaction (its query timeout is 32 s), not to sleep for 60 s.
      const res = await shop.handle(sqsEvent([body({ kind: 'statements', workload: 'shop', op: 'nap', hash: hash('nap'), count: 1 })]), { ...context, getRemainingTimeInMillis: () => 40_000 });
      expect(res.batchItemFailures).to.have.length(1);
      expect(last('nap', 'reader').errors).to.deep.equal({ client: 1 });
    });
  });

  it('runs a message delivered twice to the same environment once, and counts the copy as a duplicate', async () => {
    const once = body({ kind: 'statements', op: 'insert', count: 2 });
    const before = await rows();
    await worker.handle(sqsEvent([once]), context);
    const res = await worker.handle(sqsEvent([once]), context);
    expect(res.batchItemFailures, 'the copy is done with, not retried').to.deep.equal([]);
    expect(await rows()).to.equal(before + 2);
    expect(sink.invocations[sink.invocations.length - 1]!.messages[0]).to.include({ ok: 0, duplicate: 1, failed: 0 });
  });

  it('runs a failed message again when it comes back: a retry is not a duplicate', async () => {
    const failing = body({ kind: 'statements', op: 'insert', count: 1, target: 'reader' });
    await worker.handle(sqsEvent([failing]), context);
    const res = await worker.handle(sqsEvent([failing]), context);
    expect(res.batchItemFailures).to.have.length(1);
    expect(sink.invocations[sink.invocations.length - 1]!.messages[0]).to.include({ failed: 1, duplicate: 0 });
  });

  it('reports how far ahead the sender\'s clock is when a message arrives before it was sent', async () => {
    const ahead = JSON.stringify({ ...JSON.parse(body({ kind: 'statements', op: 'select', count: 1 })), sentAt: Math.floor(systemClock.now()) + 3_000 });
    await worker.handle(sqsEvent([ahead]), context);
    const facts = sink.invocations[sink.invocations.length - 1]!.messages[0]!;
    expect(facts.senderAheadMs).to.be.within(1_000, 3_000);
    await worker.handle(sqsEvent([body({ kind: 'statements', op: 'select', count: 1 })]), context);
    expect(sink.invocations[sink.invocations.length - 1]!.messages[0]!.senderAheadMs).to.equal(0);
  });

  /** The real clock, except that it reads `behind` ms behind the wall clock until it is resynced. */
  const driftedClock = (behind: number) => {
    const c = { resyncs: 0, behind };
    const clock = { ...systemClock, now: () => systemClock.now() - c.behind, resync: () => { c.resyncs++; const step = c.behind; c.behind = 0; return step; } };
    return { c, clock };
  };

  it('in Lambda, sets its clock to the wall clock as each invocation starts, before it reads the time, and logs the step', async () => {
    const { c, clock } = driftedClock(14_000);
    const own = new CapturedLog();
    const sunk = new MemorySink();
    const lambda = createWorker({ catalog: projectCatalog(), config: configFor(cluster), sink: sunk, logger: own.logger, clock, resyncClock: true });
    try {
      await lambda.handle(sqsEvent([body({ kind: 'statements', op: 'select', count: 1 })]), context);
      // A clock 14 s behind would have read the message as sent 14 s in the future.
      expect(sunk.invocations[0]!.messages[0]!.senderAheadMs).to.equal(0);
      expect(own.entries().find((e) => String(e.msg).startsWith('worker clock set to the wall clock'))?.stepMs).to.equal(14_000);
      await lambda.handle(sqsEvent([body({ kind: 'statements', op: 'select', count: 1 })]), context);
      expect(c.resyncs).to.equal(2);
    } finally {
      await lambda.close();
    }
  });

  it('in Lambda, does not resync its clock while another invocation runs in the process (Lambda Managed Instances run several at once)', async () => {
    const { c, clock } = driftedClock(0);
    const lambda = createWorker({ catalog: projectCatalog(), config: configFor(cluster), sink: new MemorySink(), logger: log.logger, clock, resyncClock: true });
    try {
      const running = lambda.handle(sqsEvent([body({ kind: 'slice', mix: [{ op: 'select', weight: 1 }], rate: 50, durationMs: 300, startAt: Math.floor(systemClock.now()) + 50 })]), context);
      expect(c.resyncs).to.equal(1);
      await lambda.handle(sqsEvent([body({ kind: 'statements', op: 'select', count: 1 })]), context);
      expect(c.resyncs).to.equal(1);
      await running;
      await lambda.handle(sqsEvent([body({ kind: 'statements', op: 'select', count: 1 })]), context);
      expect(c.resyncs).to.equal(2);
    } finally {
      await lambda.close();
    }
  });

  it('in Lambda, resyncs again after an invocation that failed with an unexpected error', async () => {
    const { c, clock } = driftedClock(0);
    // A redelivery that breaks its contract (it must not throw): the invocation rejects.
    const redelivery = { retry: () => Promise.reject(new Error('unexpected')) };
    const lambda = createWorker({ catalog: projectCatalog(), config: configFor(cluster), sink: new MemorySink(), logger: log.logger, clock, resyncClock: true, redelivery });
    try {
      let failed: unknown;
      await lambda.handle(sqsEvent(['{"v":1,"kind":"nonsense"}']), context).catch((err: unknown) => { failed = err; });
      expect(String(failed)).to.contain('unexpected');
      await lambda.handle(sqsEvent([body({ kind: 'statements', op: 'select', count: 1 })]), context);
      expect(c.resyncs).to.equal(2);
    } finally {
      await lambda.close();
    }
  });

  it('in the local engine (invocations overlap), never resyncs its clock', async () => {
    const { c, clock } = driftedClock(14_000);
    const local = createWorker({ catalog: projectCatalog(), config: configFor(cluster), sink: new MemorySink(), logger: log.logger, clock });
    try {
      await local.handle(sqsEvent([body({ kind: 'statements', op: 'select', count: 1 })]), context);
      expect(c.resyncs).to.equal(0);
    } finally {
      await local.close();
    }
  });
});
