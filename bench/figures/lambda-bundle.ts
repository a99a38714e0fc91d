/**
 * The figures of the worker as Lambda runs it: the bundle the pipeline builds (bundleBytes), the
 * time from a fresh `node` process to its first handled message (coldInitMs), and the peak RSS of
 * a worker running a long slice (peakRssMb). The last two run the bundle in a child process under
 * bench/harness/worker-harness.cjs, with the worker's own environment variables pointing at the
 * local cluster, and Secrets Manager and CloudWatch at a loopback stub: no network at all.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import * as path from 'node:path';
import { ENV } from '../../handlers/config';
import { Histogram } from '../../handlers/metrics/histogram';
import { METRIC } from '../../handlers/contract';
import type { LocalCluster } from '../../trigger/local/cluster';
import { startAwsStub, type AwsStub } from '../aws-stub';
import { buildWorkerBundle, type BundleResult } from '../bundle';
import { pemBlocks } from '../../handlers/db/trust';
import { projectCatalog } from '../../handlers/workloads/project';
import { enableWriterTls, testCa } from '../../test/helpers/test-ca';
import { settle } from '../lib/bench-worker';
import { lambdaNode } from '../lib/lambda-node';
import { cpuWindow } from '../lib/proc';
import { makeRow, median, round, type Row } from '../lib/report';

const HARNESS = path.join(__dirname, '..', 'harness', 'worker-harness.cjs');
const SECRET_ID = 'bench/aurora-load-test';

interface HarnessResult {
  readonly loadStartMs: number;
  readonly loadedMs: number;
  readonly handledMs: number;
  readonly failures: number;
  readonly maxRssKiB: number;
  readonly cpuMs: number;
  /** Parent's view: spawn to the result line, ms. */
  readonly wallMs: number;
}

/** The worker's environment as the stack sets it, pointed at the local cluster and the stub. */
function workerEnv(cluster: LocalCluster, stub: AwsStub): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    [ENV.writerHost]: cluster.writer.host,
    [ENV.readerHost]: cluster.writer.host,
    [ENV.port]: String(cluster.writer.port),
    [ENV.database]: cluster.database,
    [ENV.secretId]: SECRET_ID,
    // The standby listens on another port; messages name it, so it must be on the allowlist.
    [ENV.allowedHosts]: `${cluster.reader.host}:${cluster.reader.port}`,
    [ENV.tls]: 'disable',
    [ENV.metricNamespace]: 'AuroraLoadTestBench',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDBENCHMARK',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: stub.url,
    AWS_ENDPOINT_URL_CLOUDWATCH: stub.url,
    // Lambda's nodejs22.x does not print the SDK's Node 20 deprecation notice; neither should we.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

function runHarness(bundle: string, env: NodeJS.ProcessEnv, body: string, node: string = process.execPath): Promise<HarnessResult> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(node, [HARNESS, bundle], { env: { ...env, HARNESS_BODY: body }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let result: HarnessResult | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('HARNESS '));
      if (line && !result) result = { ...(JSON.parse(line.slice(8)) as Omit<HarnessResult, 'wallMs'>), wallMs: performance.now() - t0 };
    });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    if (process.env.BENCH_DEBUG) child.stdout.pipe(process.stderr);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 && result) resolve(result);
      else reject(new Error(`worker harness exited with ${code}: ${err.trim() || out.trim()}`));
    });
  });
}

/**
 * Lambda's runtime has every Amazon CA in /var/runtime/ca-cert.pem; the system bundle, about as
 * large (140-odd certificates, Amazon's roots among them), stands in for it, with the test CA
 * that issued the writer's certificate added, named as an RDS region's CA is.
 */
const SYSTEM_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const BENCH_CA_NAME = 'Amazon RDS us-east-1 Root CA RSA2048 G1 (benchmark)';

interface ColdVariant {
  readonly name: string;
  readonly description: string;
  readonly runs: Array<{ startMs: number; requireMs: number; firstMessageMs: number; handledMs: number; spawnToResultMs: number; cpuMs: number }>;
  readonly medianHandledMs: number;
  readonly medianStartMs: number;
  readonly medianRequireMs: number;
  readonly medianFirstMessageMs: number;
  /** CPU time (user + system) of the cold process up to the message handled: contention inflates it far less than the wall time. */
  readonly medianCpuMs: number;
  readonly othersCpuPct: number;
}

