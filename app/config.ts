/**
 * The CDK app's configuration: read once, at the entry point, from CDK context (`cdk.json` or `-c`)
 * and validated here, then passed down as typed values. Nothing below the entry point reads context
 * or `process.env`.
 *
 * The seed's parameter names are kept: BUCKET, SecretName, SecurityGroups, Subnets. CDK Pipelines
 * cannot pass CloudFormation parameters to the stacks it deploys, so context is the way in.
 */
import * as rds from 'aws-cdk-lib/aws-rds';
import { ConfigError, DEFAULTS } from '../handlers/config';
import { EVENT_SOURCE_DEFAULTS, MAX_CONCURRENCY_RANGE } from '../handlers/event-source';
import { LIMITS } from '../handlers/protocol/limits';
import { INIT_TIMEOUT, largestScaleWithin } from '../handlers/workloads/tpcb';

/** A configuration mistake (the worker's and the app's): one line naming the keys and what to do. */
export { ConfigError };

/** Where the pipeline gets the source code from. */
export type SourceConfig =
  /** A CodeCommit repository the pipeline stack creates: `git push` to it deploys. */
  | { readonly kind: 'codecommit'; readonly repositoryName: string; readonly branch: string }
  /** A CodeStar (CodeConnections) connection to GitHub, GitLab, Bitbucket and the like. */
  | {
      readonly kind: 'connection';
      readonly connectionArn: string;
      /** `owner/repo`. */
      readonly repository: string;
      readonly branch: string;
    };

export interface PipelineConfig {
  /** Name of an existing S3 bucket for the pipeline's artifacts; undefined: the pipeline creates one. */
  readonly artifactBucket?: string;
  readonly source: SourceConfig;
}

/** Aurora capacity: provisioned instances of one class, or Serverless v2 within an ACU range. */
export type InstanceCapacity =
  | { readonly kind: 'provisioned'; readonly instanceClass: string }
  | { readonly kind: 'serverless'; readonly minCapacity: number; readonly maxCapacity: number };

/** The stacks create the VPC and the Aurora PostgreSQL cluster. */
export interface CreateDatabaseConfig {
  readonly mode: 'create';
  /** Readers besides the writer. */
  readonly readerCount: number;
  readonly capacity: InstanceCapacity;
  /** Full Aurora PostgreSQL version, e.g. "16.13". */
  readonly engineVersion: string;
  readonly databaseName: string;
  readonly natGateways: number;
  /** Interface endpoints for Secrets Manager, SQS and CloudWatch in the private subnets. */
  readonly interfaceEndpoints: boolean;
}

/** Bring your own database: no VPC and no cluster are created; the worker joins the given network. */
export interface ExistingDatabaseConfig {
  readonly mode: 'existing';
  /** Secret name, or its complete ARN. */
  readonly secretName: string;
  readonly securityGroupIds: readonly string[];
  readonly subnetIds: readonly string[];
  readonly vpcId: string;
  readonly writerEndpoint: string;
  readonly readerEndpoint: string;
  readonly port: number;
  readonly databaseName: string;
  /** The Aurora cluster behind the endpoints, when there is one: enables its dashboard widgets. */
  readonly clusterIdentifier?: string;
  /** ARN of the customer-managed KMS key the secret is encrypted with: the worker may decrypt with it. */
  readonly secretKmsKeyArn?: string;
}

export type DatabaseConfig = CreateDatabaseConfig | ExistingDatabaseConfig;

export interface WorkerSettings {
  /** The event source mapping's maximum concurrency: how many workers run at once, at most. */
  readonly maxConcurrency: number;
  /**
   * Concurrency reserved for the worker out of the account's quota; undefined: none (the default),
   * the event source's maximum concurrency caps the SQS invocations on its own.
   */
  readonly reservedConcurrency?: number;
  /** SQS messages per invocation. */
  readonly batchSize: number;
  /** Connections per pool in each worker (one pool per endpoint). */
  readonly poolMax: number;
  readonly metricNamespace: string;
  /** Hosts a message may name explicitly, besides the deployed endpoints. */
  readonly allowedHosts: readonly string[];
  /** tpcb scale factor the schema is created with on deploy. */
  readonly scale: number;
}

export interface LoadTestConfig {
  readonly pipeline: PipelineConfig;
  readonly database: DatabaseConfig;
  readonly worker: WorkerSettings;
}

