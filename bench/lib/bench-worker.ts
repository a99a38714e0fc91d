/**
 * The worker as the benchmarks run it in-process: the real createWorker on a local cluster, with
 * an in-memory sink and a silent log, and the SQS records it is fed.
 */
import type { SQSEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { createLogger } from '../../handlers/log';
import { MemorySink } from '../../handlers/metrics/memory-sink';
import { createWorker, type Worker } from '../../handlers/worker';
import { projectCatalog } from '../../handlers/workloads/project';
import type { LocalCluster } from '../../trigger/local/cluster';
import { localWorkerConfig } from '../../trigger/local/worker-config';

export function benchWorker(cluster: LocalCluster, poolMax: number): { worker: Worker; sink: MemorySink } {
  const config = localWorkerConfig({ writer: cluster.writer, reader: cluster.reader, user: cluster.user, password: cluster.password, database: cluster.database, poolMax });
  const sink = new MemorySink();
  const worker = createWorker({ config, catalog: projectCatalog(), sink, logger: createLogger({ write: () => undefined }) });
  return { worker, sink };
}

/** An SQS event of these bodies, shaped as the event source mapping delivers them. */
export function sqsEventOf(bodies: readonly string[]): SQSEvent {
  const now = String(Date.now());
  return {
    Records: bodies.map((body) => ({
      messageId: randomUUID(),
      receiptHandle: randomUUID(),
      body,
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: now, SenderId: 'bench', ApproximateFirstReceiveTimestamp: now },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:bench',
      awsRegion: 'us-east-1',
    })),
  };
}

export const lambdaContext = { awsRequestId: 'bench', getRemainingTimeInMillis: () => 900_000 };

/** postgres:// URL of one of the cluster's servers (for the local engine's --writer-url style options). */
export function urlOf(cluster: LocalCluster, which: 'writer' | 'reader'): string {
  const e = cluster[which];
  return `postgres://${encodeURIComponent(cluster.user)}:${encodeURIComponent(cluster.password)}@${e.host}:${e.port}/${cluster.database}`;
}

/**
 * Let the cluster settle before a measurement: a CHECKPOINT on the writer (so no run pays for the
 * dirty pages of the one before it), then wait until the standby has replayed everything.
 */
export async function settle(cluster: LocalCluster, timeoutMs = 60_000): Promise<void> {
  const { Client } = await import('pg');
  const c = new Client({ ...cluster.writer, user: cluster.user, password: cluster.password, database: cluster.database });
  await c.connect();
  try {
    await c.query('CHECKPOINT');
  } finally {
    await c.end();
  }
  const deadline = Date.now() + timeoutMs;
  while ((await cluster.replicationLag()).bytes > 0) {
    if (Date.now() > deadline) throw new Error(`the standby did not catch up within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
