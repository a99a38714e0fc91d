import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** Run `node trigger ...` as a user would, with an environment that has no AWS at all. */
function trigger(...args: string[]) {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: '/nonexistent-home',
    AWS_CONFIG_FILE: '/nonexistent/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_REGION: 'eu-west-1',
  };
  const r = spawnSync(process.execPath, ['trigger', ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.trim() };
}

describe('trigger: the real process', () => {
  it('exits 2 with one line for an unknown workload', () => {
    const r = trigger('--workload', 'tpcc');
    expect(r.code).to.equal(2);
    expect(r.stderr.split('\n')).to.have.length(1);
    expect(r.stderr).to.match(/^error: --workload "tpcc" is unknown: use .*seed.* \(a folder of workloads\/\)$/);
  });

  it('exits 2 with one line for a bad duration', () => {
    const r = trigger('--local', '--duration', 'soon');
    expect(r.code).to.equal(2);
    expect(r.stderr.split('\n')).to.have.length(1);
    expect(r.stderr).to.contain('--duration "soon" is not a duration');
  });

  it('exits 2 with one line for an unknown option, with a suggestion', () => {
    const r = trigger('--reader', '--rat', '5');
    expect(r.code).to.equal(2);
    expect(r.stderr).to.equal("error: unknown option '--rat' (Did you mean --rate?)");
  });

  it('exits 2 with one line and no stack trace when nothing is deployed and nothing given', () => {
    const r = trigger('--reader', '--writer', '--rate', '5', '--duration', '10s');
    expect(r.code).to.equal(2);
    const lines = r.stderr.split('\n');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/^error: Cannot look up the deployed load test \(stack LoadTest-Load\): no AWS credentials found/);
    expect(lines[0]).to.contain('pass --queue-url URL, or run on this machine with --local');
    expect(r.stderr).not.to.match(/\bat .*\.ts:\d+/);
  });

  it('accepts the pipeline\'s post-deploy command line and fails only on the missing credentials', () => {
    const r = trigger('--reader', '--writer', '--rate', '5', '--duration', '10s', '--queue-url', 'https://sqs.eu-west-1.amazonaws.com/123456789012/LoadTest-Queue', '--threshold', 'errors<1%');
    expect(r.code).to.equal(2);
    const lines = r.stderr.split('\n');
    expect(lines[0]).to.match(/^run run-\S+: slice mode: 1 worker\(s\) x 5\/s = 5\/s/);
    expect(lines.at(-1)).to.match(/^error: cannot send to https:\/\/sqs\.eu-west-1\.amazonaws\.com\/123456789012\/LoadTest-Queue: CredentialsProviderError/);
  });

  it('exits 0 without a stack trace when the reader of its output goes away (node trigger --help | head -1)', () => {
    const r = spawnSync('sh', ['-c', `"${process.execPath}" trigger --help | head -1; exit "\${PIPESTATUS:-0}"`], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout.trim()).to.match(/^Usage: node trigger/);
    expect(r.stderr).to.equal('');
  });

  it('prints --help with exit code 0', () => {
    const r = trigger('--help');
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain('Usage: node trigger');
  });
});
