/**
 * sendRate: how many messages per second one trigger process gets into SQS, through the trigger's
 * own sending code (its SQS client factory, SqsTransport with p-limit and retries, the open-loop
 * Sender that validates every body with the worker's parser), against a loopback endpoint that
 * speaks SQS's AWS JSON 1.0 SendMessageBatch. The endpoint runs in a child process, so the CPU
 * figure is the trigger's alone.
 *
 * Two runs: capacity (a plan due at once, so the transport is the only limit) and a run paced at
 * the goal rate (is it kept up, and at what CPU).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { sqs } from '../../trigger/aws/clients';
import { systemClock } from '../../handlers/clock';
import { hashesOf, parseMix } from '../../trigger/options/mix';
import { RUN_DEFAULTS } from '../../trigger/options/run-options';
import { planStatements } from '../../trigger/plan/statements-plan';
import { Sender } from '../../trigger/send/sender';
import { SqsTransport } from '../../trigger/send/sqs-transport';
import { cpuWindow } from '../lib/proc';
import { makeRow, round, type Row } from '../lib/report';

interface StubProcess {
  readonly url: string;
  stats(): Promise<{ messages: number; sendMessageBatch: number; cpuMs: number }>;
  stop(): Promise<void>;
}

async function startStubProcess(): Promise<StubProcess> {
  const tsx = path.join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');
  const child: ChildProcess = spawn(tsx, [path.join(__dirname, '..', 'aws-stub.ts')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const waiting: Array<(line: string) => void> = [];
  lines.on('line', (l) => waiting.shift()?.(l));
  const next = (): Promise<string> => new Promise((resolve) => waiting.push(resolve));
  const first = JSON.parse(await next()) as { port: number };
  return {
    url: `http://127.0.0.1:${first.port}`,
    async stats() {
      const reply = next();
      child.stdin!.write('stats\n');
      return JSON.parse(await reply) as { messages: number; sendMessageBatch: number; cpuMs: number };
    },
    stop: () => new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.stdin!.end();
    }),
  };
}

interface SendRun {
  readonly messages: number;
  readonly elapsedMs: number;
  readonly rate: number;
  readonly cpuMs: number;
  /** Trigger CPU per 1,000 messages, ms. */
  readonly cpuMsPer1000: number;
  /** Share of one core the trigger used, %. */
  readonly cpuPct: number;
  readonly calls: number;
  readonly retries: number;
  readonly lost: number;
  /** The most a message was handed to the transport after its due time, ms (not counting the transport's own queue). */
  readonly maxLateMs: number;
}

export async function sendRate(o: { quick: boolean; log: (line: string) => void }): Promise<{ rows: Row[]; details: unknown }> {
  const stub = await startStubProcess();
  // The trigger's client factory, pointed at the stub the way the SDK allows for any service.
  const saved = { ...process.env };
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SQS: stub.url, AWS_ACCESS_KEY_ID: 'AKIDBENCHMARK', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: 'us-east-1',
  });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  const client = await sqs('us-east-1');
  const queueUrl = `${stub.url}/000000000000/bench-queue`;
  const concurrency = RUN_DEFAULTS.concurrency;
  const mix = parseMix('read=80,write=20', 'seed', new Set(['read', 'write']), false);

  const run = async (rate: number, durationMs: number): Promise<SendRun> => {
    const plan = planStatements({ runId: 'bench-send', workload: 'seed', mix, hashes: hashesOf('seed', mix), rate, durationMs, rampMs: 0 }, 1);
    const transport = new SqsTransport({ client, queueUrl, concurrency });
    const sender = new Sender(plan, transport, { clock: systemClock });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const result = await sender.run();
    const elapsedMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const messages = transport.stats.accepted;
    return {
      messages, elapsedMs: round(elapsedMs, 0), rate: round((messages * 1000) / elapsedMs, 0),
      cpuMs: round(cpuMs, 0), cpuMsPer1000: round((cpuMs * 1000) / messages, 1), cpuPct: round((100 * cpuMs) / elapsedMs, 0),
      calls: transport.stats.calls, retries: transport.stats.retries, lost: transport.stats.lost, maxLateMs: round(result.maxLateMs, 0),
    };
  };

  let capacity: SendRun;
  let bursts: SendRun[];
  let paced: SendRun;
  let stubCpuMs: number;
  let burstsOthersPct = 0;
  let pacedOthersPct = 0;
  try {
    // Warm-up, not measured: a trigger sends for minutes, and its first tens of thousands of
    // messages go at half speed while V8 optimises the SDK's middleware and both heaps grow.
    await run(100_000, o.quick ? 300 : 400);
    const before = await stub.stats();
    const burstWindow = cpuWindow();
    // Each burst: 15,000-20,000 messages due within 0.15-0.2 s, so the transport is the only limit.
    bursts = [];
    for (let i = 0; i < 3; i++) bursts.push(await run(100_000, o.quick ? 150 : 200));
    burstsOthersPct = burstWindow().othersPct;
    const after = await stub.stats();
    stubCpuMs = after.cpuMs - before.cpuMs;
    const sent = bursts.reduce((n, b) => n + b.messages, 0);
    if (after.messages - before.messages !== sent) throw new Error('the stub counted a different number of messages than the trigger');
    capacity = [...bursts].sort((a, b) => a.rate - b.rate)[1]!;
    o.log(`  capacity (median of 3 bursts of ${bursts[0]!.messages}): ${capacity.rate}/s (${bursts.map((b) => b.rate).join(', ')}), trigger CPU ${capacity.cpuPct}% of a core`);
    const pacedWindow = cpuWindow();
    paced = await run(5_000, o.quick ? 2_000 : 6_000);
    pacedOthersPct = pacedWindow().othersPct;
    o.log(`  paced at 5,000/s: ${paced.rate}/s, trigger CPU ${paced.cpuPct}% of a core, last batch done ${paced.elapsedMs - (o.quick ? 2_000 : 6_000)} ms after the plan's end`);
  } finally {
    client.destroy();
    await stub.stop();
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
  const rows = [
    makeRow('sendRate', capacity.rate, 'msg/s', { kind: 'atLeast', limit: 5_000 }, {
      note: `trigger CPU ${capacity.cpuPct}% of a core (${capacity.cpuMsPer1000} ms per 1,000 msgs), --concurrency ${concurrency}`,
      othersCpuPct: burstsOthersPct,
    }),
    makeRow('sendRate', paced.rate, 'msg/s', undefined, {
      at: 'paced at 5,000/s',
      note: `trigger CPU ${paced.cpuPct}% of a core; all sent ${paced.elapsedMs - (o.quick ? 2_000 : 6_000)} ms after the plan's end`,
      othersCpuPct: pacedOthersPct,
    }),
  ];
  return {
    rows,
    details: {
      method: 'trigger Sender + SqsTransport (statements plan, count 1, seed mix) -> SDK SQSClient -> loopback AWS JSON 1.0 SendMessageBatch endpoint in a child process',
      concurrency, bursts, paced, stubCpuMsDuringBursts: round(stubCpuMs, 0),
    },
  };
}
