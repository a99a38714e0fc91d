/**
 * The worker's configuration: read once, at the entry point, from the Lambda environment (the CDK
 * stack sets these variables) or built directly by the local engine. Nothing below the entry point
 * reads process.env.
 */
import { METRIC_NAMESPACE_DEFAULT } from './contract';
import { EVENT_SOURCE_DEFAULTS } from './event-source';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** Where the worker gets its database credentials. */
export type CredentialSource =
  /** An RDS-style JSON secret ({"username","password",...}) in Secrets Manager, by name or ARN. */
  | { readonly kind: 'secretsManager'; readonly secretId: string }
  /** Given directly (local mode). */
  | { readonly kind: 'static'; readonly user: string; readonly password: string };

export interface WorkerConfig {
  readonly writer: Endpoint;
  readonly reader: Endpoint;
  readonly database: string;
  readonly credentials: CredentialSource;
  /**
   * Hosts a message may name explicitly, besides the writer and reader hosts. Matching is exact
   * (case-insensitive); there are no wildcards.
   */
  readonly allowedHosts: readonly string[];
  /** TLS: 'verify-full' checks the certificate chain and host name; 'disable' is for local mode. */
  readonly tls: 'verify-full' | 'disable';
  /**
   * PEM bundle of the CAs the database's TLS trusts, instead of Node's own roots (the stack sets
   * Lambda's /var/runtime/ca-cert.pem, which holds the RDS CAs); read on the first TLS connection.
   */
  readonly caFile?: string;
  /** The function's AWS region (Lambda sets AWS_REGION): its RDS CAs are the ones trusted first (db/trust.ts). */
  readonly region?: string;
  /** Connections per pool (one pool per endpoint). */
  readonly poolMax: number;
  /** Per-statement timeout, ms; a statement over it fails with SQLSTATE 57014. */
  readonly statementTimeoutMs: number;
  /** Connect timeout, ms. */
  readonly connectTimeoutMs: number;
  /**
   * How long a pool that holds no connection keeps trying to connect, ms: set it when the cluster
   * may pause (Aurora Serverless v2 at 0 ACU), whose resume outlasts one connect timeout.
   *
   * @default 0 (one attempt)
   */
  readonly resumeWaitMs?: number;
  /** CloudWatch namespace for the custom metrics. */
  readonly metricNamespace: string;
  /** Kept at the end of an invocation to publish and hand back failed messages: no statement runs into it. */
  readonly deadlineMarginMs: number;
  /**
   * The queue's maxReceiveCount: a message that fails on this receive goes to the dead-letter
   * queue, and the worker counts it as dead-lettered for its run (`Messages`, Outcome=deadLettered).
   */
  readonly maxReceiveCount: number;
}

/** Names of the environment variables the Lambda function is configured with. */
export const ENV = {
  writerHost: 'DB_WRITER_HOST',
  readerHost: 'DB_READER_HOST',
  port: 'DB_PORT',
  database: 'DB_NAME',
  secretId: 'DB_SECRET_ID',
  allowedHosts: 'DB_ALLOWED_HOSTS',
  tls: 'DB_TLS',
  caFile: 'DB_CA_FILE',
  poolMax: 'DB_POOL_MAX',
  statementTimeoutMs: 'DB_STATEMENT_TIMEOUT_MS',
  resumeWaitMs: 'DB_RESUME_WAIT_MS',
  metricNamespace: 'METRIC_NAMESPACE',
  maxReceiveCount: 'QUEUE_MAX_RECEIVE_COUNT',
} as const;

export const DEFAULTS = {
  port: 5432,
  database: 'postgres',
  poolMax: 4,
  statementTimeoutMs: 30_000,
  connectTimeoutMs: 5_000,
  /**
   * A paused Aurora Serverless v2 instance resumes when a connection request arrives, in about
   * 15 s, longer after a long pause ("Scaling to Zero ACUs with automatic pause and resume for
   * Aurora Serverless v2", https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2-auto-pause.html).
   */
  resumeWaitMs: 30_000,
  metricNamespace: METRIC_NAMESPACE_DEFAULT,
  /**
   * Kept at the end of an invocation for publishing the metrics (retried with backoff while
   * CloudWatch throttles) and handing back failed messages: more than one SDK attempt's worst
   * case (3 s to connect, 5 s to answer; AWS_CLIENT_CONFIG), and room for a few throttled retries.
   */
  deadlineMarginMs: 15_000,
} as const;

/**
 * The options of every AWS SDK client the worker makes (Secrets Manager, SQS, CloudWatch). The
 * SDK sets no timeout by default, so a subnet without a route to an endpoint, or a security group
 * without egress to 443, would stall a request for minutes; with these each attempt ends within
 * 5 s (3 s to connect), and the call fails after 3 attempts with the SDK's TimeoutError. The SDK
 * only warns about a request timeout unless told to throw. 5 s is far more than a 1 MB
 * PutMetricData needs inside a region.
 */
export const AWS_CLIENT_CONFIG = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
} as const;

/** A configuration mistake (the worker's environment, the CDK app's context): one line naming the variable or key and what to set. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function posInt(env: Record<string, string | undefined>, key: string, dflt: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`${key} must be a positive integer, got "${raw}"`);
  return n;
}

/** Read the worker's configuration from the Lambda environment. */
export function configFromEnv(env: Record<string, string | undefined> = process.env): WorkerConfig {
  const need = (key: string): string => {
    const v = env[key];
    if (!v) throw new ConfigError(`${key} is not set; the stack sets it on the worker function`);
    return v;
  };
  const tls = env[ENV.tls] ?? 'verify-full';
  if (tls !== 'verify-full' && tls !== 'disable') throw new ConfigError(`${ENV.tls} must be verify-full or disable, got "${tls}"`);
  const port = posInt(env, ENV.port, DEFAULTS.port);
  const caFile = env[ENV.caFile];
  const region = env.AWS_REGION;
  return {
    writer: { host: need(ENV.writerHost).toLowerCase(), port },
    reader: { host: need(ENV.readerHost).toLowerCase(), port },
    database: env[ENV.database] || DEFAULTS.database,
    credentials: { kind: 'secretsManager', secretId: need(ENV.secretId) },
    allowedHosts: (env[ENV.allowedHosts] ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean),
    tls,
    ...(caFile ? { caFile } : {}),
    ...(region ? { region } : {}),
    poolMax: posInt(env, ENV.poolMax, DEFAULTS.poolMax),
    statementTimeoutMs: posInt(env, ENV.statementTimeoutMs, DEFAULTS.statementTimeoutMs),
    connectTimeoutMs: DEFAULTS.connectTimeoutMs,
    ...(env[ENV.resumeWaitMs] ? { resumeWaitMs: posInt(env, ENV.resumeWaitMs, DEFAULTS.resumeWaitMs) } : {}),
    metricNamespace: env[ENV.metricNamespace] || DEFAULTS.metricNamespace,
    deadlineMarginMs: DEFAULTS.deadlineMarginMs,
    maxReceiveCount: posInt(env, ENV.maxReceiveCount, EVENT_SOURCE_DEFAULTS.maxReceiveCount),
  };
}
