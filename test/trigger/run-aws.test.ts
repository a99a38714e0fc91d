import { expect } from 'chai';
import { hashOf } from '../helpers/worker-fixture';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand, type GetMetricDataCommandInput, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { DescribeDBClustersCommand, FailoverDBClusterCommand, InvalidDBClusterStateFault, RDSClient, type DescribeDBClustersCommandOutput } from '@aws-sdk/client-rds';
import {
  GetQueueAttributesCommand, PurgeQueueCommand, SendMessageBatchCommand, SQSClient,
  type GetQueueAttributesCommandInput, type SendMessageBatchCommandInput,
} from '@aws-sdk/client-sqs';
import { MESSAGE_OUTCOMES, METRIC, STACK_OUTPUT } from '../../handlers/contract';
import { toDatums } from '../../handlers/metrics/cloudwatch-sink';
import { Collector, recordError, recordStaleness, recordSuccess } from '../../handlers/metrics/collector';
import { parseMessage, type Message, type SliceMessage } from '../../handlers/protocol/message';
import { operationsOf } from '../../handlers/workloads/project';
import { main } from '../../trigger/cli';
import { FAILOVER_NEEDS_CLUSTER } from '../../trigger/commands/run';
import { RunStore } from '../../trigger/report/store';
import type { RunSummary } from '../../trigger/report/summary';
import { captureIo } from './helpers/capture-io';
import { FakeClock } from './helpers/fake-clock';
import { FakeCloudWatch } from './helpers/fake-cloudwatch';

const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/LoadTest-Queue';
const DLQ = 'https://sqs.eu-west-1.amazonaws.com/123456789012/LoadTest-DeadLetters';
const NS = 'TestNs';
const T0 = 1_800_000_000_000;

function cluster(status: string, writer: string, reader?: string): DescribeDBClustersCommandOutput {
  const members = [{ DBInstanceIdentifier: writer, IsClusterWriter: true }, ...(reader ? [{ DBInstanceIdentifier: reader, IsClusterWriter: false }] : [])];
  return { $metadata: {}, DBClusters: [{ DBClusterIdentifier: 'loadtest-db', Status: status, DBClusterMembers: members }] };
}

type RunJson = RunSummary & { thresholds: Array<{ threshold: string; ok: boolean; actual: string }> };

/**
 * The worker, as CloudWatch sees it: each slice sent runs every scheduled statement at its due
 * time (1 ms each; writes fail with class 08 while `writerDown` says so), and its invocation
 * publishes the real sink's datums when the slice ends; they become visible `delayMs` later.
 */
class FakeWorker {
  readonly cloudwatch = new FakeCloudWatch();
  private readonly pending: Array<{ msg: Message; visibleAt: number }> = [];
  /** Statement datums accepted but not yet visible to GetMetricData, with when they will be. */
  private readonly late: Array<{ datums: MetricDatum[]; visibleAt: number }> = [];
  writerDown: (at: number) => boolean = () => false;
  /** Invocations that never report (a worker that crashed). */
  lose = 0;
  /** Messages that fail on their last receive: reported failed and dead-lettered, nothing run. */
  deadLetter = 0;
  /** How much later than its Messages datums an invocation's other datums show in GetMetricData. */
  statementsLagMs = 0;

  constructor(private readonly clock: FakeClock, private readonly delayMs = 0) {}

  receive(bodies: string[]): void {
    for (const body of bodies) {
      const msg = parseMessage(body, this.clock.now());
      const end = msg.kind === 'slice' || msg.kind === 'probe' ? msg.startAt + msg.durationMs : this.clock.now();
      this.pending.push({ msg, visibleAt: end + this.delayMs });
    }
  }

