import { expect } from 'chai';
import { LocalEngine } from '../../../trigger/local/engine';
import { body } from '../../helpers/worker-fixture';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('local engine: the whole system on one machine', function () {
  this.timeout(180_000);
  let engine: LocalEngine;

  before(async () => {
    engine = await LocalEngine.start({ visibilityTimeoutMs: 1000, maxReceiveCount: 5, maxConcurrency: 4 });
    await engine.init('seed');
  });
  after(async () => {
    await engine?.stop();
  });

  it('survives a writer restart mid-run: sent = succeeded + dead-lettered, reconciled against row counts', async () => {
    const sent = 150;
    const restart = (async () => {
      await sleep(1000);
      await engine.cluster!.restartWriter({ downMs: 1000 });
    })();
    for (let i = 0; i < sent; i++) {
      engine.queue.send(body({ kind: 'statements', op: 'insert', count: 2 }, 'restart-run'));
      await sleep(20);
    }
    await restart;
    await engine.idle(120_000);

    const deadLettered = engine.dlq.depth.visible;
    expect(engine.queue.stats.deleted + deadLettered, 'sent = succeeded + dead-lettered').to.equal(sent);

    let succeeded = 0;
    let connectionErrors = 0;
    for (const inv of engine.sink.invocations) {
      for (const s of inv.series) {
        if (s.runId !== 'restart-run') continue;
        succeeded += s.latency.count;
        connectionErrors += (s.errors.get('08') ?? 0) + (s.errors.get('57') ?? 0);
      }
    }
    expect(connectionErrors + engine.queue.stats.redelivered, 'the restart really hit the run').to.be.greaterThan(0);

    const client = await engine.connect('writer');
    const rows = Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM transactions')).rows[0]!.n);
    await client.end();
    // Every successful INSERT is a row. A statement cut off by the shutdown may have committed
    // before the client saw the error, so at most the connection errors come on top.
    expect(rows).to.be.at.least(succeeded);
    expect(rows).to.be.at.most(succeeded + connectionErrors);
    // Messages that ran to the end did all their statements; only redelivered ones ran twice.
    expect(succeeded).to.be.at.least(2 * engine.queue.stats.deleted);
  });

  it('moves a bad message to the DLQ within seconds, though the visibility timeout is long', async () => {
    const slow = await LocalEngine.start({ visibilityTimeoutMs: 600_000, maxReceiveCount: 3 });
    try {
      slow.queue.send(body({ kind: 'statements', op: 'no-such-op', count: 1 }, 'bad-run'));
      // With the queue's 10-minute timeout alone this would take 20 minutes.
      await slow.idle(30_000);
      expect(slow.dlq.depth.visible).to.equal(1);
    } finally {
      await slow.stop();
    }
  });
});

describe('local engine: failover endpoints', function () {
  this.timeout(180_000);
  let engine: LocalEngine;

  before(async () => {
    engine = await LocalEngine.start({ failoverEndpoints: true, visibilityTimeoutMs: 1000 });
    await engine.init('seed');
  });
  after(async () => {
    await engine?.stop();
  });

  it('moves both endpoints to the promoted standby, and writes succeed there after the failover', async () => {
    engine.queue.send(body({
      kind: 'slice', rate: 100, durationMs: 4000, startAt: Date.now() + 200,
      mix: [{ op: 'select', weight: 1 }, { op: 'insert', weight: 1 }],
    }, 'failover-run'));
    await sleep(1700);
    await engine.failover();
    await engine.idle(60_000);
    const series = engine.sink.invocations.flatMap((i) => i.series).filter((s) => s.runId === 'failover-run');
    const writes = series.find((s) => s.op === 'insert')!;
    const reads = series.find((s) => s.op === 'select')!;
    // Every write after the failover went to the promoted server, which now answers as a primary;
    // the reads moved there too.
    expect(writes.latency.count).to.be.greaterThan(100);
    expect(reads.answeredBy.get('primary') ?? 0, 'reads served by the promoted server').to.be.greaterThan(0);
    const client = await engine.connect('writer');
    const { rows } = await client.query<{ standby: boolean }>('SELECT pg_is_in_recovery() AS standby');
    await client.end();
    expect(rows[0]!.standby).to.equal(false);
  });
});