/** Every context key this app reads; a capitalised key outside this list is taken for a typo. */
export const CONTEXT_KEYS = {
  bucket: 'BUCKET',
  repositoryName: 'RepositoryName',
  branch: 'Branch',
  connectionArn: 'ConnectionArn',
  connectionRepository: 'ConnectionRepository',
  secretName: 'SecretName',
  securityGroups: 'SecurityGroups',
  subnets: 'Subnets',
  vpcId: 'VpcId',
  writerEndpoint: 'WriterEndpoint',
  readerEndpoint: 'ReaderEndpoint',
  dbClusterIdentifier: 'DbClusterIdentifier',
  dbPort: 'DbPort',
  dbName: 'DbName',
  secretKmsKey: 'SecretKmsKey',
  readerCount: 'ReaderCount',
  instanceClass: 'InstanceClass',
  serverlessMinCapacity: 'ServerlessMinCapacity',
  serverlessMaxCapacity: 'ServerlessMaxCapacity',
  engineVersion: 'EngineVersion',
  natGateways: 'NatGateways',
  interfaceEndpoints: 'InterfaceEndpoints',
  workerMaxConcurrency: 'WorkerMaxConcurrency',
  workerReservedConcurrency: 'WorkerReservedConcurrency',
  workerBatchSize: 'WorkerBatchSize',
  workerPoolMax: 'WorkerPoolMax',
  metricNamespace: 'MetricNamespace',
  allowedHosts: 'AllowedHosts',
  scale: 'Scale',
} as const;

const K = CONTEXT_KEYS;

/** Keys that select bring-your-own mode: the first six are required in it, DbClusterIdentifier, DbPort and SecretKmsKey optional. */
const BYO_REQUIRED = [K.secretName, K.securityGroups, K.subnets, K.vpcId, K.writerEndpoint, K.readerEndpoint] as const;
const BYO_ONLY = [...BYO_REQUIRED, K.dbClusterIdentifier, K.dbPort, K.secretKmsKey] as const;
/** Keys that describe what the stacks create; meaningless with an existing database. */
const CREATE_ONLY = [
  K.readerCount, K.instanceClass, K.serverlessMinCapacity, K.serverlessMaxCapacity, K.engineVersion, K.natGateways,
  K.interfaceEndpoints,
] as const;

export const CONFIG_DEFAULTS = {
  repositoryName: 'aurora-load-test',
  branch: 'main',
  readerCount: 1,
  instanceClass: 'serverless',
  serverlessMinCapacity: 0.5,
  serverlessMaxCapacity: 16,
  /** Pinned: the local engine runs PostgreSQL 16, and a version bump is a reviewed change. */
  engineVersion: rds.AuroraPostgresEngineVersion.VER_16_13.auroraPostgresFullVersion,
  natGateways: 1,
  /** The trigger plans with the same defaults (handlers/event-source.ts). */
  workerMaxConcurrency: EVENT_SOURCE_DEFAULTS.maxConcurrency,
  workerBatchSize: EVENT_SOURCE_DEFAULTS.batchSize,
  scale: 1,
} as const;

/** Most Aurora readers a cluster can have. */
const MAX_READERS = 15;
/** The event source mapping's maximum concurrency is between 2 and 1000. */
const MIN_CONCURRENCY = MAX_CONCURRENCY_RANGE.min;
const MAX_CONCURRENCY = MAX_CONCURRENCY_RANGE.max;
/** Without a batching window, an SQS event source takes at most 10 messages per batch. */
const MAX_BATCH_SIZE = 10;
/** Subnets span at most this many AZs; one NAT gateway per AZ at most. */
const MAX_AZS = 2;
/**
 * The largest reservation accepted: every worker the event source may run, plus one for the
 * deploy-time init. A reservation needs an account quota of at least itself + 100 (Lambda keeps
 * 100 executions unreserved): the default quota of 1,000 allows 900.
 */
const MAX_RESERVED_CONCURRENCY = MAX_CONCURRENCY + 1;
/**
 * What the deploy-time init of the tpcb schema may take: the worker's 15-minute Lambda timeout
 * (the provider framework invokes it synchronously; Provider.totalTimeout applies only to
 * asynchronous providers) less a minute for connecting, the secret and the margin.
 */