  /** Publish whatever has become visible by now. */
  flush(): void {
    for (let i = this.late.length - 1; i >= 0; i--) {
      if (this.late[i]!.visibleAt > this.clock.now()) continue;
      this.cloudwatch.put(NS, this.late[i]!.datums);
      this.late.splice(i, 1);
    }
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const { msg, visibleAt } = this.pending[i]!;
      if (visibleAt > this.clock.now()) continue;
      this.pending.splice(i, 1);
      if (this.lose > 0) { this.lose--; continue; }
      const c = new Collector();
      const facts = c.run(msg.runId);
      facts.dwell.record(20);
      if (this.deadLetter > 0) {
        this.deadLetter--;
        facts.failed += 1;
        facts.deadLettered += 1;
      } else {
        if (msg.kind === 'slice') this.runSlice(msg, c);
        // A probe: a marker every 200 ms, each seen on the reader 2 ms after its commit.
        if (msg.kind === 'probe') for (let t = msg.startAt; t < msg.startAt + msg.durationMs; t += 200) recordStaleness(c.staleness(msg.runId), 2, t + 3);
        facts.ok += 1;
      }
      const datums = toDatums(c.finish(visibleAt - this.delayMs));
      const messages = datums.filter((d) => d.MetricName === METRIC.messages);
      const rest = datums.filter((d) => d.MetricName !== METRIC.messages);
      this.cloudwatch.put(NS, messages);
      if (this.statementsLagMs > 0) this.late.push({ datums: rest, visibleAt: this.clock.now() + this.statementsLagMs });
      else this.cloudwatch.put(NS, rest);
    }
  }

  private runSlice(msg: SliceMessage, c: Collector): void {
    const n = Math.floor((msg.rate * msg.durationMs) / 1000);
    const total = msg.mix.reduce((a, m) => a + m.weight, 0);
    let credit = msg.mix.map(() => 0);
    for (let i = 0; i < n; i++) {
      // Smooth weighted round robin, as the worker interleaves its mix.
      credit = credit.map((x, j) => x + msg.mix[j]!.weight);
      const best = credit.indexOf(Math.max(...credit));
      credit[best]! -= total;
      const op = msg.mix[best]!.op;
      const target = operationsOf(msg.workload).find((o) => o.op === op)!.target;
      const at = msg.startAt + (i * 1000) / msg.rate + 1;
      const s = c.op(msg.runId, msg.workload, op, target);
      if (target === 'writer' && this.writerDown(at)) recordError(s, '08', at, 0.1);
      else recordSuccess(s, 1, target === 'reader' ? 'standby' : 'primary', at, 0.1);
    }
  }
}