export async function bundleAndColdInit(o: {
  cluster: LocalCluster;
  runs: number;
  log: (line: string) => void;
}): Promise<{ bundle: BundleResult; rows: Row[]; details: unknown }> {
  const bundle = await buildWorkerBundle();
  o.log(`  bundle: ${bundle.bytes} bytes (+ ${bundle.mapBytes} source map) in ${bundle.buildMs} ms`);
  // Diagnostic only: the same bundle without the AWS SDK, loaded from node_modules as the runtime's copy would be.
  const sdkExternal = await buildWorkerBundle(path.join(path.dirname(bundle.file), '..', 'worker-sdk-external'), { sdkExternal: true });
  const stub = await startAwsStub({ secretString: JSON.stringify({ username: o.cluster.user, password: o.cluster.password, engine: 'postgres' }) });
  // As deployed, the first connection is TLS verify-full: the writer gets a certificate for
  // localhost from a test CA, and the worker the CA file the stack names.
  const ca = testCa(BENCH_CA_NAME);
  const disableTls = await enableWriterTls(o.cluster, ca.issue(['localhost']));
  const caDir = mkdtempSync(path.join(os.tmpdir(), 'bench-ca-'));
  const caFile = path.join(caDir, 'ca-cert.pem');
  writeFileSync(caFile, (existsSync(SYSTEM_CA_BUNDLE) ? readFileSync(SYSTEM_CA_BUNDLE, 'utf8') : '') + ca.certPem);
  const caCount = pemBlocks(readFileSync(caFile, 'utf8')).length;
  const plain = workerEnv(o.cluster, stub);
  const deployed: NodeJS.ProcessEnv = { ...plain, [ENV.writerHost]: 'localhost', [ENV.readerHost]: 'localhost', [ENV.tls]: 'verify-full', [ENV.caFile]: caFile };
  // Lambda's major (nodejs22.x) runs every variant; this machine's node, when it is another, is one more diagnostic.
  const node = lambdaNode(path.join(__dirname, '..', 'out'), o.log);
  const nodeVersion = node?.version ?? process.version;
  const variants: Array<{ name: string; description: string; file: string; env: NodeJS.ProcessEnv; node?: string }> = [
    { name: 'as deployed', description: `the stack's environment on Node ${nodeVersion}: TLS verify-full with DB_CA_FILE (${caCount} certificates, read on the first connection), the AWS SDK in the bundle`, file: bundle.file, env: deployed, ...(node ? { node: node.path } : {}) },
    { name: 'the old environment', description: 'NODE_EXTRA_CA_CERTS (the same CA file, loaded as node starts) and NODE_OPTIONS=--enable-source-maps, as the stack set them before', file: bundle.file,
      env: { ...deployed, [ENV.caFile]: undefined, NODE_EXTRA_CA_CERTS: caFile, NODE_OPTIONS: '--enable-source-maps' } },
    { name: 'CA of another region', description: 'AWS_REGION names a region whose RDS CAs did not issue the certificate: one failed handshake, then the whole CA file', file: bundle.file, env: { ...deployed, AWS_REGION: 'eu-west-3' } },
    { name: 'with source maps', description: 'as deployed, plus NODE_OPTIONS=--enable-source-maps', file: bundle.file, env: { ...deployed, NODE_OPTIONS: '--enable-source-maps' } },
    { name: 'no TLS', description: 'as deployed, but the database connection without TLS', file: bundle.file, env: plain },
    { name: 'SDK from node_modules', description: 'as deployed, but the AWS SDK left out of the bundle and loaded from node_modules, as the runtime\'s copy was before', file: sdkExternal.file, env: deployed },
  ].map((v, i) => (i === 0 || !node ? v : { ...v, node: node.path }));
  if (node && node.path !== process.execPath) {
    variants.push({ name: `on ${process.version}`, description: `as deployed, on this machine's Node ${process.version} instead of Lambda's major`, file: bundle.file, env: deployed });
  }
  const results: ColdVariant[] = [];
  try {
    for (const v of variants) {
      const runs: ColdVariant['runs'] = [];
      const window = cpuWindow();
      for (let i = 0; i < o.runs; i++) {
        // The smallest real first message: one select-only statement (plus the tpcb scale lookup and
        // the pool's role query, as any first message on a new connection pays).
        const body = JSON.stringify({ v: 1, kind: 'statements', runId: 'bench-cold', seq: i, sentAt: Date.now(), workload: 'tpcb', op: 'select-only', hash: tpcbHash('select-only'), count: 1, target: 'writer' });
        const r = await runHarness(v.file, v.env, body, v.node);
        if (r.failures) throw new Error('the cold-start message failed; run with BENCH_DEBUG=1 to see the worker log');
        runs.push({
          startMs: round(r.loadStartMs, 1), requireMs: round(r.loadedMs - r.loadStartMs, 1), firstMessageMs: round(r.handledMs - r.loadedMs, 1),
          handledMs: round(r.handledMs, 1), spawnToResultMs: round(r.wallMs, 1), cpuMs: round(r.cpuMs, 1),
        });
      }
      const med = (k: keyof ColdVariant['runs'][number]): number => round(median(runs.map((r) => r[k])), 1);
      const result: ColdVariant = {
        name: v.name, description: v.description, runs,
        medianHandledMs: med('handledMs'), medianStartMs: med('startMs'), medianRequireMs: med('requireMs'), medianFirstMessageMs: med('firstMessageMs'), medianCpuMs: med('cpuMs'),
        othersCpuPct: round(window().othersPct, 1),
      };
      results.push(result);
      o.log(`  cold init, ${v.name}: median ${result.medianHandledMs} ms = node start ${result.medianStartMs} + require ${result.medianRequireMs} + first message ${result.medianFirstMessageMs}, CPU ${result.medianCpuMs} ms (${runs.length} fresh processes)`);
    }
  } finally {
    await stub.close();
    await disableTls();
    rmSync(caDir, { recursive: true, force: true });
  }
  const [headline, ...diagnostics] = results;
  const rows = [
    makeRow('bundleBytes', bundle.bytes, 'bytes', { kind: 'atMost', limit: 1024 * 1024 }, {
      note: `${(bundle.bytes / 1024).toFixed(0)} KiB minified, the AWS SDK inside (${(sdkExternal.bytes / 1024).toFixed(0)} KiB without it); source map ${(bundle.mapBytes / 1024).toFixed(0)} KiB beside it`,
    }),
    makeRow('coldInitMs', headline!.medianHandledMs, 'ms', { kind: 'atMost', limit: 150 }, {
      note: `median of ${headline!.runs.length} (runs ${Math.min(...headline!.runs.map((r) => r.handledMs))}-${Math.max(...headline!.runs.map((r) => r.handledMs))}): node start ${headline!.medianStartMs} + require ${headline!.medianRequireMs} + first message ${headline!.medianFirstMessageMs} ms (CPU ${headline!.medianCpuMs} ms), TLS verify-full, Node ${nodeVersion}${node ? ' (Lambda\'s nodejs22.x major)' : ' (not Lambda\'s major: see the log)'}`,
      othersCpuPct: headline!.othersCpuPct,
    }),
    ...diagnostics.map((d) => makeRow('coldInitMs', d.medianHandledMs, 'ms', undefined, {
      at: d.name,
      note: `diagnostic: start ${d.medianStartMs} + require ${d.medianRequireMs} + first message ${d.medianFirstMessageMs} ms (CPU ${d.medianCpuMs} ms)`,
      othersCpuPct: d.othersCpuPct,
    })),
  ];
  return {
    bundle,
    rows,
    details: {
      bundle: { file: path.relative(process.cwd(), bundle.file), bytes: bundle.bytes, mapBytes: bundle.mapBytes, buildMs: bundle.buildMs, sdkExternalBytes: sdkExternal.bytes },
      coldInit: {
        spread: { median: headline!.medianHandledMs, min: Math.min(...headline!.runs.map((r) => r.handledMs)), max: Math.max(...headline!.runs.map((r) => r.handledMs)) },
        node: nodeVersion,
        method: 'node bench/harness/worker-harness.cjs <bundle>: ms from the process time origin to handler() resolving for one statements message (tpcb select-only, count 1): node start, require of the bundle, then Secrets Manager GetSecretValue (loopback stub, HTTP), connect with TLS verify-full (writer with a certificate from a test CA) + SCRAM auth, role query, scale lookup, the statement, PutMetricData (loopback stub)',
        caFile: { certificates: caCount, from: existsSync(SYSTEM_CA_BUNDLE) ? `${SYSTEM_CA_BUNDLE} + the test CA` : 'the test CA' },
        variants: results,
      },
    },
  };
}