export const DEPLOY_INIT_BUDGET_MS = EVENT_SOURCE_DEFAULTS.functionTimeoutMs - 60_000;
/** The largest Scale the deploy-time init is sized for: see INIT_TIMEOUT in handlers/workloads/tpcb.ts. */
export const MAX_DEPLOY_SCALE = largestScaleWithin(DEPLOY_INIT_BUDGET_MS);

const PATTERNS = {
  bucket: /^(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
  securityGroup: /^sg-[0-9a-f]{8,17}$/,
  subnet: /^subnet-[0-9a-f]{8,17}$/,
  vpc: /^vpc-[0-9a-f]{8,17}$/,
  /** A name you chose, or one RDS gave the master secret it manages (`rds!cluster-<uuid>`, `rds!db-<uuid>`). */
  secretName: /^(?:rds![a-z]+-[0-9a-f-]{1,64}|[A-Za-z0-9/_+=.@-]{1,512})$/,
  secretArn: /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:(?:rds![a-z]+-[0-9a-f-]+-[A-Za-z0-9]{6}|[A-Za-z0-9/_+=.@-]+)$/,
  kmsKeyArn: /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/,
  connectionArn: /^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection\/[0-9a-f-]{36}$/,
  ownerRepo: /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/,
  codeCommitName: /^[\w.-]{1,100}$/,
  branch: /^(?!\/)(?!.*\/$)(?!.*\.\.)[A-Za-z0-9._/-]{1,255}$/,
  clusterIdentifier: /^[a-zA-Z][a-zA-Z0-9-]{0,62}$/,
  databaseName: /^[A-Za-z_][A-Za-z0-9_]{0,62}$/,
  instanceClass: /^(?:db\.)?([a-z][a-z0-9-]*\.[a-z0-9]+)$/,
  engineVersion: /^(\d{2})\.(\d{1,2})$/,
  metricNamespace: /^(?!AWS\/)[A-Za-z0-9.\-_/#:]{1,255}$/,
  /** A DNS name or IPv4 literal, without a port: the port is DbPort. */
  host: /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/,
} as const;

/** Reads one context value; `undefined` when the key is not set. */
export type ContextReader = (key: string) => unknown;

export interface LoadConfigOptions {
  /** Context lookup, usually `(key) => app.node.tryGetContext(key)`. */
  readonly context: ContextReader;
  /** Every context key that is set, to catch misspelt keys; omit to skip that check. */
  readonly contextKeys?: readonly string[];
  /** The process environment; only `BUCKET` is read from it, as the seed's build did. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Reads and validates the configuration. Throws {@link ConfigError} with one line naming the keys
 * at fault. Context wins over the `BUCKET` environment variable.
 */
export function loadConfig(options: LoadConfigOptions): LoadTestConfig {
  const ctx = new ContextValues(options.context);
  if (options.contextKeys) rejectUnknownKeys(options.contextKeys);

  const bucketFromEnv = options.env?.BUCKET?.trim() || undefined;
  const artifactBucket = ctx.string(K.bucket) ?? bucketFromEnv;
  if (artifactBucket !== undefined && !PATTERNS.bucket.test(artifactBucket)) {
    throw new ConfigError(`${K.bucket} must be an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens), got "${artifactBucket}"`);
  }

  return {
    pipeline: { ...(artifactBucket !== undefined ? { artifactBucket } : {}), source: readSource(ctx) },
    database: readDatabase(ctx),
    worker: readWorker(ctx),
  };
}

function readSource(ctx: ContextValues): SourceConfig {
  const branch = ctx.string(K.branch) ?? CONFIG_DEFAULTS.branch;
  if (!PATTERNS.branch.test(branch)) throw new ConfigError(`${K.branch} must be a git branch name, got "${branch}"`);
  const connectionArn = ctx.string(K.connectionArn);
  const repository = ctx.string(K.connectionRepository);
  if (connectionArn === undefined && repository === undefined) {
    const repositoryName = ctx.string(K.repositoryName) ?? CONFIG_DEFAULTS.repositoryName;
    if (!PATTERNS.codeCommitName.test(repositoryName)) {
      throw new ConfigError(`${K.repositoryName} must be a CodeCommit repository name (letters, digits, ".", "_", "-"), got "${repositoryName}"`);
    }
    return { kind: 'codecommit', repositoryName, branch };
  }
  if (connectionArn === undefined || repository === undefined) {
    const missing = connectionArn === undefined ? K.connectionArn : K.connectionRepository;
    throw new ConfigError(`a connection source needs ${K.connectionArn} and ${K.connectionRepository}; missing: ${missing}`);
  }
  if (ctx.has(K.repositoryName)) {
    throw new ConfigError(`${K.repositoryName} names a CodeCommit source and conflicts with ${K.connectionArn}; remove one of them`);
  }
  if (!PATTERNS.connectionArn.test(connectionArn)) {
    throw new ConfigError(`${K.connectionArn} must be a CodeStar connection ARN (arn:aws:codeconnections:REGION:ACCOUNT:connection/ID), got "${connectionArn}"`);
  }
  if (!PATTERNS.ownerRepo.test(repository)) {
    throw new ConfigError(`${K.connectionRepository} must be "owner/repo", got "${repository}"`);
  }
  return { kind: 'connection', connectionArn, repository, branch };
}

function readDatabase(ctx: ContextValues): DatabaseConfig {
  const byoGiven = BYO_ONLY.filter((key) => ctx.has(key));
  const databaseName = ctx.string(K.dbName) ?? DEFAULTS.database;
  if (!PATTERNS.databaseName.test(databaseName)) {
    throw new ConfigError(`${K.dbName} must be a PostgreSQL identifier (letters, digits, "_"), got "${databaseName}"`);
  }
  return byoGiven.length > 0 ? readExisting(ctx, byoGiven, databaseName) : readCreate(ctx, databaseName);
}

function readExisting(ctx: ContextValues, byoGiven: readonly string[], databaseName: string): ExistingDatabaseConfig {
  const missing = BYO_REQUIRED.filter((key) => !ctx.has(key));
  if (missing.length > 0) {
    throw new ConfigError(`bring-your-own mode needs ${listOf(BYO_REQUIRED)}; missing: ${missing.join(', ')}`);
  }
  const conflicting = CREATE_ONLY.filter((key) => ctx.has(key));
  if (conflicting.length > 0) {
    throw new ConfigError(
      `${conflicting.join(', ')} ${conflicting.length === 1 ? 'applies' : 'apply'} only when the stacks create the database, ` +
        `but ${byoGiven.join(', ')} select${byoGiven.length === 1 ? 's' : ''} an existing one; remove one or the other`,
    );
  }
  const secretName = ctx.string(K.secretName) as string;
  if (!(PATTERNS.secretArn.test(secretName) || (!secretName.startsWith('arn:') && PATTERNS.secretName.test(secretName)))) {
    throw new ConfigError(`${K.secretName} must be a Secrets Manager secret name (yours, or rds!cluster-... as RDS names the secrets it manages) or its complete ARN, got "${secretName}"`);
  }
  const secretKmsKeyArn = ctx.string(K.secretKmsKey);
  if (secretKmsKeyArn !== undefined && !PATTERNS.kmsKeyArn.test(secretKmsKeyArn)) {
    throw new ConfigError(`${K.secretKmsKey} must be the ARN of the KMS key that encrypts the secret (arn:aws:kms:REGION:ACCOUNT:key/ID; not an alias), got "${secretKmsKeyArn}"`);
  }
  const clusterIdentifier = ctx.string(K.dbClusterIdentifier);
  if (clusterIdentifier !== undefined && !PATTERNS.clusterIdentifier.test(clusterIdentifier)) {
    throw new ConfigError(`${K.dbClusterIdentifier} must be an RDS cluster identifier, got "${clusterIdentifier}"`);
  }
  const vpcId = ctx.string(K.vpcId) as string;
  if (!PATTERNS.vpc.test(vpcId)) throw new ConfigError(`${K.vpcId} must be a VPC id (vpc-...), got "${vpcId}"`);
  return {
    mode: 'existing',
    secretName,
    securityGroupIds: ctx.idList(K.securityGroups, PATTERNS.securityGroup, 'security group ids (sg-...)'),
    subnetIds: ctx.idList(K.subnets, PATTERNS.subnet, 'subnet ids (subnet-...)'),
    vpcId,
    writerEndpoint: ctx.host(K.writerEndpoint) as string,
    readerEndpoint: ctx.host(K.readerEndpoint) as string,
    port: ctx.integer(K.dbPort, 1, 65535) ?? DEFAULTS.port,
    databaseName,
    ...(clusterIdentifier !== undefined ? { clusterIdentifier } : {}),
    ...(secretKmsKeyArn !== undefined ? { secretKmsKeyArn } : {}),
  };
}

function readCreate(ctx: ContextValues, databaseName: string): CreateDatabaseConfig {
  const readerCount = ctx.integer(K.readerCount, 1, MAX_READERS) ?? CONFIG_DEFAULTS.readerCount;
  const engineVersion = ctx.string(K.engineVersion) ?? CONFIG_DEFAULTS.engineVersion;
  if (!PATTERNS.engineVersion.test(engineVersion)) {
    throw new ConfigError(`${K.engineVersion} must be a full Aurora PostgreSQL version such as "${CONFIG_DEFAULTS.engineVersion}", got "${engineVersion}"`);
  }
  const natGateways = ctx.integer(K.natGateways, 0, MAX_AZS) ?? CONFIG_DEFAULTS.natGateways;
  const interfaceEndpoints = ctx.boolean(K.interfaceEndpoints) ?? natGateways === 0;
  if (natGateways === 0 && !interfaceEndpoints) {
    throw new ConfigError(
      `${K.natGateways}=0 with ${K.interfaceEndpoints}=false leaves the worker no way to reach Secrets Manager and CloudWatch; ` +
        `set ${K.interfaceEndpoints}=true or ${K.natGateways} to 1 or more`,
    );
  }
  const capacity = readCapacity(ctx);
  if (capacity.kind === 'serverless' && capacity.minCapacity === 0 && !pausesAtZero(engineVersion)) {
    throw new ConfigError(
      `${K.serverlessMinCapacity}=0 (auto-pause) needs Aurora PostgreSQL ${AUTO_PAUSE_MIN_VERSIONS.join(', ')} or later, got ${K.engineVersion}=${engineVersion}; `
        + `raise ${K.engineVersion} or set ${K.serverlessMinCapacity} to 0.5 or more`,
    );
  }
  return {
    mode: 'create',
    readerCount,
    capacity,
    engineVersion,
    databaseName,
    natGateways,
    interfaceEndpoints,
  };
}

/**
 * The first Aurora PostgreSQL version of each major that scales Serverless v2 to 0 ACUs (auto-pause):
 * "You might need to upgrade your Aurora database engine version to take advantage of this feature"
 * ("Scaling to Zero ACUs with automatic pause and resume for Aurora Serverless v2",
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2-auto-pause.html);
 * with any other version, RDS refuses MinCapacity 0 ("For versions that don't support Aurora
 * Serverless v2 auto-pause, the smallest value that you can use is 0.5", ServerlessV2ScalingConfiguration,
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ServerlessV2ScalingConfiguration.html),
 * and the deploy would fail half-way instead of at synth. Every version of a later major supports it.
 * The versions are those of the feature's launch (AWS Database Blog, "Introducing scaling to 0
 * capacity with Amazon Aurora Serverless v2", November 2024); AWS's own list is the engine
 * versions' ServerlessV2FeaturesSupport.MinCapacity ("If the minimum capacity is 0 ACUs, the engine
 * version ... supports the automatic pause/resume feature", API_ServerlessV2FeaturesSupport):
 * `aws rds describe-db-engine-versions --engine aurora-postgresql --query
 * "DBEngineVersions[?ServerlessV2FeaturesSupport.MinCapacity==\`0\`].EngineVersion"`.
 */
export const AUTO_PAUSE_MIN_VERSIONS = ['13.15', '14.12', '15.7', '16.3'] as const;

/** Whether `engineVersion` (MAJOR.MINOR) supports ServerlessMinCapacity=0. */
export function pausesAtZero(engineVersion: string): boolean {
  const [major, minor] = engineVersion.split('.').map(Number) as [number, number];
  const newest = AUTO_PAUSE_MIN_VERSIONS.at(-1)!.split('.').map(Number) as [number, number];
  if (major > newest[0]) return true;
  const first = AUTO_PAUSE_MIN_VERSIONS.find((v) => Number(v.split('.')[0]) === major);
  return first !== undefined && minor >= Number(first.split('.')[1]);
}

function readCapacity(ctx: ContextValues): InstanceCapacity {
  const instanceClass = ctx.string(K.instanceClass) ?? CONFIG_DEFAULTS.instanceClass;
  const min = ctx.acu(K.serverlessMinCapacity, 0);
  const max = ctx.acu(K.serverlessMaxCapacity, 1);
  if (instanceClass !== 'serverless') {
    const match = PATTERNS.instanceClass.exec(instanceClass);
    if (!match) {
      throw new ConfigError(`${K.instanceClass} must be "serverless" or an instance class such as "r6g.large", got "${instanceClass}"`);
    }
    const given = [min !== undefined ? K.serverlessMinCapacity : '', max !== undefined ? K.serverlessMaxCapacity : ''].filter(Boolean);
    if (given.length > 0) {
      throw new ConfigError(`${given.join(', ')} ${given.length === 1 ? 'applies' : 'apply'} only with ${K.instanceClass}=serverless, got ${K.instanceClass}=${instanceClass}; remove one or the other`);
    }
    return { kind: 'provisioned', instanceClass: match[1] as string };
  }
  const minCapacity = min ?? CONFIG_DEFAULTS.serverlessMinCapacity;
  const maxCapacity = max ?? Math.max(CONFIG_DEFAULTS.serverlessMaxCapacity, minCapacity);
  if (minCapacity > maxCapacity) {
    throw new ConfigError(`${K.serverlessMinCapacity} (${minCapacity}) must not exceed ${K.serverlessMaxCapacity} (${maxCapacity})`);
  }
  return { kind: 'serverless', minCapacity, maxCapacity };
}

function readWorker(ctx: ContextValues): WorkerSettings {
  const metricNamespace = ctx.string(K.metricNamespace) ?? DEFAULTS.metricNamespace;
  if (!PATTERNS.metricNamespace.test(metricNamespace)) {
    throw new ConfigError(`${K.metricNamespace} must be a CloudWatch namespace not starting with "AWS/", got "${metricNamespace}"`);
  }
  const allowedHosts = ctx.list(K.allowedHosts) ?? [];
  const badHost = allowedHosts.find((host) => !LIMITS.hostPattern.test(host));
  // The worker's own rule (handlers/protocol/limits.ts): "host" or "host:port".
  if (badHost !== undefined) throw new ConfigError(`${K.allowedHosts} must be a comma-separated list of host or host:port entries, got "${badHost}"`);
  const maxConcurrency = ctx.integer(K.workerMaxConcurrency, MIN_CONCURRENCY, MAX_CONCURRENCY) ?? CONFIG_DEFAULTS.workerMaxConcurrency;
  const reservedConcurrency = readReservedConcurrency(ctx, maxConcurrency);
  const scale = ctx.integer(K.scale, 1, LIMITS.maxScale) ?? CONFIG_DEFAULTS.scale;
  if (scale > MAX_DEPLOY_SCALE) {
    throw new ConfigError(
      `${K.scale}=${scale} may take longer than the deploy-time init can run (${DEPLOY_INIT_BUDGET_MS / 60_000} min, sized at ` +
        `${(INIT_TIMEOUT.measuredMsPerScale * INIT_TIMEOUT.safetyFactor) / 1000} s per scale unit); set ${K.scale} to ${MAX_DEPLOY_SCALE} or less ` +
        `and load a larger scale with pgbench -i -s ${scale} from a host in the VPC (handlers/README.md)`,
    );
  }
  return {
    maxConcurrency,
    ...(reservedConcurrency !== undefined ? { reservedConcurrency } : {}),
    batchSize: ctx.integer(K.workerBatchSize, 1, MAX_BATCH_SIZE) ?? CONFIG_DEFAULTS.workerBatchSize,
    poolMax: ctx.integer(K.workerPoolMax, 1, 100) ?? DEFAULTS.poolMax,
    metricNamespace,
    allowedHosts: allowedHosts.map((host) => host.toLowerCase()),
    scale,
  };
}

/**
 * A reservation is optional. When given, it must cover the event source's maximum concurrency
 * plus one for the deploy-time init (else Lambda throttles the SQS invocations, "Configuring
 * scaling behavior for SQS event source mappings",
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html), and the account must
 * keep 100 executions unreserved.
 */
function readReservedConcurrency(ctx: ContextValues, maxConcurrency: number): number | undefined {
  if (!ctx.has(K.workerReservedConcurrency)) return undefined;
  const reserved = ctx.integer(K.workerReservedConcurrency, 1, MAX_RESERVED_CONCURRENCY) as number;
  if (reserved < maxConcurrency + 1) {
    throw new ConfigError(
      `${K.workerReservedConcurrency} (${reserved}) must be at least ${K.workerMaxConcurrency} + 1 = ${maxConcurrency + 1}: ` +
        `one execution per worker and one for the deploy-time init; lower ${K.workerMaxConcurrency} or raise the reservation`,
    );
  }
  return reserved;
}

function rejectUnknownKeys(keys: readonly string[]): void {
  const known = new Set<string>(Object.values(CONTEXT_KEYS));
  // Our keys start with a capital letter; CDK's own (feature flags, lookups) do not.
  const unknown = keys.filter((key) => /^[A-Z]/.test(key) && !known.has(key));
  if (unknown.length === 0) return;
  const first = unknown[0] as string;
  const hint = [...known].find((k) => k.toLowerCase() === first.toLowerCase() || k.toLowerCase().startsWith(first.toLowerCase()));
  throw new ConfigError(`unknown context key ${unknown.join(', ')}${hint ? `; did you mean ${hint}?` : ''}`);
}

function listOf(keys: readonly string[]): string {
  return keys.length === 1 ? (keys[0] as string) : `${keys.slice(0, -1).join(', ')} and ${keys[keys.length - 1]}`;
}

/** Typed access to context values, which arrive as strings from `-c` or as JSON values from cdk.json. */
class ContextValues {
  constructor(private readonly read: ContextReader) {}

  /** Set and not blank. */
  has(key: string): boolean {
    const value = this.read(key);
    return value !== undefined && value !== null && !(typeof value === 'string' && value.trim() === '');
  }

  string(key: string): string | undefined {
    if (!this.has(key)) return undefined;
    const value = this.read(key);
    if (typeof value === 'string') return value.trim();
    if (typeof value === 'number') return String(value);
    throw new ConfigError(`${key} must be a string, got ${JSON.stringify(value)}`);
  }

  integer(key: string, min: number, max: number): number | undefined {
    const value = this.number(key);
    if (value === undefined) return undefined;
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new ConfigError(`${key} must be an integer from ${min} to ${max}, got ${JSON.stringify(this.read(key))}`);
    }
    return value;
  }

  /** Aurora capacity units: multiples of 0.5 from `min` to 256. */
  acu(key: string, min: number): number | undefined {
    const value = this.number(key);
    if (value === undefined) return undefined;
    if (!Number.isInteger(value * 2) || value < min || value > 256) {
      throw new ConfigError(`${key} must be a multiple of 0.5 from ${min} to 256, got ${JSON.stringify(this.read(key))}`);
    }
    return value;
  }

  boolean(key: string): boolean | undefined {
    if (!this.has(key)) return undefined;
    const value = this.read(key);
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    throw new ConfigError(`${key} must be true or false, got ${JSON.stringify(value)}`);
  }

  /** Comma-separated string (from `-c`) or JSON array (from cdk.json); empty entries dropped. */
  list(key: string): string[] | undefined {
    if (!this.has(key)) return undefined;
    const value = this.read(key);
    const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : undefined;
    if (!items || items.some((item) => typeof item !== 'string')) {
      throw new ConfigError(`${key} must be a comma-separated list, got ${JSON.stringify(value)}`);
    }
    return (items as string[]).map((item) => item.trim()).filter(Boolean);
  }

  idList(key: string, pattern: RegExp, what: string): string[] {
    const ids = this.list(key) ?? [];
    const bad = ids.find((id) => !pattern.test(id));
    if (ids.length === 0 || bad !== undefined) {
      throw new ConfigError(`${key} must be a comma-separated list of ${what}, got ${JSON.stringify(this.read(key))}`);
    }
    if (new Set(ids).size !== ids.length) throw new ConfigError(`${key} lists the same id twice: ${JSON.stringify(this.read(key))}`);
    return ids;
  }

  host(key: string): string | undefined {
    const host = this.string(key);
    if (host !== undefined && !PATTERNS.host.test(host)) {
      throw new ConfigError(`${key} must be a host name (no scheme, no port), got "${host}"`);
    }
    return host?.toLowerCase();
  }

  private number(key: string): number | undefined {
    if (!this.has(key)) return undefined;
    const value = this.read(key);
    const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
    if (Number.isNaN(n)) throw new ConfigError(`${key} must be a number, got ${JSON.stringify(value)}`);
    return n;
  }
}
