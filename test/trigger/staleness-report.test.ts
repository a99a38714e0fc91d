import { expect } from 'chai';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { METRIC } from '../../handlers/contract';
import { toDatums } from '../../handlers/metrics/cloudwatch-sink';
import { Collector, recordMarkerLost, recordStaleness, recordSuccess } from '../../handlers/metrics/collector';
import type { InvocationMetrics } from '../../handlers/metrics/types';
import { readMeasured } from '../../trigger/aws/run-metrics';
import type { DatabaseSamples } from '../../trigger/report/database';
import { databaseLines, formatSummary, stalenessLine } from '../../trigger/report/format';
import { summarize } from '../../trigger/report/summary';
import { measureInvocations } from '../../trigger/report/timeline';
import { FakeCloudWatch } from './helpers/fake-cloudwatch';
import { runFacts } from './helpers/run-facts';

const T0 = 1_700_000_000_000;
const NS = 'AuroraLoadTest';

/** A probe's 2 seconds: 5 markers a second seen after 1..5 ms, one not seen in time, one not written. */
function probeInvocation(runId = 'run-a'): InvocationMetrics {
  const c = new Collector();
  const p = c.staleness(runId);
  for (let sec = 0; sec < 2; sec++) for (let k = 1; k <= 5; k++) recordStaleness(p, k, T0 + sec * 1000 + k * 100);
  recordMarkerLost(p, 'unseen', T0 + 1_500);
  recordMarkerLost(p, 'failed', T0 + 1_600);
  recordSuccess(c.op(runId, 'seed', 'select', 'reader'), 1, 'standby', T0 + 10);
  c.run(runId).ok += 1;
  return c.finish(T0 + 2_000);
}

describe('trigger: replica staleness and the database in the summary', () => {
  it('counts the markers of its own run by the second they ended, and their distribution', () => {
    const m = measureInvocations([probeInvocation(), probeInvocation('other-run')], 'run-a', T0, T0 + 2_000);
    const st = m.timeline.staleness!;
    // Three steps: the invocation's message outcome ends in the third.
    expect(st.ms.map((x) => x?.[0] ?? 0)).to.deep.equal([5, 5, 0]);
    expect(st.unseen).to.deep.equal([0, 1, 0]);
    expect(st.failed).to.deep.equal([0, 1, 0]);
    expect(m.distributions.staleness).to.include({ count: 10, max: 5 });
  });

  it('has no staleness in a run without a probe', () => {
    const c = new Collector();
    recordSuccess(c.op('run-a', 'seed', 'select', 'reader'), 1, 'standby', T0 + 10);
    const s = summarize(runFacts(), measureInvocations([c.finish(T0 + 100)], 'run-a', T0, T0 + 1_000));
    expect(s.staleness).to.equal(undefined);
    expect(formatSummary(s)).to.not.contain('staleness');
  });

  it('prints the staleness p50/p99/max in ms with the markers lost', () => {
    const s = summarize(runFacts({ loadStartAt: T0 }), measureInvocations([probeInvocation()], 'run-a', T0, T0 + 2_000));
    expect(s.staleness).to.deep.include({ seen: 10, unseen: 1, failed: 1 });
    expect(stalenessLine(s.staleness!)).to.match(/^staleness \(write on the writer, read it back on a reader\): p50 3\.\d+ ms, p90 5\.\d+, p99 5\.\d+, max 5\.00 ms \(10 markers; 1 not seen in time, 1 not written\)$/);
  });

  it('reads the same staleness back from CloudWatch as the local engine measured', async () => {
    const cwMock = mockClient(CloudWatchClient);
    const fake = new FakeCloudWatch();
    fake.put(NS, toDatums(probeInvocation()));
    cwMock.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => fake.getMetricData(input));
    try {
      const cw = new CloudWatchClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
      const aws = await readMeasured(cw, { namespace: NS, runId: 'run-a', startMs: T0, endMs: T0 + 2_000 }, [{ op: 'select', target: 'reader' }], T0 + 60_000);
      const local = measureInvocations([probeInvocation()], 'run-a', T0, T0 + 2_000);
      // CloudWatch computes from the histograms' bucket values: within 1% of the local engine's.
      const [a, l] = [aws.timeline.staleness!, local.timeline.staleness!];
      expect(a.ms.map((x) => x?.[0] ?? 0)).to.deep.equal(l.ms.slice(0, a.ms.length).map((x) => x?.[0] ?? 0));
      expect(a.unseen).to.deep.equal(l.unseen.slice(0, a.unseen.length));
      expect(a.failed).to.deep.equal(l.failed.slice(0, a.failed.length));
      expect(aws.distributions.staleness!.count).to.equal(10);
      expect(aws.distributions.staleness!.p99).to.be.closeTo(local.distributions.staleness!.p99, 0.05);
      const asked = cwMock.commandCalls(GetMetricDataCommand).flatMap((c) => c.args[0].input.MetricDataQueries!.map((q) => q.MetricStat!.Metric!.MetricName));
      expect(asked).to.include.members([METRIC.staleness, METRIC.markers]);
    } finally {
      cwMock.restore();
    }
  });

  it('prints the database section: mean and peak of each metric of each server', () => {
    const database: DatabaseSamples = {
      source: 'servers', startMs: T0, stepSeconds: 1, steps: 3,
      servers: [
        { name: 'writer:5432', role: 'writer', metrics: { connections: [2, 4, null], commits: [40, 50, 60] } },
        { name: 'reader:5433', role: 'reader', metrics: { replicaLag: [0.5, 1.5, null] } },
      ],
    };
    const c = new Collector();
    recordSuccess(c.op('run-a', 'seed', 'select', 'reader'), 1, 'standby', T0 + 10);
    const s = summarize(runFacts({ loadStartAt: T0 }), { ...measureInvocations([c.finish(T0 + 100)], 'run-a', T0, T0 + 1_000), database });
    expect(s.database!.servers[0]!.metrics.connections).to.deep.equal({ mean: 3, peak: 4 });
    expect(databaseLines(s.database!)).to.deep.equal([
      'database (sampled from the servers, every 1 s):',
      '  server       metric           mean   peak',
      '  writer:5432  connections      3.00   4.00',
      '  writer:5432  commits /s      50.00  60.00',
      '  reader:5433  replica lag ms   1.00   1.50',
    ]);
  });
});