/** The content hash a message names a tpcb script with. */
function tpcbHash(op: string): string {
  return projectCatalog().get('tpcb')!.scripts.get(op)!.hash;
}

export async function peakRss(o: {
  cluster: LocalCluster;
  bundle: string;
  durationMs: number;
  rate: number;
  log: (line: string) => void;
}): Promise<{ rows: Row[]; details: unknown }> {
  const stub = await startAwsStub({
    secretString: JSON.stringify({ username: o.cluster.user, password: o.cluster.password }),
    captureMetrics: true,
  });
  let r: HarnessResult;
  let others = 0;
  try {
    await settle(o.cluster);
    const window = cpuWindow();
    const body = JSON.stringify({
      v: 1, kind: 'slice', runId: 'bench-rss', seq: 0, sentAt: Date.now(), workload: 'tpcb',
      mix: [{ op: 'select-only', weight: 80, hash: tpcbHash('select-only') }, { op: 'tpcb', weight: 20, hash: tpcbHash('tpcb') }],
      rate: o.rate, durationMs: o.durationMs, startAt: Date.now() + 1_000,
      hosts: { reader: `${o.cluster.reader.host}:${o.cluster.reader.port}` },
    });
    r = await runHarness(o.bundle, workerEnv(o.cluster, stub), body);
    others = window().othersPct;
    if (r.failures) throw new Error('the slice message came back as a batch item failure');
  } finally {
    await stub.close();
  }
  // What the worker reported to "CloudWatch": proof the slice really ran at the rate.
  const latency = new Histogram();
  const lag = new Histogram();
  let errors = 0;
  let skipped = 0;
  for (const req of stub.metricData) {
    for (const d of (req.MetricData ?? []) as Array<{ MetricName: string; Values?: number[]; Counts?: number[]; Value?: number }>) {
      const h = d.MetricName === METRIC.latency ? latency : d.MetricName === METRIC.scheduleLag ? lag : undefined;
      if (h && d.Values && d.Counts) h.merge(Histogram.fromData({ values: d.Values, counts: d.Counts }));
      if (d.MetricName === METRIC.errors) errors += d.Value ?? 0;
      if (d.MetricName === METRIC.skipped) skipped += d.Value ?? 0;
    }
  }
  const mib = round(r.maxRssKiB / 1024, 1);
  const planned = Math.floor((o.rate * o.durationMs) / 1000);
  o.log(`  peak RSS ${mib} MiB; ${latency.count} of ${planned} statements ok, ${errors} errors, ${skipped} skipped, lag p99 ${lag.percentile(99).toFixed(2)} ms`);
  return {
    rows: [makeRow('peakRssMb', mib, 'MiB', undefined, {
      note: `bundle in a fresh node, one ${o.durationMs / 1000} s slice at ${o.rate}/s (tpcb 80/20); ${latency.count}/${planned} ok, lag p99 ${lag.percentile(99).toFixed(1)} ms`,
      othersCpuPct: others,
    })],
    details: {
      method: 'node worker-harness.cjs dist/worker/index.js with one slice message; peak RSS = process.resourceUsage().maxRSS at the end',
      rate: o.rate, durationMs: o.durationMs, planned,
      ok: latency.count, errors, skipped,
      latencyP99Ms: round(latency.percentile(99), 2), scheduleLagP99Ms: round(lag.percentile(99), 2),
      cpuMs: round(r.cpuMs, 0), putMetricDataCalls: stub.counters.putMetricData,
      maxRssKiB: r.maxRssKiB,
    },
  };
}