describe('trigger: a run in AWS, against mocked SQS, CloudFormation and CloudWatch', function () {
  this.timeout(60_000);
  const sqsMock = mockClient(SQSClient);
  const cfnMock = mockClient(CloudFormationClient);
  const cwMock = mockClient(CloudWatchClient);
  const rdsMock = mockClient(RDSClient);
  const dir = mkdtempSync(join(tmpdir(), 'trigger-aws-'));
  const env = { ...process.env };
  let clock: FakeClock;
  let worker: FakeWorker;
  let deadLetters: number[];

  const outputs = (extra: Record<string, string> = {}) => ({ Stacks: [{ StackName: 'LoadTest-Load', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE' as const, Outputs: Object.entries({
    [STACK_OUTPUT.queueUrl]: QUEUE, [STACK_OUTPUT.deadLetterQueueUrl]: DLQ, [STACK_OUTPUT.workerMaxConcurrency]: '3', [STACK_OUTPUT.workerPoolMax]: '4',
    [STACK_OUTPUT.metricNamespace]: NS, ...extra,
  }).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }] });

  /** Start a test with the worker reporting `delayMs` after each slice ends; the DLQ reads these depths in turn. */
  function world(delayMs = 0, dlqDepths: number[] = [0]): void {
    clock = new FakeClock(T0);
    worker = new FakeWorker(clock, delayMs);
    deadLetters = [...dlqDepths];
  }

  before(() => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret';
  });
  beforeEach(() => {
    for (const m of [sqsMock, cfnMock, cwMock, rdsMock]) m.reset();
    world();
    cfnMock.on(DescribeStacksCommand).resolves(outputs());
    sqsMock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
      worker.receive(input.Entries!.map((e) => e.MessageBody!));
      return { Successful: input.Entries!.map((e) => ({ Id: e.Id!, MessageId: 'x', MD5OfMessageBody: '' })), Failed: [] };
    });
    sqsMock.on(GetQueueAttributesCommand).callsFake((input: GetQueueAttributesCommandInput) => {
      const n = input.QueueUrl === DLQ ? (deadLetters.length > 1 ? deadLetters.shift()! : deadLetters[0]!) : 0;
      return { Attributes: { ApproximateNumberOfMessages: String(n), ApproximateNumberOfMessagesNotVisible: '0' } };
    });
    cwMock.on(ListMetricsCommand).resolves({ Metrics: [] });
    cwMock.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
      worker.flush();
      return worker.cloudwatch.getMetricData(input);
    });
  });
  after(() => {
    for (const m of [sqsMock, cfnMock, cwMock, rdsMock]) m.restore();
    process.env = env;
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (...argv: string[]) => {
    const io = captureIo(dir, clock);
    const code = await main([...argv, '--region', 'eu-west-1', '--json'], io);
    return { code, io, summary: io.stdout.length ? JSON.parse(io.stdout.join('\n')) as RunJson : undefined };
  };

  it('finds the queue in the stack, sends validated slices, and summarises what the workers measured from CloudWatch', async () => {
    const { code, io, summary } = await run('--reader', '--rate', '10', '--duration', '2s', '--start-lead', '0', '--run-id', 'aws-1', '--threshold', 'p99<5ms');
    expect(code, io.stderr.join('\n')).to.equal(0);
    const bodies = sqsMock.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => e.MessageBody!));
    expect(bodies).to.have.length(1);
    expect(parseMessage(bodies[0]!, clock.now()) as SliceMessage).to.deep.include({ kind: 'slice', runId: 'aws-1', rate: 10, durationMs: 2000, mix: [{ op: 'select', weight: 80, hash: hashOf('seed', 'select') }] });
    expect(summary!.source).to.equal('cloudwatch');
    expect(summary!.incomplete).to.equal(null);
    expect(summary!.achieved.statements).to.equal(20);
    expect(summary!.operations[0]!.answeredBy).to.deep.equal({ primary: 0, standby: 20 });
    expect(summary!.thresholds).to.deep.equal([{ threshold: 'p99<5ms', ok: true, actual: `${summary!.operations[0]!.latency!.p99.toFixed(2)} ms (select/reader)` }]);
    const namespaces = cwMock.commandCalls(GetMetricDataCommand).flatMap((c) => c.args[0].input.MetricDataQueries!.map((q) => q.MetricStat!.Metric!.Namespace));
    expect(new Set(namespaces)).to.deep.equal(new Set([NS]));
    expect(cwMock.commandCalls(ListMetricsCommand)).to.have.length(0);
  });

  it('reads back every script of the mix under the name and target the workload catalog gives it', async () => {
    const { code, io, summary } = await run('--workload', 'tpcb', '--mix', 'tpcb=1,select-only=3', '--rate', '20', '--duration', '2s', '--start-lead', '0', '--run-id', 'aws-tpcb');
    expect(code, io.stderr.join('\n')).to.equal(0);
    const got = summary!.operations.map((o) => [o.op, o.target, o.ok]).sort();
    expect(got).to.deep.equal([['select-only', 'reader', 30], ['tpcb', 'writer', 10]]);
  });

  it('sends the staleness probe through the same queue with a mixed load, and reads its staleness back from CloudWatch', async () => {
    const { code, io, summary } = await run('--rate', '50', '--duration', '2s', '--start-lead', '0', '--run-id', 'aws-probe');
    expect(code, io.stderr.join('\n')).to.equal(0);
    const bodies = sqsMock.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => e.MessageBody!));
    expect(bodies.map((b) => parseMessage(b, clock.now()).kind).sort()).to.deep.equal(['probe', 'slice']);
    expect(summary!.staleness).to.deep.include({ seen: 10, unseen: 0, failed: 0 });
    expect(summary!.staleness!.ms!.p99).to.be.closeTo(2, 0.05);
  });

  it('waits until the message outcomes add up to what was sent, then counts every statement', async () => {
    world(90_000);
    const { code, io, summary } = await run('--rate', '100', '--duration', '3s', '--start-lead', '0', '--run-id', 'aws-late', '--no-staleness-probe');
    expect(code, io.stderr.join('\n')).to.equal(0);
    expect(io.stderr.some((l) => /^waiting for CloudWatch: 0 of 1 messages reported done/.test(l))).to.equal(true);
    expect(summary!.incomplete).to.equal(null);
    expect(summary!.achieved.statements).to.equal(300);
  });

  it('says plainly when the outcomes are not all in when its wait ends, and then fails every threshold (exit 1)', async () => {
    world(0);
    worker.lose = 1;
    const { code, summary } = await run('--rate', '150', '--duration', '2s', '--start-lead', '0', '--run-id', 'aws-lost', '--threshold', 'errors<1%', '--no-staleness-probe');
    expect(code).to.equal(1);
    expect(summary!.incomplete).to.match(/^1 of 2 messages reported done after waiting 11m32s; node trigger report --run aws-lost --refresh reads CloudWatch again$/);
    expect(summary!.thresholds[0]).to.deep.include({ ok: false });
    expect(summary!.thresholds[0]!.actual).to.match(/^not checked: the summary is incomplete/);
  });

  it('waits as long as a message failing every receive may take: outcomes 11 minutes late still complete the run', async () => {
    // 5 + 15 + 30 + 60 + 120 s between 6 receives, each of which may wait for a paused cluster and time out.
    world(11 * 60_000);
    const { code, io, summary } = await run('--rate', '150', '--duration', '2s', '--start-lead', '0', '--threshold', 'errors<1%', '--no-staleness-probe');
    expect(code, io.stderr.join('\n')).to.equal(0);
    expect(summary!.incomplete).to.equal(null);
    expect(summary!.messages).to.deep.include({ sent: 2, ok: 2 });
  });

  it('passes dlq<1 when other runs\' messages reach the dead-letter queue during the run, and notes the queue\'s growth', async () => {
    // Stragglers of an earlier run: the queue grows by 2 while none of this run's messages fails.
    world(0, [7, 9]);
    const { code, io, summary } = await run('--rate', '150', '--duration', '2s', '--start-lead', '0', '--run-id', 'aws-dlq', '--threshold', 'dlq<1');
    expect(code, io.stderr.join('\n')).to.equal(0);
    expect(summary!.messages.deadLettered).to.equal(0);
    expect(summary!.thresholds[0]).to.deep.include({ ok: true, actual: '0' });
    expect(summary!.notes.some((n) => /^the dead-letter queue grew by 2 during the run, while the workers dead-lettered 0 of this run's messages/.test(n))).to.equal(true);
  });

  it('counts a message the workers dead-lettered as done for completeness, and fails dlq<1 with it', async () => {
    world(0, [3, 4]);
    worker.deadLetter = 1;
    const { code, summary } = await run('--rate', '150', '--duration', '2s', '--start-lead', '0', '--run-id', 'aws-dlq-own', '--threshold', 'dlq<1', '--no-staleness-probe');
    expect(code).to.equal(1);
    expect(summary!.incomplete).to.equal(null);
    expect(summary!.messages).to.deep.include({ sent: 2, ok: 1, failed: 1, deadLettered: 1 });
    expect(summary!.thresholds[0]).to.deep.include({ ok: false, actual: '1' });
    expect(summary!.notes.filter((n) => /dead-letter queue grew/.test(n))).to.deep.equal([]);
  });

  it('reads the summary again until the statement counts stop changing: datums that show after the message outcomes are counted', async () => {
    world(0);
    worker.statementsLagMs = 5_000;
    const { code, io, summary } = await run('--rate', '100', '--duration', '3s', '--start-lead', '0', '--run-id', 'aws-stable', '--no-staleness-probe');
    expect(code, io.stderr.join('\n')).to.equal(0);
    expect(summary!.incomplete).to.equal(null);
    expect(summary!.achieved.statements).to.equal(300);
    expect(summary!.notes.filter((n) => /still growing/.test(n))).to.deep.equal([]);
  });

  it('saves the run so that report --run ID prints exactly what it printed, and --refresh reads CloudWatch again', async () => {
    const first = await run('--reader', '--rate', '10', '--duration', '1s', '--start-lead', '0', '--run-id', 'aws-saved', '--threshold', 'errors<1%');
    const calls = cwMock.commandCalls(GetMetricDataCommand).length;
    const again = await run('report', '--run', 'aws-saved');
    expect(again.io.stdout).to.deep.equal(first.io.stdout);
    expect(cwMock.commandCalls(GetMetricDataCommand)).to.have.length(calls);
    const refreshed = await run('report', '--run', 'aws-saved', '--refresh');
    expect(refreshed.code).to.equal(0);
    expect(cwMock.commandCalls(GetMetricDataCommand).length).to.be.greaterThan(calls);
    expect(refreshed.summary!.achieved.statements).to.equal(first.summary!.achieved.statements);
    const record = (await new RunStore(join(dir, '.runs')).load('aws-saved'))!;
    expect(record.timeline.stepSeconds).to.equal(1);
    expect(record.facts.plan.perSecond).to.deep.equal([10]);
  });

  it('refuses a plan that needs more workers than the worker may run at once, before sending anything', async () => {
    const { code, io } = await run('--rate', '1000', '--duration', '10s');
    expect(code).to.equal(2);
    // 10 workers for the load, and one invocation for the staleness probe.
    expect(io.stderr.at(-1)).to.match(/^error: plan needs 11 invocations at once at its peak \(10 workers \+ 1 staleness probe\) but the maximum concurrency is 3: about 2 workers fit .*; --no-staleness-probe frees one\)/);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).to.have.length(0);
  });

  it('refuses a plan over --max-connections, before sending anything', async () => {
    const { code, io } = await run('--rate', '300', '--duration', '10s', '--max-connections', '20', '--no-staleness-probe');
    expect(code).to.equal(2);
    expect(io.stderr.at(-1)).to.match(/^error: plan needs 3 invocations at the peak x 8 connections \(pool of 4 x 2 endpoint\(s\)\) = 24, but max_connections is 20/);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).to.have.length(0);
  });

  it('stop --yes purges the queue found in the stack', async () => {
    sqsMock.on(PurgeQueueCommand).resolves({});
    const io = captureIo(dir);
    expect(await main(['stop', '--yes', '--region', 'eu-west-1'], io)).to.equal(0);
    expect(sqsMock.commandCalls(PurgeQueueCommand)[0]!.args[0].input).to.deep.equal({ QueueUrl: QUEUE });
  });

  it('init reads its outcome with one query per message outcome', async () => {
    cwMock.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
      MetricDataResults: input.MetricDataQueries!.map((q) => ({
        Id: q.Id, Timestamps: [input.StartTime], Values: q.MetricStat!.Metric!.Dimensions!.some((d) => d.Value === 'ok') ? [1] : [],
      })),
    }));
    const io = captureIo(dir, clock);
    expect(await main(['init', '--workload', 'tpcb', '--region', 'eu-west-1'], io), io.stderr.join('\n')).to.equal(0);
    expect(io.stdout[0]).to.match(/^init init-\S+ done: the worker created and loaded the schema$/);
    const queries = cwMock.commandCalls(GetMetricDataCommand).flatMap((c) => c.args[0].input.MetricDataQueries!);
    expect(queries.map((q) => q.MetricStat!.Metric!.MetricName)).to.deep.equal(MESSAGE_OUTCOMES.map(() => METRIC.messages));
  });

  describe('failover drill (--failover-at)', () => {
    const withCluster = (): void => {
      cfnMock.on(DescribeStacksCommand).resolves(outputs({ [STACK_OUTPUT.dbClusterIdentifier]: 'loadtest-db' }));
    };
    const drill = ['--reader', '--writer', '--rate', '10', '--start-lead', '0', '--run-id', 'drill-1'];

    it('refuses in bring-your-own mode (no cluster output) with one line and exit 2, before sending or calling RDS', async () => {
      const { code, io } = await run(...drill, '--duration', '3s', '--failover-at', '1s');
      expect(code).to.equal(2);
      expect(io.stderr.at(-1)).to.equal(`error: ${FAILOVER_NEEDS_CLUSTER}`);
      expect(sqsMock.commandCalls(SendMessageBatchCommand)).to.have.length(0);
      expect(rdsMock.calls()).to.have.length(0);
    });

    it('refuses a cluster with no reader instance to fail over to, before sending anything', async () => {
      withCluster();
      rdsMock.on(DescribeDBClustersCommand).resolves(cluster('available', 'db-a'));
      const { code, io } = await run(...drill, '--duration', '3s', '--failover-at', '1s');
      expect(code).to.equal(2);
      expect(io.stderr.at(-1)).to.equal('error: --failover-at: the Aurora cluster loadtest-db has no reader instance to fail over to');
      expect(sqsMock.commandCalls(SendMessageBatchCommand)).to.have.length(0);
      expect(rdsMock.commandCalls(FailoverDBClusterCommand)).to.have.length(0);
    });

    it('fails the stack\'s cluster over at load start + --failover-at and reports the outage read per second from CloudWatch', async () => {
      withCluster();
      let failoverAt = 0;
      rdsMock.on(DescribeDBClustersCommand).callsFake(() => (failoverAt ? cluster('available', 'db-b', 'db-a') : cluster('available', 'db-a', 'db-b')));
      rdsMock.on(FailoverDBClusterCommand).callsFake(() => { failoverAt = clock.now(); return {}; });
      // The writer fails from the failover to the end of the next whole second.
      worker.writerDown = (at) => failoverAt > 0 && at >= failoverAt && at < (Math.floor(failoverAt / 1000) + 2) * 1000;
      const { code, io, summary } = await run(...drill, '--duration', '4s', '--failover-at', '1s', '--mix', 'read=50,write=50');
      expect(code, io.stderr.join('\n')).to.equal(0);
      expect(rdsMock.commandCalls(FailoverDBClusterCommand)[0]!.args[0].input).to.deep.equal({ DBClusterIdentifier: 'loadtest-db' });
      const d = summary!.drill!;
      expect(d.event).to.deep.include({ from: 'db-a', to: 'db-b' });
      expect(d.event!.startedAt - Date.parse(summary!.startedAt)).to.equal(1_000);
      const failed = summary!.operations.find((o) => o.target === 'writer')!.errors;
      expect(failed).to.be.greaterThan(0);
      expect(d.outage!.writes).to.deep.include({ firstFailureAt: failoverAt, firstSuccessAfter: (Math.floor(failoverAt / 1000) + 2) * 1000, failedStatements: failed });
      expect(d.outage!.reads).to.deep.include({ firstFailureAt: null, downtimeMs: 0 });
      expect(d.outage!.errorsByClass).to.deep.equal({ '08': failed });
    });

    it('labels the instances by their roles before the failover, and says which was the writer before and after it', async () => {
      withCluster();
      let failedOver = false;
      rdsMock.on(DescribeDBClustersCommand).callsFake(() => (failedOver ? cluster('available', 'db-b', 'db-a') : cluster('available', 'db-a', 'db-b')));
      rdsMock.on(FailoverDBClusterCommand).callsFake(() => { failedOver = true; return {}; });
      const { code, io, summary } = await run(...drill, '--run-id', 'drill-roles', '--duration', '3s', '--failover-at', '1s');
      expect(code, io.stderr.join('\n')).to.equal(0);
      const record = (await new RunStore(join(dir, '.runs')).load('drill-roles'))!;
      expect(record.database!.servers.map((x) => [x.name, x.role])).to.deep.equal([['db-a', 'writer'], ['db-b', 'reader']]);
      expect(summary!.database!.writer).to.deep.equal({ before: 'db-a', after: 'db-b' });
      const text = captureIo(dir, clock);
      await main(['report', '--run', 'drill-roles'], text);
      expect(text.stdout.join('\n')).to.contain('  writer: db-a before the failover drill, db-b after it');
    });

    it('says which instance was the writer before and after the failover in the HTML report too', async () => {
      withCluster();
      let failedOver = false;
      rdsMock.on(DescribeDBClustersCommand).callsFake(() => (failedOver ? cluster('available', 'db-b', 'db-a') : cluster('available', 'db-a', 'db-b')));
      rdsMock.on(FailoverDBClusterCommand).callsFake(() => { failedOver = true; return {}; });
      const html = join(dir, 'drill-roles.html');
      const { code, io } = await run(...drill, '--duration', '3s', '--failover-at', '1s', '--html', html);
      expect(code, io.stderr.join('\n')).to.equal(0);
      const page = readFileSync(html, 'utf8');
      // In the database section, beside where the figures come from (the text summary is in the page too).
      expect(page).to.match(/<p class="muted">[^<]*, writer: db-a before the failover drill, db-b after it\.<\/p>/);
    });

    it('keeps the run when the failover fails: the summary is printed with the reason as a note', async () => {
      withCluster();
      rdsMock.on(DescribeDBClustersCommand).resolves(cluster('available', 'db-a', 'db-b'));
      rdsMock.on(FailoverDBClusterCommand).rejects(new InvalidDBClusterStateFault({ message: 'Cluster is being modified.', $metadata: {} }));
      const { code, io, summary } = await run(...drill, '--duration', '2s', '--failover-at', '1s');
      expect(code, io.stderr.join('\n')).to.equal(0);
      expect(summary!.achieved.statements).to.equal(20);
      expect(summary!.drill).to.deep.equal({ kind: 'failover' });
      expect(summary!.notes.some((n) => /^the failover drill failed: failover of loadtest-db failed: InvalidDBClusterStateFault: Cluster is being modified\./.test(n))).to.equal(true);
    });
  });
});
