import { expect } from 'chai';
import pg from 'pg';
import { METRIC } from '../../handlers/contract';
import { toDatums } from '../../handlers/metrics/cloudwatch-sink';
import type { StalenessSeries } from '../../handlers/metrics/types';
import { PROBE_TABLE } from '../../handlers/staleness-probe';
import { createWorker, type Worker } from '../../handlers/worker';
import { projectCatalog } from '../../handlers/workloads/project';
import { LocalCluster } from '../../trigger/local/cluster';
import { CapturedLog, MemorySink, body, configFor, context, holdCountingClock, queriesSentWhile, sqsEvent } from '../helpers/worker-fixture';

/** Markers of a probe's series, by outcome. */
function outcomes(s: StalenessSeries | undefined): { seen: number; unseen: number; failed: number; maxMs: number } {
  const out = { seen: 0, unseen: 0, failed: 0, maxMs: 0 };
  for (const b of s?.seconds.values() ?? []) {
    out.seen += b.staleness.count;
    out.unseen += b.unseen;
    out.failed += b.failed;
    out.maxMs = Math.max(out.maxMs, b.staleness.max);
  }
  return out;
}

describe('staleness probe (against a real writer + hot standby)', function () {
  this.timeout(120_000);
  let cluster: LocalCluster;
  let sink: MemorySink;
  let log: CapturedLog;
  let workers: Worker[];
  let writer: pg.Client;

  before(async () => {
    cluster = await LocalCluster.start();
    sink = new MemorySink();
    log = new CapturedLog();
    workers = [0, 1].map(() => createWorker({ config: configFor(cluster), catalog: projectCatalog(), sink, logger: log.logger }));
    writer = new pg.Client({ ...cluster.writer, user: cluster.user, password: cluster.password, database: cluster.database });
    await writer.connect();
    // The last test stops the writer under this connection.
    writer.on('error', () => undefined);
  });
  after(async () => {
    await writer?.end();
    await Promise.all((workers ?? []).map((w) => w.close()));
    await cluster?.stop();
  });

  const probe = (runId: string, durationMs: number, intervalMs = 100): string => body({ kind: 'probe', startAt: Date.now(), durationMs, intervalMs }, runId);
  const seriesOf = (runId: string): StalenessSeries | undefined => sink.invocations.flatMap((i) => i.staleness ?? []).find((s) => s.runId === runId);

  it('writes a marker on the writer and reads it back on the standby, every interval, and publishes the delay as Staleness', async () => {
    // The probe never bursts to catch up: intervals that pass while its first marker opens both
    // connections and creates its table are skipped (seen: 7 of 10 on a busy CI machine). One
    // marker first, so the ten counted below measure the schedule, not the connecting.
    await workers[0]!.handle(sqsEvent([probe('probe-warm', 100)]), context);
    const res = await workers[0]!.handle(sqsEvent([probe('probe-1', 1_000)]), context);
    expect(res.batchItemFailures).to.deep.equal([]);
    const o = outcomes(seriesOf('probe-1'));
    expect(o.seen).to.be.within(8, 10);
    expect(o).to.include({ unseen: 0, failed: 0 });
    // Seen on the hot standby: well within the probe's 10 s limit.
    expect(o.maxMs).to.be.below(10_000);
    const datums = toDatums(sink.invocations.at(-1)!);
    expect(datums.filter((d) => d.MetricName === METRIC.staleness).reduce((n, d) => n + d.Counts!.reduce((a, b) => a + b, 0), 0)).to.equal(o.seen);
    expect(datums.some((d) => d.MetricName === METRIC.markers && d.Dimensions!.some((x) => x.Value === 'seen'))).to.equal(true);
  });

  it('holds its clock from each marker\'s write until it is read back, so no slice wait blocks the thread on the probe, and lets go of every hold', async () => {
    const counts = holdCountingClock();
    const holding = createWorker({ config: configFor(cluster), catalog: projectCatalog(), sink, logger: log.logger, clock: counts.clock });
    const whileFree = await queriesSentWhile(() => counts.held === 0, async () => {
      try {
        const res = await holding.handle(sqsEvent([probe('probe-held', 500)]), context);
        expect(res.batchItemFailures).to.deep.equal([]);
      } finally {
        await holding.close();
      }
    });
    expect(outcomes(seriesOf('probe-held')).seen).to.be.at.least(4);
    expect(counts.holds).to.be.at.least(4);
    expect(counts.held).to.equal(0);
    // Every query the probe sends (a new connection's role query included) goes out while it holds.
    expect(whileFree).to.equal(0);
  });

  it('creates its own table when it is missing, also with two workers probing at once', async () => {
    await writer.query(`DROP TABLE IF EXISTS ${PROBE_TABLE}`);
    const results = await Promise.all(workers.map((w, i) => w.handle(sqsEvent([probe(`probe-new-${i}`, 500)]), context)));
    expect(results.map((r) => r.batchItemFailures)).to.deep.equal([[], []]);
    for (const i of [0, 1]) expect(outcomes(seriesOf(`probe-new-${i}`)).seen, `worker ${i}`).to.be.greaterThan(0);
    expect((await writer.query('SELECT to_regclass($1) AS t', [PROBE_TABLE])).rows[0].t).to.equal(PROBE_TABLE);
  });

  it('keeps its table small: markers older than a minute are deleted', async () => {
    await writer.query(`INSERT INTO ${PROBE_TABLE} (run_id, written_at) VALUES ('old', now() - interval '2 minutes'), ('recent', now() - interval '10 seconds')`);
    await workers[0]!.handle(sqsEvent([probe('probe-prune', 300)]), context);
    const { rows } = await writer.query<{ run_id: string }>(`SELECT run_id FROM ${PROBE_TABLE} WHERE run_id IN ('old', 'recent')`);
    expect(rows.map((r) => r.run_id)).to.deep.equal(['recent']);
  });

  it('counts the markers it cannot write as failed, and does not fail its message', async () => {
    await cluster.stopWriter();
    try {
      const res = await workers[1]!.handle(sqsEvent([probe('probe-down', 500)]), context);
      expect(res.batchItemFailures).to.deep.equal([]);
      const o = outcomes(seriesOf('probe-down'));
      expect(o.failed).to.be.greaterThan(0);
      expect(o.seen).to.equal(0);
      expect(log.text).to.contain('staleness probe: a marker could not be written');
    } finally {
      await cluster.startWriter();
    }
  });
});
