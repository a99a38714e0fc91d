import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { ExistingDatabase } from '../../app/load/existing-database';
import { Worker } from '../../app/load/worker';
import { bundleWorkloads } from '../../app/load/worker-bundling';
import { buildWorkerBundle } from '../../bench/bundle';

describe('worker bundling: the scripts travel with the worker', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'bundling-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('makes each problem of a broken workload a synth error, one file:line line each, so it never deploys', () => {
    const workloads = path.join(dir, 'workloads');
    mkdirSync(path.join(workloads, 'shop'), { recursive: true });
    writeFileSync(path.join(workloads, 'shop', 'lookup.sql'), 'SELECT 1;\n\\shell ls\n');
    writeFileSync(path.join(workloads, 'shop', 'buy.sql'), '\\set id random(1,\nUPDATE t SET a = 1;\n');
    expect(bundleWorkloads(workloads, path.join(dir, 'out')).catalog.problems.map((p) => p.line)).to.deep.equal([
      'workloads/shop/buy.sql:1: \\set: unexpected end of expression (column 10 of "random(1,")',
      'workloads/shop/lookup.sql:2: \\shell is not supported: the worker runs no commands (a script is code that runs in Lambda)',
    ]);
    const app = new App({ outdir: path.join(dir, 'cdk.out'), context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Broken', { env: { account: '111111111111', region: 'eu-west-1' } });
    const db = new ExistingDatabase(stack, 'Db', {
      mode: 'existing', secretName: 'db', securityGroupIds: ['sg-0123456789abcdef0'], subnetIds: ['subnet-0aaaaaaaaaaaaaaa1'], vpcId: 'vpc-0123456789abcdef0',
      writerEndpoint: 'w.example.com', readerEndpoint: 'r.example.com', port: 5432, databaseName: 'postgres',
    });
    new Worker(stack, 'Worker', { placement: db.placement, database: db.target, maxConcurrency: 2, poolMax: 2, metricNamespace: 'T', workloadsDir: workloads });
    const errors = Annotations.fromStack(stack).findError('/Broken/Worker', Match.anyValue());
    expect(errors.map((e) => e.entry.data)).to.deep.equal([
      'workloads/shop/buy.sql:1: \\set: unexpected end of expression (column 10 of "random(1,")',
      'workloads/shop/lookup.sql:2: \\shell is not supported: the worker runs no commands (a script is code that runs in Lambda)',
    ]);
  });

  it('builds a bundle that carries workloads/ and loads it at cold start without reading a file', async () => {
    const out = path.join(dir, 'bundle');
    const { file } = await buildWorkerBundle(out);
    expect(readFileSync(file, 'utf8')).to.include('"tpcb/tpcb.sql":');
    // Required outside the project (no workloads/ and no node_modules near it), with the environment the stack sets.
    const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], {
      cwd: dir,
      env: { PATH: process.env.PATH, DB_WRITER_HOST: 'writer.example.com', DB_READER_HOST: 'reader.example.com', DB_SECRET_ID: 'secret', AWS_REGION: 'eu-west-1' },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).to.equal(0);
  });

  it('carries the AWS SDK version the tests ran, never the runtime\'s copy', async () => {
    const { file } = await buildWorkerBundle(path.join(dir, 'bundle-sdk'));
    const source = readFileSync(file, 'utf8');
    // What is left to require is what no installed package provides: the SDK's optional signers
    // (signature-v4-crt, signature-v4a), which it requires inside a try and does without.
    const leftToRequire = [...source.matchAll(/require\(["'](@aws-sdk\/[^"']+)["']\)/g)].map((m) => m[1]!);
    const installed = leftToRequire.filter((name) => existsSync(path.resolve(__dirname, '..', '..', 'node_modules', name)));
    expect(installed).to.deep.equal([]);
    // The clients the worker makes on first use are in it.
    for (const command of ['GetSecretValueCommand', 'PutMetricDataCommand', 'ChangeMessageVisibilityBatchCommand']) expect(source).to.include(command);
  });

  it('builds the SDK from its ES modules and leaves Node\'s ES module loader out of a cold start', async () => {
    const { file } = await buildWorkerBundle(path.join(dir, 'bundle-esm'));
    const source = readFileSync(file, 'utf8');
    // Only the ES modules let esbuild leave out the browser user-agent parser the CommonJS build carries.
    expect(source).not.to.include('bowser');
    // An import() in a CommonJS bundle starts Node's ES module loader: none is left.
    expect(source.match(/\bimport\(/g) ?? []).to.deep.equal([]);
  });
});
