import { expect } from 'chai';
import { UsageError } from '../../trigger/errors';
import { formatDuration, parseDuration } from '../../trigger/options/duration';
import { redactUrl } from '../../trigger/options/host';
import { parseMix } from '../../trigger/options/mix';
import { regionOfQueueUrl, resolveRunOptions, type RawRunOptions } from '../../trigger/options/run-options';
import { main } from '../../trigger/cli';
import { captureIo } from './helpers/capture-io';

/** Resolve and expect a UsageError whose message is one line and matches. */
function refuses(raw: RawRunOptions, pattern: RegExp): void {
  let err: unknown;
  try {
    resolveRunOptions(raw);
  } catch (e) {
    err = e;
  }
  expect(err, JSON.stringify(raw)).to.be.instanceOf(UsageError);
  expect((err as Error).message).not.to.contain('\n');
  expect((err as Error).message).to.match(pattern);
}

describe('trigger: run options', () => {
  describe('flag mistakes are one-line usage errors', () => {
    it('unknown workload', () => refuses({ workload: 'tpcc' }, /^--workload "tpcc" is unknown: use [a-z, -]*seed[a-z, -]* or [a-z-]+ \(a folder of workloads\/\)$/));
    it('mix entry that is not name=weight', () => refuses({ mix: 'read80' }, /--mix entry "read80" is not name=weight/));
    it('mix naming an op the workload does not have', () => refuses({ mix: 'read=50,delete=50' }, /neither read, write nor a script of seed \(insert on the writer, select on the reader\)/));
    it('mix with all weights 0', () => refuses({ mix: 'read=0,write=0' }, /leaves nothing to run/));
    it('mix with writes when only --reader was given', () => refuses({ reader: true, mix: 'read=80,write=20' }, /--writer was not given/));
    it('rate of 0', () => refuses({ rate: '0' }, /--rate must be a rate above 0/));
    it('negative rate', () => refuses({ rate: '-10' }, /--rate must be/));
    it('rate that is not a number', () => refuses({ rate: 'fast' }, /--rate must be/));
    it('duration without a unit it knows', () => refuses({ duration: '10 minutes' }, /--duration "10 minutes" is not a duration/));
    it('duration under a second', () => refuses({ duration: '500ms' }, /at least 1s/));
    it('ramp longer than the run', () => refuses({ duration: '1m', ramp: '2m' }, /--ramp .* is longer than --duration/));
    it('--reader with a bad host', () => refuses({ reader: 'not a host' }, /--reader "not a host" is not a host name/));
    it('--writer with a URL instead of a host', () => refuses({ writer: 'postgres://u:secret@db:5432/x' }, /takes a host name, not a URL/));
    it('--reader HOST with --local', () => refuses({ local: true, reader: 'db.example.com' }, /local runs use the embedded servers or --reader-url/));
    it('only one of --writer-url / --reader-url', () => refuses({ local: true, writerUrl: 'postgres://u:p@h/db' }, /^give both --writer-url and --reader-url/));
    it('--writer-url and --reader-url with different users', () => refuses({ local: true, writerUrl: 'postgres://a:p@h/db', readerUrl: 'postgres://b:p@h2/db' }, /the same user, password and database/));
    it('--writer-url without --local', () => refuses({ writerUrl: 'postgres://h/db', readerUrl: 'postgres://h2/db' }, /is for local runs: add --local/));
    it('--writer-url that is not postgres://', () => refuses({ local: true, writerUrl: 'mysql://h/db', readerUrl: 'postgres://h/db' }, /must be a postgres:\/\/ URL/));
    it('--queue-url with --local', () => refuses({ local: true, queueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/q' }, /--queue-url is for runs in AWS/));
    it('--queue-url that is not a URL', () => refuses({ queueUrl: 'my-queue' }, /--queue-url "my-queue" is not a URL/));
    it('--queue-url with a dlq threshold: the gate judges the stack\'s own queue', () => refuses(
      { queueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/q', threshold: ['dlq<1'] },
      /^--threshold dlq<1 judges the stack's own queue: drop --queue-url and name the stack with --stack NAME \(default LoadTest-Load\)$/,
    ));
    it('--region that is not a region', () => refuses({ region: 'Europe' }, /--region "Europe" is not an AWS region/));
    it('unknown mode', () => refuses({ mode: 'burst' }, /--mode "burst" is unknown/));
    it('--count in slice mode', () => refuses({ count: '5' }, /--count is for --mode statements/));
    it('--count over the protocol limit', () => refuses({ mode: 'statements', count: '20000' }, /--count must be at most 10000/));
    it('--workers in statements mode', () => refuses({ mode: 'statements', workers: '4' }, /--workers is for --mode slice/));
    it('--workers too few for the rate', () => refuses({ rate: '20000', workers: '2' }, /over the worker's limit of 5000\/s: use --workers 4/));
    it('--concurrency of 0', () => refuses({ concurrency: '0' }, /--concurrency must be a whole number above 0/));
    it('--run-id with spaces', () => refuses({ runId: 'my run' }, /--run-id "my run" must be/));
    it('--threshold on an unknown metric', () => refuses({ threshold: ['p95<10ms'] }, /unknown metric "p95"/));
    it('--threshold that is not metric<value', () => refuses({ threshold: ['p99 under 5'] }, /is not metric<value/));
    it('--threshold giving latency in percent', () => refuses({ threshold: ['p99<5%'] }, /p99 is a latency/));
    it('--late-limit over the protocol limit', () => refuses({ lateLimit: '2m' }, /--late-limit must be between/));
    it('--max-concurrency under the event source\'s minimum', () => refuses({ maxConcurrency: '1' }, /--max-concurrency must be at least 2 \(the event source's MaximumConcurrency is 2-1000\)/));
    it('--max-concurrency over its maximum', () => refuses({ maxConcurrency: '1200' }, /--max-concurrency must be at most 1000/));
    it('--dry-run with --failover-at', () => refuses({ dryRun: true, failoverAt: '10s' }, /--dry-run sends nothing, so there is no load to fail over under/));
  });

  it('models the event source\'s scale-up unless --no-scale-up, and honours a --start-lead given', () => {
    const q = 'https://sqs.eu-west-1.amazonaws.com/123456789012/q';
    expect(resolveRunOptions({ queueUrl: q })).to.include({ scaleUp: true, dryRun: false, startLeadGiven: false });
    expect(resolveRunOptions({ queueUrl: q, scaleUp: false, dryRun: true, startLead: '30s', maxConcurrency: '200' })).to.include({ scaleUp: false, dryRun: true, startLeadGiven: true, startLeadMs: 30_000, maxConcurrency: 200 });
  });

  it('reads both --reader and --writer as bare flags (the post-deploy smoke test)', () => {
    const s = resolveRunOptions({ reader: true, writer: true, rate: '5', duration: '10s', stack: 'LoadTest-Load', threshold: ['errors<1%', 'dlq<1'] });
    expect(s.where).to.equal('aws');
    expect(s.aws).to.deep.equal({ stack: 'LoadTest-Load' });
    expect([...s.kinds].sort()).to.deep.equal(['read', 'write']);
    expect(s.hosts).to.equal(undefined);
    expect(s).to.include({ rate: 5, durationMs: 10_000, mode: 'slice' });
    expect(s.thresholds.map((t) => t.text)).to.deep.equal(['errors<1%', 'dlq<1']);
  });

  it('makes --reader alone a read-only run, dropping writes from the default mix', () => {
    const s = resolveRunOptions({ reader: true });
    expect(s.mix).to.deep.equal([{ op: 'select', weight: 80 }]);
  });

  it('sends both kinds of traffic when neither --reader nor --writer is given', () => {
    expect(resolveRunOptions({}).mix.map((m) => m.op).sort()).to.deep.equal(['insert', 'select']);
  });

  it('keeps explicit hosts, lower-cased, for the message hosts field', () => {
    expect(resolveRunOptions({ reader: 'Replica-2.Example.com', writer: true }).hosts).to.deep.equal({ reader: 'replica-2.example.com' });
  });

  it('defaults local runs to 200/s for 20 s and AWS runs to 100/s for 60 s', () => {
    expect(resolveRunOptions({ local: true })).to.include({ rate: 200, durationMs: 20_000, startLeadMs: 2_000 });
    expect(resolveRunOptions({})).to.include({ rate: 100, durationMs: 60_000, startLeadMs: 5_000 });
  });

  it('parses durations in ms, s, m, h and combinations', () => {
    expect(parseDuration('90s', '--d')).to.equal(90_000);
    expect(parseDuration('5m', '--d')).to.equal(300_000);
    expect(parseDuration('1h', '--d')).to.equal(3_600_000);
    expect(parseDuration('1m30s', '--d')).to.equal(90_000);
    expect(parseDuration('250', '--d')).to.equal(250);
  });

  it('accepts op names in --mix and sums repeated entries', () => {
    expect(parseMix('tpcb=1,select-only=3,read=1', 'tpcb', new Set(['read', 'write']), true)).to.deep.equal([
      { op: 'tpcb', weight: 1 }, { op: 'select-only', weight: 4 },
    ]);
  });

  it('redacts the password of any URL it echoes', () => {
    expect(redactUrl('postgres://alice:s3cret@db:5432/app')).to.equal('postgres://alice:***@db:5432/app');
    expect(redactUrl('postgres://alice:s3cret@[bad')).not.to.contain('s3cret');
  });

  it('writes durations back as people write them', () => {
    expect([250, 1_000, 2_500, 90_000, 3_600_000].map(formatDuration)).to.deep.equal(['250ms', '1s', '2.5s', '1m30s', '1h']);
  });

  it('finds the region in an SQS queue URL', () => {
    expect(regionOfQueueUrl('https://sqs.ap-southeast-2.amazonaws.com/123456789012/q')).to.equal('ap-southeast-2');
    expect(regionOfQueueUrl('http://localhost:9324/q')).to.equal(undefined);
  });
});

describe('trigger: CLI parsing', () => {
  for (const argv of [
    ['--ratee', '5'],
    ['--rate'],
    ['--mode', 'burst'],
    ['frobnicate'],
    ['--workload', 'tpcc'],
    ['report', '--run', 'bad id!'],
    ['stop'],
    ['init', '--workload', 'nope'],
    ['init', '--scale', '0'],
    ['init', '--local', '--reader-url', 'postgres://u:secret@h/db'],
    ['drill', 'writer-down'],
  ]) {
    it(`prints one error line and returns 2 for: ${argv.join(' ')}`, async () => {
      const io = captureIo('/nonexistent-dir-for-tests');
      const code = await main(argv, io);
      expect(code).to.equal(2);
      expect(io.stderr).to.have.length(1);
      expect(io.stderr[0]).to.match(/^error: /);
      expect(io.stderr[0]).not.to.contain('\n');
      expect(io.stdout).to.deep.equal([]);
    });
  }

  it('asks for --yes before purging', async () => {
    const io = captureIo();
    expect(await main(['stop'], io)).to.equal(2);
    expect(io.stderr[0]).to.contain('add --yes');
  });

  it('prints help with examples and exits 0', async () => {
    const io = captureIo();
    expect(await main(['--help'], io)).to.equal(0);
    const help = io.stdout.join('\n');
    for (const flag of ['--reader [host]', '--writer [host]', '--mix', '--ramp', '--threshold', '--local', '--queue-url', 'Examples:', '--failover-at']) {
      expect(help).to.contain(flag);
    }
  });

  it('checks both URLs in one place, with one wording, for run and init alike', async () => {
    const lines = await Promise.all([['--local', '--writer-url', 'postgres://u:p@h/db'], ['init', '--local', '--writer-url', 'postgres://u:p@h/db']].map(async (argv) => {
      const io = captureIo('/nonexistent-dir-for-tests');
      expect(await main(argv, io)).to.equal(2);
      return io.stderr[0];
    }));
    expect(lines[0]).to.equal(lines[1]);
    expect(lines[0]).to.equal('error: give both --writer-url and --reader-url (a primary and its hot standby), or neither for the embedded cluster');
  });

  for (const cmd of ['run', 'report', 'drill', 'stop', 'init']) {
    it(`has --help with examples on ${cmd}`, async () => {
      const io = captureIo();
      expect(await main([cmd, '--help'], io)).to.equal(0);
      expect(io.stdout.join('\n')).to.contain('Examples:');
    });
  }
});
