import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { RDSClient } from '@aws-sdk/client-rds';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STACK_OUTPUT } from '../../handlers/contract';
import { main } from '../../trigger/cli';
import { captureIo } from './helpers/capture-io';

const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/LoadTest-Queue';
const OFFLINE = ['--dry-run', '--queue-url', QUEUE, '--region', 'eu-west-1', '--max-concurrency', '1000', '--max-connections', '5000'];

describe('trigger: --dry-run prints the plan and what it needs, and sends nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trigger-dry-run-'));
  // Any AWS call fails the test: the SDK never reaches the network here, and a dry run must not try.
  const sqs = mockClient(SQSClient);
  const cfn = mockClient(CloudFormationClient);
  const cw = mockClient(CloudWatchClient);
  const rds = mockClient(RDSClient);
  const mocks = [sqs, cfn, cw, rds] as const;
  const calls = (): number => mocks.reduce((n, m) => n + m.calls().length, 0);
  beforeEach(() => {
    const refuse = new Error('a dry run made an AWS call');
    sqs.reset().onAnyCommand().rejects(refuse);
    cfn.reset().onAnyCommand().rejects(refuse);
    cw.reset().onAnyCommand().rejects(refuse);
    rds.reset().onAnyCommand().rejects(refuse);
  });
  after(() => {
    for (const m of mocks) m.restore();
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(...args: string[]): Promise<{ code: number; out: string; err: string[] }> {
    const io = captureIo(dir);
    const code = await main(args, io);
    return { code, out: io.stdout.join('\n'), err: io.stderr };
  }

  it('plans 20,000/s for 10 minutes in AWS offline: peak concurrency, time to full rate, connections, no AWS call', async () => {
    const { code, out, err } = await run('--rate', '20000', '--duration', '10m', ...OFFLINE);
    expect(code, err.join('\n')).to.equal(0);
    expect(out).to.match(/200 worker\(s\) x 100\/s = 20000\/s/);
    expect(out).to.match(/^peak concurrency: 20\d invocations \(200 workers \+ 1 staleness probe \+ \d handing over\); the maximum concurrency is 1000$/m);
    expect(out).to.match(/^time to full rate: \d+s after sending begins$/m);
    expect(out).to.match(/^connections: up to \d+ \(4 x 2 endpoint\(s\) per invocation\) of 4995/m);
    expect(out).to.match(/^expected skipped statements under the scale-up model: 0$/m);
    expect(calls()).to.equal(0);
    expect(readdirSync(dir), 'nothing saved').to.deep.equal([]);
  });

  it('refuses in one line, exit 2, saying what would fit, when the fleet is too small', async () => {
    const { code, err } = await run('--rate', '20000', '--duration', '10m', ...OFFLINE.slice(0, -4), '--max-concurrency', '100', '--max-connections', '5000');
    expect(code).to.equal(2);
    expect(err).to.have.length(1);
    expect(err[0]).to.match(/^error: plan needs 20\d invocations at once .* but the maximum concurrency is 100: about \d+ workers fit/);
    expect(calls()).to.equal(0);
  });

  it('prints the same as JSON with --json', async () => {
    const { code, out } = await run('--rate', '1000', '--duration', '1m', ...OFFLINE, '--json');
    expect(code).to.equal(0);
    const json = JSON.parse(out) as { dryRun: boolean; messages: number; fit: { peakConcurrency: number; fullRateAtMs: number } };
    expect(json.dryRun).to.equal(true);
    // 10 workers and the staleness probe (on by default for a mixed run).
    expect(json.fit.peakConcurrency).to.equal(11);
    expect(json.fit.fullRateAtMs).to.be.greaterThan(0);
  });

  it('reads the worker\'s limits from the stack when --max-concurrency is not given', async () => {
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [{
        StackName: 'LoadTest-Load', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE',
        Outputs: [{ OutputKey: STACK_OUTPUT.queueUrl, OutputValue: QUEUE }, { OutputKey: STACK_OUTPUT.workerMaxConcurrency, OutputValue: '3' }],
      }],
    });
    const { code, err } = await run('--rate', '1000', '--duration', '1m', '--dry-run', '--region', 'eu-west-1');
    expect(code).to.equal(2);
    expect(err[0]).to.match(/the maximum concurrency is 3/);
    expect(cfn.commandCalls(DescribeStacksCommand)).to.have.length(1);
    expect(sqs.calls()).to.have.length(0);
  });

  it('plans a local run without starting the engine', async () => {
    const { code, out, err } = await run('--local', '--dry-run', '--rate', '500', '--duration', '30s');
    expect(code, err.join('\n')).to.equal(0);
    expect(out).to.match(/^dry run, nothing sent: run \S+ to the local engine$/m);
    expect(out).to.match(/the maximum concurrency is 10$/m);
    expect(err.join('\n')).not.to.match(/starting embedded PostgreSQL/);
  });
});
