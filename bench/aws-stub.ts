/**
 * A loopback HTTP endpoint that speaks just enough of AWS's JSON protocols for the benchmarks:
 * SQS `SendMessageBatch` (AWS JSON 1.0), Secrets Manager `GetSecretValue` (AWS JSON 1.1) and
 * CloudWatch `PutMetricData` (AWS JSON 1.0, gzipped when large). Point an SDK client at it with `endpoint` or the
 * `AWS_ENDPOINT_URL_<SERVICE>` variables and dummy credentials; nothing leaves the machine.
 *
 * The SQS reply carries each entry's MD5OfMessageBody, computed from the body received: the SDK
 * checks it and fails the call when it does not match, as it should.
 *
 * Run as a program (`tsx bench/aws-stub.ts`) it serves in its own process, so a benchmark can
 * measure its client's CPU without the server's: it prints `{"port":N}` once listening, answers
 * each line on stdin with a JSON line of its counters and CPU, and exits when stdin closes.
 */
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface AwsStubOptions {
  /** The SecretString GetSecretValue returns (an RDS-style JSON secret). @default '{}' */
  readonly secretString?: string;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** Keep every PutMetricData request's input in {@link AwsStub.metricData}. @default false */
  readonly captureMetrics?: boolean;
}

export interface AwsStubCounters {
  requests: number;
  /** Messages accepted by SendMessageBatch. */
  messages: number;
  sendMessageBatch: number;
  getSecretValue: number;
  putMetricData: number;
}

export interface AwsStub {
  readonly url: string;
  readonly port: number;
  readonly counters: AwsStubCounters;
  /** PutMetricData inputs, when captured. */
  readonly metricData: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

interface BatchEntry {
  Id?: string;
  MessageBody?: string;
}

function reply(res: http.ServerResponse, status: number, contentType: string, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': randomUUID() });
  res.end(text);
}

export async function startAwsStub(opts: AwsStubOptions = {}): Promise<AwsStub> {
  const counters: AwsStubCounters = { requests: 0, messages: 0, sendMessageBatch: 0, getSecretValue: 0, putMetricData: 0 };
  const secretString = opts.secretString ?? '{}';
  const metricData: Array<Record<string, unknown>> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      counters.requests++;
      const target = String(req.headers['x-amz-target'] ?? '');
      const json10 = 'application/x-amz-json-1.0';
      const json11 = 'application/x-amz-json-1.1';
      let input: Record<string, unknown>;
      try {
        // The SDK gzips large PutMetricData requests (CloudWatch's request compression).
        const raw = Buffer.concat(chunks);
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        reply(res, 400, json10, { __type: 'SerializationException', message: 'body is not JSON' });
        return;
      }
      switch (target) {
        case 'AmazonSQS.SendMessageBatch': {
          counters.sendMessageBatch++;
          const entries = (input.Entries ?? []) as BatchEntry[];
          counters.messages += entries.length;
          reply(res, 200, json10, {
            Successful: entries.map((e) => ({
              Id: e.Id,
              MessageId: randomUUID(),
              MD5OfMessageBody: createHash('md5').update(e.MessageBody ?? '', 'utf8').digest('hex'),
            })),
            Failed: [],
          });
          return;
        }
        case 'secretsmanager.GetSecretValue': {
          counters.getSecretValue++;
          const id = String(input.SecretId ?? 'secret');
          reply(res, 200, json11, {
            ARN: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${id}-AbCdEf`,
            Name: id,
            VersionId: '00000000-0000-0000-0000-000000000000',
            SecretString: secretString,
            VersionStages: ['AWSCURRENT'],
            CreatedDate: Date.now() / 1000,
          });
          return;
        }
        case 'GraniteServiceVersion20100801.PutMetricData':
          counters.putMetricData++;
          if (opts.captureMetrics) metricData.push(input);
          reply(res, 200, json10, {});
          return;
        default:
          reply(res, 400, json10, { __type: 'UnknownOperationException', message: `the stub does not implement ${target || 'this request'}` });
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    counters,
    metricData,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

if (require.main === module) {
  void (async () => {
    const stub = await startAwsStub({ secretString: process.env.STUB_SECRET_STRING ?? '{}' });
    process.stdout.write(`${JSON.stringify({ port: stub.port })}\n`);
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', () => {
      const cpu = process.cpuUsage();
      process.stdout.write(`${JSON.stringify({ ...stub.counters, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
    });
    process.stdin.on('end', () => void stub.close().then(() => process.exit(0)));
  })();
}
